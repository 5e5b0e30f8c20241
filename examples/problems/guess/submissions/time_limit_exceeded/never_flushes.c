#include <stdio.h>
/* Forgets to flush: the guess stays in its buffer, and both sides wait for each other
   until the wall clock stops the program. */
int main(void) {
    char answer[16];
    printf("500\n");
    if (scanf("%15s", answer) != 1) return 1;
    return 0;
}
