"""Check each pass of Count Up (x + 1) and hand the next number on, three passes in all."""

import os
import sys

PASSES = 3


def main() -> int:
    start = int(open(sys.argv[2]).read())
    feedback = sys.argv[3]
    state = os.path.join(feedback, "pass.txt")
    number = int(open(state).read()) + 1 if os.path.exists(state) else 1
    with open(state, "w") as out:
        out.write(str(number))
    expected = start + number
    given = sys.stdin.read().strip()
    if given != str(expected):
        with open(os.path.join(feedback, "judgemessage.txt"), "a") as out:
            out.write(f"pass {number}: expected {expected}, got {given[:40]!r}\n")
        return 43
    if number < PASSES:
        with open(os.path.join(feedback, "nextpass.in"), "w") as out:
            out.write(f"{expected}\n")
    return 42


if __name__ == "__main__":
    sys.exit(main())
