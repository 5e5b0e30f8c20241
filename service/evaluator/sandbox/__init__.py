"""Sandboxes that run untrusted programs: bubblewrap (safe) and plain rlimits (development only).

``create_sandbox(mode)`` returns one; ``SandboxUnavailable`` says what this machine lacks.
"""

from __future__ import annotations

from pathlib import Path

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
    SandboxUnavailable,
)
from service.evaluator.sandbox.bwrap import BwrapSandbox
from service.evaluator.sandbox.files import UnsafeResultFile, read_result_file
from service.evaluator.sandbox.unsafe import UnsafeRlimitSandbox

MODES = ("bwrap", "unsafe-rlimit")


def create_sandbox(
    mode: str = "bwrap", slots: int | None = None, *, state_dir: Path | None = None
) -> BwrapSandbox | UnsafeRlimitSandbox:
    """Return the sandbox for ``mode``; raise SandboxUnavailable when it cannot work here."""
    if mode == "bwrap":
        return BwrapSandbox(slots, state_dir=state_dir)
    if mode == "unsafe-rlimit":
        return UnsafeRlimitSandbox(slots)
    raise SandboxUnavailable(f"unknown sandbox mode {mode!r}: use one of {', '.join(MODES)}")


__all__ = [
    "GIB",
    "KIB",
    "MIB",
    "MODES",
    "Bind",
    "BwrapSandbox",
    "Limits",
    "Outcome",
    "RunResult",
    "RunSpec",
    "Sandbox",
    "SandboxUnavailable",
    "UnsafeResultFile",
    "UnsafeRlimitSandbox",
    "create_sandbox",
    "read_result_file",
]
