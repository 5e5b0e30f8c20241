cat("Hello world!\n")
