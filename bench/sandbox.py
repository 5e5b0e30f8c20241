"""Sandbox overhead benchmark: bare `python3 -c pass` against the same run in BwrapSandbox.

Run as root on a machine with bubblewrap: `.venv/bin/python bench/sandbox.py [--runs N]`.
Measures, in one run of this script:
- latency: the median wall time of one sequential run, bare spawn vs sandboxed;
- throughput: runs per second with os.cpu_count() runs in flight, bare vs sandboxed.
By default the sandbox gets private slot locks (a temporary state dir), so that other judges
running on the machine do not hold our slots; `--shared-slots` uses the machine-wide ones.
Bare spawns go through asyncio.create_subprocess_exec with piped stdout/stderr (what a harness
without a sandbox would do); sandboxed runs go through BwrapSandbox.run. Goals (DESIGN §7):
latency <= 1.5x bare, throughput >= 0.85x bare.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from service.evaluator import BwrapSandbox, Limits, RunSpec

PROGRAM = ["/usr/bin/python3", "-c", "pass"]
LATENCY_GOAL = 1.5
THROUGHPUT_GOAL = 0.85


async def bare_run() -> None:
    """Spawn the program directly and wait for it."""
    process = await asyncio.create_subprocess_exec(
        *PROGRAM,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={},
    )
    await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"bare run failed: {process.returncode}")


def sandboxed(sandbox: BwrapSandbox) -> Callable[[], Awaitable[None]]:
    """Return a function doing one sandboxed run."""
    spec = RunSpec(argv=PROGRAM, limits=Limits(wall_time=10.0))

    async def run() -> None:
        result = await sandbox.run(spec)
        if not result.ok:
            raise RuntimeError(f"sandboxed run failed: {result}")

    return run


async def latency(run: Callable[[], Awaitable[None]], runs: int) -> float:
    """Return the median seconds of one run, sequentially."""
    for _ in range(3):
        await run()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        await run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


async def throughput(run: Callable[[], Awaitable[None]], runs: int, width: int) -> float:
    """Return runs per second with ``width`` runs in flight."""
    remaining = runs

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await run()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(width)))
    return runs / (time.perf_counter() - start)


async def main() -> int:
    """Measure and print both ratios; return 0 when both goals are met."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100, help="runs per latency measurement")
    parser.add_argument(
        "--shared-slots",
        action="store_true",
        help="use the machine-wide slots (/run/verdict): then other judges' runs wait with ours",
    )
    args = parser.parse_args()
    figures = await measure(args.runs, shared_slots=args.shared_slots)
    latency_ratio = figures.box_latency / figures.bare_latency
    rate_ratio = figures.box_rate / figures.bare_rate
    print(f"program: {' '.join(PROGRAM)}; cores: {figures.width}")
    print(
        f"latency   bare {figures.bare_latency * 1000:6.2f} ms   "
        f"sandboxed {figures.box_latency * 1000:6.2f} ms"
    )
    print(f"  ratio {latency_ratio:.2f}x (goal <= {LATENCY_GOAL}x)")
    print(f"throughput bare {figures.bare_rate:6.1f}/s    sandboxed {figures.box_rate:6.1f}/s")
    print(f"  ratio {rate_ratio:.2f}x (goal >= {THROUGHPUT_GOAL}x)")
    ok = latency_ratio <= LATENCY_GOAL and rate_ratio >= THROUGHPUT_GOAL
    print("goals met" if ok else "goals NOT met")
    return 0 if ok else 1


@dataclass(frozen=True)
class Figures:
    """One measurement: median latency (s) and throughput (runs/s), bare and sandboxed."""

    width: int
    bare_latency: float
    box_latency: float
    bare_rate: float
    box_rate: float


async def measure(runs: int, *, shared_slots: bool = False) -> Figures:
    """Measure latency and throughput of bare and sandboxed runs, interleaved."""
    width = os.cpu_count() or 1
    private = None if shared_slots else Path(tempfile.mkdtemp(prefix="verdict-bench-"))
    sandbox = BwrapSandbox(slots=width, state_dir=private)
    try:
        run = sandboxed(sandbox)
        await asyncio.gather(*(run() for _ in range(width)))  # start every slot's supervisor
        # Interleave the measurements so that machine noise hits both sides alike.
        bare_lat, box_lat, bare_tp, box_tp = [], [], [], []
        for _ in range(2):
            bare_lat.append(await latency(bare_run, runs // 2))
            box_lat.append(await latency(run, runs // 2))
            bare_tp.append(await throughput(bare_run, runs * 2, width))
            box_tp.append(await throughput(run, runs * 2, width))
    finally:
        await sandbox.aclose()
        if private is not None:
            shutil.rmtree(private, ignore_errors=True)
    return Figures(
        width=width,
        bare_latency=statistics.median(bare_lat),
        box_latency=statistics.median(box_lat),
        bare_rate=statistics.median(bare_tp),
        box_rate=statistics.median(box_tp),
    )


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
