# Counts the way up only.
n, k = map(int, input().split())
print(n * k)
