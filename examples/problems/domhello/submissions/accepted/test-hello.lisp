(format t "Hello world!~%")
