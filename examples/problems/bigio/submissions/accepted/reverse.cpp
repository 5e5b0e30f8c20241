#include <iostream>
#include <string>
#include <vector>

int main() {
    std::ios::sync_with_stdio(false);
    std::cin.tie(nullptr);
    int n;
    std::cin >> n;
    std::vector<long long> a(n);
    long long sum = 0;
    for (auto &x : a) {
        std::cin >> x;
        sum += x;
    }
    std::string out = std::to_string(sum) + "\n";
    for (int i = n - 1; i >= 0; --i) {
        out += std::to_string(a[i]);
        out += '\n';
    }
    std::cout << out;
}
