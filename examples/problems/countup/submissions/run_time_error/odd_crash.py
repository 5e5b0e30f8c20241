# Crashes on an even number: the second pass of every test with an odd number.
x = int(input())
if x % 2 == 0:
    raise SystemExit(4)
print(x + 1)
