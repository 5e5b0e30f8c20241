/* Plain C. @EXPECTED_RESULTS@: CORRECT */
#include <stdio.h>
int main(void) { puts("Hello world!"); return 0; }
