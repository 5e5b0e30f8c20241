#!/usr/bin/env python3
"""Write the secret tests of bigio: `python3 generators/gen.py` from the package root."""

import random
from pathlib import Path

SECRET = Path(__file__).resolve().parent.parent / "data" / "secret"


def write(name: str, numbers: list[int]) -> None:
    (SECRET / f"{name}.in").write_text(f"{len(numbers)}\n{' '.join(map(str, numbers))}\n")
    lines = [str(sum(numbers)), *map(str, reversed(numbers))]
    (SECRET / f"{name}.ans").write_text("\n".join(lines) + "\n")


def main() -> None:
    rng = random.Random(2026)
    write("01-one", [7])
    write("02-zeros", [0] * 1000)
    write("03-small", [rng.randint(0, 10**9) for _ in range(1000)])
    write("04-max", [10**9] * 100_000)
    write("05-random", [rng.randint(0, 10**9) for _ in range(60_000)])


if __name__ == "__main__":
    main()
