"""A fake sandbox with canned behaviour, so runner tests need no bubblewrap and no compiler."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from service.evaluator import (
    Outcome,
    RunResult,
    RunSpec,
    Sandbox,
    SandboxUnavailable,
    create_sandbox,
)
from tests.helpers import require_or_skip

#: What a fake program does with its standard input: return the run's result.
Behaviour = Callable[[bytes, RunSpec], RunResult]


def exited(stdout: bytes = b"", code: int = 0, cpu_ms: int = 5, stderr: bytes = b"") -> RunResult:
    """Return a run that exited by itself."""
    return RunResult(
        Outcome.EXITED,
        exit_code=code,
        stdout=stdout,
        stderr=stderr,
        cpu_ms=cpu_ms,
        wall_ms=cpu_ms + 2,
        memory_kb=1000,
    )


def echo(stdin: bytes, spec: RunSpec) -> RunResult:
    """Behave like ``cat``: print the input back."""
    return exited(stdin)


@dataclass
class FakeSandbox:
    """Runs nothing: compiles succeed (or follow ``compiler``), runs follow ``program``.

    A run is a compile when its work dir is writable. ``sandbox_errors`` makes that many next
    runs fail as SANDBOX_ERROR. Every spec is recorded in ``specs``; ``peak`` is the most runs
    in flight at once.
    """

    program: Behaviour = echo
    compiler: Callable[[RunSpec], RunResult] = field(default=lambda spec: exited())
    slots: int = 2
    name: str = "fake"
    safe: bool = True
    sandbox_errors: int = 0
    delay: float | Callable[[bytes], float] = 0.0  # seconds, or a function of the input
    specs: list[RunSpec] = field(default_factory=list)
    peak: int = 0
    _running: int = 0
    _slots: asyncio.Semaphore | None = None

    @property
    def runs(self) -> list[RunSpec]:
        """Return the recorded program runs (not compiles)."""
        return [spec for spec in self.specs if not spec.workdir_writable]

    async def run(self, spec: RunSpec) -> RunResult:
        """Pretend to run ``spec`` in a free slot."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.slots)
        async with self._slots:
            self.specs.append(spec)
            self._running += 1
            self.peak = max(self.peak, self._running)
            try:
                stdin = spec.stdin.read_bytes() if spec.stdin is not None else b""
                await asyncio.sleep(self.delay(stdin) if callable(self.delay) else self.delay)
                if self.sandbox_errors > 0:
                    self.sandbox_errors -= 1
                    return RunResult(Outcome.SANDBOX_ERROR, message="fake failure")
                if spec.workdir_writable:
                    return self.compiler(spec)
                return self.program(stdin, spec)
            finally:
                self._running -= 1

    async def check(self) -> str | None:
        """Report the fake as working."""
        return None


def write_package(
    root: Path,
    tests: Mapping[str, tuple[str, str]],
    *,
    problem_yaml: str = "name: Tiny\n",
    submissions: Mapping[str, str] = {},
    validator: Mapping[str, str] = {},
) -> Path:
    """Write a small problem package: tests by name ("secret/1": (input, answer)), files by path."""
    root.mkdir(parents=True)
    (root / "problem.yaml").write_text(problem_yaml)
    for name, (given, answer) in tests.items():
        path = root / "data" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.with_name(path.name + ".in").write_text(given)
        path.with_name(path.name + ".ans").write_text(answer)
    for relative, text in submissions.items():
        path = root / "submissions" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for relative, text in validator.items():
        path = root / "output_validators" / "checker" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@contextlib.asynccontextmanager
async def real_sandbox(slots: int | None = None) -> AsyncIterator[Sandbox]:
    """Open the real sandbox (mode from env SANDBOX, default bwrap) or skip; close it after."""
    mode = os.environ.get("SANDBOX", "bwrap")
    try:
        sandbox = create_sandbox(mode=mode, slots=slots)
    except SandboxUnavailable as error:
        require_or_skip(False, f"sandbox {mode!r} unavailable here: {error}")
        raise
    try:
        yield sandbox
    finally:
        await sandbox.aclose()
