# @EXPECTED_RESULTS@: RUN_TIME_ERROR
import sys
print("Hello world!")
sys.exit(3)
