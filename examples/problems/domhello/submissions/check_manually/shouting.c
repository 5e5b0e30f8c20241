/* A person decides: the default checker ignores case, so this passes. */
#include <stdio.h>
int main(void) { puts("HELLO WORLD!"); return 0; }
