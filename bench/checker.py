"""Default output validator speed: a million floats checked, against a bare token split.

Run: `.venv/bin/python bench/checker.py [--numbers N] [--rounds R]`. Prints, in one run, the
median seconds of `check_tokens` with a float tolerance on N numbers written differently from
the answer (so every token goes through the float path), and of the baseline that only splits
both texts and compares the tokens as bytes. The checker's goal: under 10 s for a million
numbers on one core of these machines, and within a small factor of the baseline.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from service.evaluator.validators import check_tokens

TOLERANCE = ("float_tolerance", "1e-6")


def median_seconds(work: Callable[[], object], rounds: int) -> float:
    """Return the median wall time of ``rounds`` calls of ``work``."""
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    """Measure the checker and the baseline on the same texts and print them side by side."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--numbers", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    numbers = [f"{i * 0.001:.6f}" for i in range(options.numbers)]
    answer = ("\n".join(numbers) + "\n").encode()
    output = ("  ".join(n.rstrip("0") for n in numbers) + "\n").encode()
    assert check_tokens(output, answer, TOLERANCE).accepted

    checker = median_seconds(lambda: check_tokens(output, answer, TOLERANCE), options.rounds)
    baseline = median_seconds(lambda: output.split() == answer.split(), options.rounds)
    print(f"{options.numbers:,} numbers, median of {options.rounds}")
    print(f"  check_tokens (float tolerance): {checker:8.3f} s")
    print(f"  baseline (split and compare):   {baseline:8.3f} s")
    print(f"  ratio:                          {checker / baseline:8.1f}x")


if __name__ == "__main__":
    main()
