/* Divides by zero (SIGFPE): k - k is 0. */
#include <stdio.h>

int main(void) {
    volatile int n, k;
    if (scanf("%d %d", (int *)&n, (int *)&k) != 2) return 1;
    printf("%d\n", n / (k - k));
    return 0;
}
