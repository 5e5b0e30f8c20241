# Recursive depth-first search: the long line (20 000 crossings) exceeds Python's recursion limit.
import sys


def main() -> None:
    data = sys.stdin.buffer.read().split()
    n, m = int(data[0]), int(data[1])
    adjacent = [[] for _ in range(n + 1)]
    for i in range(m):
        u, v = int(data[2 + 2 * i]), int(data[3 + 2 * i])
        adjacent[u].append(v)
        adjacent[v].append(u)
    seen = [False] * (n + 1)

    def visit(u: int, path: list[int]) -> list[int] | None:
        seen[u] = True
        path.append(u)
        if u == n:
            return path
        for v in adjacent[u]:
            if not seen[v] and visit(v, path) is not None:
                return path
        path.pop()
        return None

    path = visit(1, [])
    if path is None:
        print(-1)
    else:
        print(len(path))
        print(*path)


main()
