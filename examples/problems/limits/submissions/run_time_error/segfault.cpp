// Writes through a null pointer: SIGSEGV.
#include <cstdio>

int main() {
    volatile int *nowhere = nullptr;
    *nowhere = 42;
    std::printf("%d\n", *nowhere);
}
