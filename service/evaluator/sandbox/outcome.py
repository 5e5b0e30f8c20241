"""Turn what was observed about a run into a named outcome: the rules, in one place.

In order, first match wins:

1. the sandbox could not start or lost the program: ``SANDBOX_ERROR`` (a judge error);
2. stdout went over ``Limits.output``: ``OUTPUT_LIMIT``;
3. CPU time over ``Limits.cpu_time`` (cgroup CPU usage, or killed by SIGXCPU from the
   RLIMIT_CPU backstop): ``TIME_LIMIT``;
4. killed at ``Limits.wall_time`` (sleeping, blocked) without using the CPU limit:
   ``WALL_TIME_LIMIT``;
5. the cgroup's OOM killer struck, or the program failed (non-zero exit or a signal) with a
   peak memory of at least ``MEMORY_FAILURE_SHARE`` of ``Limits.memory``, or failed with the
   runtime's out-of-memory report at the end of its stderr (``MemoryError``,
   ``std::bad_alloc``, ``OutOfMemoryError``...: an allocation refused under RLIMIT_AS before the
   peak grew, e.g. one huge array): ``MEMORY_LIMIT``. A program can fake the report, but only
   to turn its own run-time error into a memory verdict;
6. a signal: ``SIGNALED``; otherwise ``EXITED`` with the exit code.
"""

from __future__ import annotations

import signal as signals
from dataclasses import dataclass

from service.evaluator.sandbox.base import Limits, Outcome, RunResult

MEMORY_FAILURE_SHARE = 0.9
OUT_OF_MEMORY_REPORTS = (
    b"MemoryError",
    b"std::bad_alloc",
    b"java.lang.OutOfMemoryError",
    b"JavaScript heap out of memory",
    b"failed to allocate memory",
    b"memory allocation of",
    b"out of memory",
    b"Cannot allocate memory",
)
STDERR_TAIL = 2048


@dataclass(frozen=True)
class Observation:
    """Raw facts about a finished run."""

    exit_code: int | None
    signal: int | None
    cpu_us: int
    wall_us: int
    peak_bytes: int
    oom_killed: bool = False
    timed_out: bool = False
    cpu_killed: bool = False
    output_overflow: bool = False
    sandbox_error: str | None = None


def classify(
    seen: Observation, limits: Limits, stdout: bytes = b"", stderr: bytes = b""
) -> RunResult:
    """Apply the outcome rules of this module to ``seen``."""
    outcome, message = _outcome(seen, limits, stderr[-STDERR_TAIL:])
    return RunResult(
        outcome,
        exit_code=seen.exit_code,
        signal=seen.signal,
        cpu_ms=seen.cpu_us // 1000,
        wall_ms=seen.wall_us // 1000,
        memory_kb=seen.peak_bytes // 1024,
        stdout=stdout,
        stderr=stderr,
        message=message,
    )


def _outcome(seen: Observation, limits: Limits, stderr_tail: bytes) -> tuple[Outcome, str]:
    failed = seen.signal is not None or seen.exit_code != 0
    if seen.sandbox_error is not None:
        return Outcome.SANDBOX_ERROR, seen.sandbox_error
    if seen.output_overflow:
        return Outcome.OUTPUT_LIMIT, f"more than {limits.output} bytes of output"
    if (
        seen.cpu_killed
        or seen.cpu_us > limits.cpu_time * 1_000_000
        or seen.signal == signals.SIGXCPU
    ):
        return Outcome.TIME_LIMIT, f"CPU time over {limits.cpu_time:g} s"
    if seen.timed_out:
        return Outcome.WALL_TIME_LIMIT, f"wall time over {limits.wall_time:g} s"
    if seen.oom_killed or (
        failed
        and (
            seen.peak_bytes >= MEMORY_FAILURE_SHARE * limits.memory
            or any(report in stderr_tail for report in OUT_OF_MEMORY_REPORTS)
        )
    ):
        return Outcome.MEMORY_LIMIT, f"memory over {limits.memory // 1024} KiB"
    if seen.signal is not None:
        return Outcome.SIGNALED, f"killed by signal {seen.signal} ({_signal_name(seen.signal)})"
    return Outcome.EXITED, "" if seen.exit_code == 0 else f"exit code {seen.exit_code}"


def _signal_name(number: int) -> str:
    try:
        return signals.Signals(number).name
    except ValueError:
        return "unknown"
