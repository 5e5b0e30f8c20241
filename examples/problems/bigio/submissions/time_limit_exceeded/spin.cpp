// Reads the input, then spins forever on a value the compiler cannot prove useless.
#include <iostream>

int main() {
    int n;
    std::cin >> n;
    volatile unsigned long long x = n;
    for (;;) x = x * 6364136223846793005ULL + 1;
}
