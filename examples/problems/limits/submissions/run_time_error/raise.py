# Raises an exception: a non-zero exit code.
n, k = map(int, input().split())
raise RuntimeError(f"the staircase has {n} steps")
