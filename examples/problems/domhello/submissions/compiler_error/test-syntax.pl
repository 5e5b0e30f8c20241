# @EXPECTED_RESULTS@: COMPILER_ERROR
print "Hello world!\n"
print "again\n";
}
