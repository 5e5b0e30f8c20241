#!/bin/sh
# POSIX sh (dash): the #!/bin/sh line says so.
printf 'Hello world!\n'
