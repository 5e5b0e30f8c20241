# Exits with status 3.
gets
exit 3
