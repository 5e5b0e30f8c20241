#include <iostream>

int main() {
    long long n, k;
    std::cin >> n >> k;
    std::cout << 2 * n * k << '\n';
}
