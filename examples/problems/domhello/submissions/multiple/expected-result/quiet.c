/* Prints nothing: expected_result.txt beside it allows that (NO-OUTPUT). */
int main(void) { return 0; }
