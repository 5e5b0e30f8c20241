# Prints the last number, not the sum: right on no secret test.
input()
print(input().split()[-1])
