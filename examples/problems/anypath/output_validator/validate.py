#!/usr/bin/env python3
"""Accept any simple path from 1 to n in the input graph; the answer file says if one exists.

Called as: validate.py input answer feedback_dir [flags] < program_output
Exit 42: accepted, 43: wrong answer (reason in feedback_dir/judgemessage.txt).
"""

import sys
from pathlib import Path

ACCEPTED, WRONG = 42, 43


def main() -> int:
    input_path, answer_path, feedback = sys.argv[1], sys.argv[2], Path(sys.argv[3])

    def reject(message: str) -> int:
        (feedback / "judgemessage.txt").write_text(message + "\n")
        return WRONG

    numbers = Path(input_path).read_text().split()
    n, m = int(numbers[0]), int(numbers[1])
    edges = set()
    for i in range(m):
        u, v = int(numbers[2 + 2 * i]), int(numbers[3 + 2 * i])
        edges.add((u, v))
        edges.add((v, u))
    reachable = Path(answer_path).read_text().split()[0] != "-1"

    tokens = sys.stdin.buffer.read(64 << 20).split()
    try:
        values = [int(token) for token in tokens]
    except ValueError:
        return reject("the output holds something that is not an integer")
    if not values:
        return reject("the output is empty")
    if values[0] == -1:
        if len(values) != 1:
            return reject("unexpected output after -1")
        return ACCEPTED if not reachable else reject("a way exists but the output says -1")
    k = values[0]
    if not reachable:
        return reject("no way exists, -1 was expected")
    if k < 2 or k > n or len(values) != k + 1:
        return reject(f"k = {k} but {len(values) - 1} crossings follow")
    path = values[1:]
    if path[0] != 1 or path[-1] != n:
        return reject(f"the way must go from 1 to {n}, not from {path[0]} to {path[-1]}")
    if len(set(path)) != k:
        return reject("the way visits a crossing twice")
    for step, (u, v) in enumerate(zip(path, path[1:]), start=1):
        if (u, v) not in edges:
            return reject(f"step {step}: no street between {u} and {v}")
    return ACCEPTED


if __name__ == "__main__":
    sys.exit(main())
