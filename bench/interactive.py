"""Interactive exchanges: a trivial interactor and submission in the sandbox, against bare pipes.

Run: `.venv/bin/python bench/interactive.py [--exchanges N] [--rounds R]`. Two small C
programs play ping-pong N times (the interactor writes a number, the submission answers it
plus one, each line flushed). Both run as an interactive problem runs them: two bubblewrap
sandboxes joined by pipes (`BwrapSandbox.run_pair`); the baseline is the same pair joined by
bare pipes (`subprocess`). Each side's time per exchange is (time for N exchanges - time for
none) / N, the median of R rounds, so that the sandboxes' start is left out. Goal (DESIGN.md
section 8): the sandboxed exchange within 1.5x of the bare one.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from service.evaluator import create_sandbox
from service.evaluator.programs import make_scratch_dir
from service.evaluator.sandbox.base import Limits, RunSpec

INTERACTOR = r"""
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
    long n = atol(argv[1]), got;
    for (long i = 0; i < n; i++) {
        printf("%ld\n", i);
        fflush(stdout);
        if (scanf("%ld", &got) != 1 || got != i + 1) return 43;
    }
    printf("-1\n");
    fflush(stdout);
    return 42;
}
"""
SUBMISSION = r"""
#include <stdio.h>
int main(void) {
    long i;
    while (scanf("%ld", &i) == 1 && i >= 0) {
        printf("%ld\n", i + 1);
        fflush(stdout);
    }
    return 0;
}
"""
LIMITS = Limits(cpu_time=20.0, wall_time=60.0)


def build(directory: Path) -> tuple[Path, Path]:
    """Compile both programs into ``directory`` (readable by the sandbox's users)."""
    built = []
    for name, source in (("interactor", INTERACTOR), ("submission", SUBMISSION)):
        (directory / f"{name}.c").write_text(source)
        subprocess.run(
            ["gcc", "-O2", "-o", str(directory / name), str(directory / f"{name}.c")],
            check=True,
        )
        os.chmod(directory / name, 0o755)
        built.append(directory / name)
    return built[0], built[1]


def bare(interactor: Path, submission: Path, exchanges: int) -> float:
    """Return the seconds the pair takes over bare pipes."""
    to_submission_r, to_submission_w = os.pipe()
    to_interactor_r, to_interactor_w = os.pipe()
    started = time.perf_counter()
    judge = subprocess.Popen(
        [str(interactor), str(exchanges)], stdin=to_interactor_r, stdout=to_submission_w
    )
    program = subprocess.Popen([str(submission)], stdin=to_submission_r, stdout=to_interactor_w)
    for fd in (to_submission_r, to_submission_w, to_interactor_r, to_interactor_w):
        os.close(fd)
    if (judge.wait(), program.wait()) != (42, 0):
        raise SystemExit("the bare pair did not finish its exchanges")
    return time.perf_counter() - started


async def sandboxed(sandbox: object, directory: Path, exchanges: int) -> float:
    """Return the seconds the pair takes in two sandboxes."""
    to_submission = os.pipe()
    to_interactor = os.pipe()
    program = RunSpec(
        argv=["./submission"],
        limits=LIMITS,
        workdir=directory,
        stdin_fd=to_submission[0],
        stdout_fd=to_interactor[1],
    )
    judge = RunSpec(
        argv=["./interactor", str(exchanges)],
        limits=LIMITS,
        workdir=directory,
        stdin_fd=to_interactor[0],
        stdout_fd=to_submission[1],
    )
    started = time.perf_counter()
    pair = await sandbox.run_pair(program, judge)  # type: ignore[attr-defined]
    elapsed = time.perf_counter() - started
    if (pair.second.exit_code, pair.first.exit_code) != (42, 0):
        raise SystemExit(f"the sandboxed pair did not finish: {pair}")
    return elapsed


async def measure(exchanges: int, rounds: int) -> None:
    """Print the time per exchange of both pairs and their ratio."""
    directory = make_scratch_dir(None, "verdict-bench-")
    sandbox = create_sandbox("bwrap", slots=2)
    try:
        interactor, submission = build(directory)
        bare_times, boxed_times = [], []
        for _ in range(rounds):
            bare_times.append(
                bare(interactor, submission, exchanges) - bare(interactor, submission, 0)
            )
            full = await sandboxed(sandbox, directory, exchanges)
            empty = await sandboxed(sandbox, directory, 0)
            boxed_times.append(full - empty)
        bare_us = statistics.median(bare_times) / exchanges * 1e6
        boxed_us = statistics.median(boxed_times) / exchanges * 1e6
        print(f"{exchanges:,} exchanges, median of {rounds} rounds (start-up left out)")
        print(f"  bare pipes:           {bare_us:8.2f} us per exchange")
        print(f"  two bwrap sandboxes:  {boxed_us:8.2f} us per exchange")
        print(f"  ratio:                {boxed_us / bare_us:8.2f}x (goal <= 1.5x)")
    finally:
        aclose = getattr(sandbox, "aclose", None)
        if aclose is not None:
            await aclose()
        else:
            sandbox.close()
        shutil.rmtree(directory, ignore_errors=True)


def main() -> None:
    """Parse the options and run the measurement."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exchanges", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args()
    asyncio.run(measure(options.exchanges, options.rounds))


if __name__ == "__main__":
    main()
