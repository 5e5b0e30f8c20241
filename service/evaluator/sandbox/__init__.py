"""Sandboxes that run untrusted programs: bubblewrap (safe) and plain rlimits (development only)."""

from service.evaluator.sandbox.base import (
    GIB,
    KIB,
    MIB,
    Bind,
    Limits,
    Outcome,
    RunResult,
    RunSpec,
    Sandbox,
)

__all__ = ["GIB", "KIB", "MIB", "Bind", "Limits", "Outcome", "RunResult", "RunSpec", "Sandbox"]
