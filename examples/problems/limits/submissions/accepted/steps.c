#include <stdio.h>

int main(void) {
    long long n, k;
    if (scanf("%lld %lld", &n, &k) != 2) return 1;
    printf("%lld\n", 2 * n * k);
    return 0;
}
