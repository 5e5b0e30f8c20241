"""Accept two different positive integers adding up to n (the test's input)."""

import sys


def main() -> int:
    n = int(open(sys.argv[1]).read())
    feedback = sys.argv[3]
    words = sys.stdin.read().split()
    message = ""
    if len(words) != 2 or not all(word.isdigit() for word in words):
        message = "expected two positive integers"
    else:
        a, b = map(int, words)
        if a < 1 or b < 1 or a == b:
            message = f"{a} and {b} must be different and positive"
        elif a + b != n:
            message = f"{a} + {b} = {a + b}, not {n}"
    if message:
        with open(feedback + "judgemessage.txt", "w") as out:
            out.write(message)
        return 43
    return 42


if __name__ == "__main__":
    sys.exit(main())
