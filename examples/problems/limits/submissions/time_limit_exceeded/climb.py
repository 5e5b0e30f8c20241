# Climbs step by step and never stops: the loop bound is never reached.
n, k = map(int, input().split())
steps = 0
while steps >= 0:
    steps += 1
print(steps)
