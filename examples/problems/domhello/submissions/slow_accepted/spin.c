/* About 1.1 s of CPU: too slow for the 1 s limit, accepted at 1 s x 2 (the safety margin). */
#include <stdio.h>
#include <time.h>
int main(void) {
    while ((double)clock() / CLOCKS_PER_SEC < 1.1) {
    }
    puts("Hello world!");
    return 0;
}
