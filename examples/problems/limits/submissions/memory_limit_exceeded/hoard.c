/* Allocates and touches 1 GiB, a MiB at a time: four times the memory limit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
    size_t total = 0;
    for (int i = 0; i < 1024; i++) {
        char *block = malloc(1 << 20);
        if (block == NULL) abort();
        memset(block, i, 1 << 20);
        total += block[i];
    }
    printf("%zu\n", total);
    return 0;
}
