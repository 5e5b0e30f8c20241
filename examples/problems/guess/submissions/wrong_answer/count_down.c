#include <stdio.h>
#include <string.h>
/* Guesses 1000, 999, ...: out of guesses for most numbers. */
int main(void) {
    char answer[16];
    for (int guess = 1000; guess > 0; guess--) {
        printf("%d\n", guess);
        fflush(stdout);
        if (scanf("%15s", answer) != 1 || strcmp(answer, "correct") == 0) return 0;
    }
    return 0;
}
