#include <stdio.h>
#include <stdlib.h>

int main(void) {
    int n;
    if (scanf("%d", &n) != 1) return 1;
    long *a = malloc(sizeof(long) * (size_t)n);
    long long sum = 0;
    for (int i = 0; i < n; i++) {
        if (scanf("%ld", &a[i]) != 1) return 1;
        sum += a[i];
    }
    printf("%lld\n", sum);
    for (int i = n - 1; i >= 0; i--) printf("%ld\n", a[i]);
    free(a);
    return 0;
}
