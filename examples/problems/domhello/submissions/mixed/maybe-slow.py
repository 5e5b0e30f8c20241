# A folder of DOMjudge's own: the tag says what is expected.
# @EXPECTED_RESULTS@: WRONG_ANSWER, TIME_LIMIT_EXCEEDED
print("Hello wrld!")
