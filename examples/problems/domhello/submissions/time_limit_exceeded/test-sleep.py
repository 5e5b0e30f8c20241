# Sleeps far past the limit: the wall clock stops it near the limit, as a TLE.
# @EXPECTED_RESULTS@: TIME_LIMIT_EXCEEDED
import time
time.sleep(30)
print("Hello world!")
