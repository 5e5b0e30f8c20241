"""What a sandbox is asked to run and what it reports back: the contract every sandbox keeps.

A run either finishes (the program did something: exited, was killed by a signal, hit a
limit) or the sandbox itself failed (``Outcome.SANDBOX_ERROR``): only the former can be blamed
on the submitted program; the latter becomes a judge error and is retried.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB
#: Niceness added to every judged program (slotd.c has the same number): the web server first.
RUN_NICENESS = 10


class SandboxUnavailable(Exception):
    """The requested sandbox mode cannot work on this machine; the message says what is missing."""


class Outcome(enum.StrEnum):
    """How a sandboxed run ended."""

    EXITED = "exited"  # the program exited by itself; see ``exit_code`` (0 or not)
    SIGNALED = "signaled"  # killed by a signal it caused (segfault, abort, ...); see ``signal``
    TIME_LIMIT = "time_limit"  # CPU time limit exceeded
    WALL_TIME_LIMIT = "wall_time_limit"  # wall clock limit exceeded (sleeping, blocked)
    MEMORY_LIMIT = "memory_limit"  # memory limit hit (cgroup OOM kill or allocation failure)
    OUTPUT_LIMIT = "output_limit"  # wrote more than ``Limits.output`` bytes to stdout
    SANDBOX_ERROR = "sandbox_error"  # the sandbox failed, not the program: a judge error


@dataclass(frozen=True)
class Limits:
    """Resource limits of one run; sizes in bytes, times in seconds."""

    cpu_time: float = 2.0
    wall_time: float = 6.0
    memory: int = 256 * MIB
    output: int = 64 * MIB  # stdout bytes kept; more is OUTPUT_LIMIT
    stderr: int = 64 * KIB  # stderr bytes kept; more is silently cut
    file_size: int = 64 * MIB  # RLIMIT_FSIZE: largest file the program may write
    box_size: int = 64 * MIB  # size of the writable tmpfs at /box and at /tmp
    processes: int = 64  # pids in the run's cgroup / RLIMIT_NPROC for the slot uid
    open_files: int = 64  # RLIMIT_NOFILE
    stack: int | None = None  # RLIMIT_STACK; None: as large as ``memory``; RLIM_INFINITY: none
    address_space: bool = True  # also set RLIMIT_AS = memory (off for JVM and V8)


@dataclass(frozen=True)
class Bind:
    """A host path made visible inside the sandbox."""

    source: Path  # on the host
    target: str  # absolute path inside the sandbox
    writable: bool = False


@dataclass(frozen=True)
class RunSpec:
    """One process tree to run in the sandbox.

    The sandbox sees a read-only system (``/usr``, ``/lib``, ``/bin``, ...), an empty writable
    tmpfs at ``/tmp``, and at ``/box`` either an empty writable tmpfs (``workdir`` is None) or
    the host directory ``workdir`` (read-only unless ``workdir_writable``). ``binds`` add more
    paths. ``stdin`` is a host file fed to the program's standard input (else ``/dev/null``).
    ``env`` is the program's whole environment (a minimal PATH, HOME, LANG is added when absent).
    ``stdin_fd`` / ``stdout_fd`` (interactive problems, ``run_pair`` only) give the program a
    pipe end as its standard input or output instead; the sandbox takes them over and closes
    them once the program holds them (then its stdout is not collected).
    """

    argv: Sequence[str]
    limits: Limits = field(default_factory=Limits)
    workdir: Path | None = None
    workdir_writable: bool = False
    binds: Sequence[Bind] = ()
    stdin: Path | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: str = "/box"
    stdin_fd: int | None = None
    stdout_fd: int | None = None


@dataclass(frozen=True)
class PairResult:
    """Two programs run side by side (an interactive submission and its validator)."""

    first: RunResult
    second: RunResult
    first_ended_first: bool  # whether ``first`` ended before ``second``


@dataclass(frozen=True)
class RunResult:
    """What happened in one run. Times in milliseconds, memory in KiB."""

    outcome: Outcome
    exit_code: int | None = None
    signal: int | None = None
    cpu_ms: int = 0
    wall_ms: int = 0
    memory_kb: int = 0
    stdout: bytes = b""
    stderr: bytes = b""
    message: str = ""  # for SANDBOX_ERROR: what failed; otherwise a short human note
    ended_us: int | None = None  # CLOCK_MONOTONIC at its end, where the sandbox knows it

    @property
    def ok(self) -> bool:
        """Return whether the program exited by itself with status 0."""
        return self.outcome is Outcome.EXITED and self.exit_code == 0


class Sandbox(Protocol):
    """Runs programs under limits; at most ``slots`` runs at once across the whole machine."""

    name: str
    slots: int
    safe: bool  # False for modes that do not isolate (development only)

    async def run(self, spec: RunSpec) -> RunResult:
        """Run ``spec`` in a free slot, waiting for one, and report what happened."""
        ...

    async def check(self) -> str | None:
        """Run a trivial program; return None when the sandbox works, else what is wrong."""
        ...
