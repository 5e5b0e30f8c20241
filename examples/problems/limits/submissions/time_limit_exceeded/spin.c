/* Spins forever on a volatile counter the compiler cannot remove. */
#include <stdio.h>

int main(void) {
    volatile unsigned long long steps = 0;
    for (;;) steps++;
}
