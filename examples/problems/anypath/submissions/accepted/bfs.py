import sys
from collections import deque


def main() -> None:
    data = sys.stdin.buffer.read().split()
    n, m = int(data[0]), int(data[1])
    adjacent = [[] for _ in range(n + 1)]
    for i in range(m):
        u, v = int(data[2 + 2 * i]), int(data[3 + 2 * i])
        adjacent[u].append(v)
        adjacent[v].append(u)
    previous = [0] * (n + 1)
    previous[1] = -1
    queue = deque([1])
    while queue:
        u = queue.popleft()
        for v in adjacent[u]:
            if not previous[v]:
                previous[v] = u
                queue.append(v)
    if not previous[n]:
        print(-1)
        return
    path = [n]
    while path[-1] != 1:
        path.append(previous[path[-1]])
    print(len(path))
    print(" ".join(map(str, reversed(path))))


main()
