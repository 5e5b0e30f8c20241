# Rotates the numbers forever instead of reversing them once.
import sys

numbers = sys.stdin.read().split()
while True:
    numbers = numbers[1:] + numbers[:1]
