"""Verdicts of a test or a submission, and how a sandbox outcome turns into one."""

from __future__ import annotations

import enum
import signal

from service.evaluator.sandbox.base import Outcome, RunResult


class Verdict(enum.StrEnum):
    """The judgement of one test or of a whole submission."""

    AC = "AC"  # accepted
    WA = "WA"  # wrong answer
    TLE = "TLE"  # time limit exceeded
    MLE = "MLE"  # memory limit exceeded
    RE = "RE"  # run-time error: non-zero exit or a signal
    OLE = "OLE"  # output limit exceeded
    CE = "CE"  # compile error
    JE = "JE"  # judge error: the infrastructure failed, not the program

    @property
    def description(self) -> str:
        """Return the verdict in words."""
        return _DESCRIPTIONS[self]


_DESCRIPTIONS = {
    Verdict.AC: "accepted",
    Verdict.WA: "wrong answer",
    Verdict.TLE: "time limit exceeded",
    Verdict.MLE: "memory limit exceeded",
    Verdict.RE: "run-time error",
    Verdict.OLE: "output limit exceeded",
    Verdict.CE: "compile error",
    Verdict.JE: "judge error",
}

_BY_OUTCOME = {
    Outcome.TIME_LIMIT: Verdict.TLE,
    Outcome.WALL_TIME_LIMIT: Verdict.TLE,
    Outcome.MEMORY_LIMIT: Verdict.MLE,
    Outcome.OUTPUT_LIMIT: Verdict.OLE,
    Outcome.SANDBOX_ERROR: Verdict.JE,
    Outcome.SIGNALED: Verdict.RE,
}


def run_verdict(result: RunResult) -> Verdict | None:
    """Return the verdict a run earns by itself, or None when its output must be checked."""
    if result.outcome is Outcome.EXITED:
        return None if result.exit_code == 0 else Verdict.RE
    return _BY_OUTCOME[result.outcome]


def describe_exit(result: RunResult) -> str:
    """Return a short note on how a failed run ended (exit code or signal name)."""
    if result.outcome is Outcome.SIGNALED and result.signal is not None:
        try:
            name = signal.Signals(result.signal).name
        except ValueError:
            name = f"signal {result.signal}"
        return f"killed by {name}"
    if result.outcome is Outcome.EXITED and result.exit_code:
        return f"exit code {result.exit_code}"
    return result.message
