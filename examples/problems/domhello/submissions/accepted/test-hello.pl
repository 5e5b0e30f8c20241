# Perl: DOMjudge's reading of .pl.
print "Hello world!\n";
