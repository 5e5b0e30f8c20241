"""The judge of Guess the Number: answers each guess, at most 10 of them."""

import sys

MAX_GUESSES = 10


def main() -> int:
    secret = int(open(sys.argv[1]).read())
    feedback = sys.argv[3]

    def reject(message: str) -> int:
        with open(feedback + "judgemessage.txt", "w") as out:
            out.write(message)
        return 43

    for guesses in range(1, MAX_GUESSES + 1):
        line = sys.stdin.readline()
        if not line:
            return reject(f"the program stopped after {guesses - 1} guesses")
        try:
            guess = int(line)
        except ValueError:
            return reject(f"not a number: {line.strip()[:40]!r}")
        if guess == secret:
            print("correct", flush=True)
            return 42
        print("lower" if secret < guess else "higher", flush=True)
    return reject(f"no correct guess in {MAX_GUESSES} tries")


if __name__ == "__main__":
    sys.exit(main())
