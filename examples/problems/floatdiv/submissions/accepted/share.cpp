#include <cstdio>
#include <iostream>

int main() {
    int t;
    std::cin >> t;
    while (t--) {
        long double a, b;
        std::cin >> a >> b;
        std::printf("%.6Le\n", a / b);  // scientific notation is accepted too
    }
}
