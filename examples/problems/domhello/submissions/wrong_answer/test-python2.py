# Python 2: reported skipped, there is no Python 2 here.
print "Hello world!"
