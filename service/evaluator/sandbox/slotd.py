"""The per-slot run supervisor (``slotd.c``): built once with gcc, one daemon per slot in use.

The daemon sits in the slot's cgroups, so a run forked from it is born there: joining cgroup v1
hierarchies from a fresh process costs an RCU grace period (~10 ms per hierarchy) per run,
which is what kept a first prototype under its throughput goal.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from service.evaluator.sandbox.base import SandboxUnavailable

SOURCE = Path(__file__).with_name("slotd.c")
START_TIMEOUT = 10.0
# Another version's supervisor is removed only when this old: during a rolling upgrade, old
# and new harness processes share the state dir and each needs its own binary.
STALE_SUPERVISOR_SECONDS = 24 * 3600


def build_slotd(state_dir: Path) -> Path:
    """Return the compiled supervisor in ``state_dir``, compiling ``slotd.c`` on first use."""
    source = SOURCE.read_bytes()
    target = state_dir / f"verdict-slotd-{hashlib.sha256(source).hexdigest()[:16]}"
    if target.is_file() and os.access(target, os.X_OK):
        return target
    compiler = shutil.which("gcc") or shutil.which("cc")
    if compiler is None:
        raise SandboxUnavailable(
            "the bwrap sandbox builds its small run supervisor (slotd.c) with gcc once: "
            "install gcc (Debian package gcc)"
        )
    partial = state_dir / f".{target.name}.{os.getpid()}"
    errors = ""
    for flags in (["-static"], []):
        done = subprocess.run(
            [compiler, "-O2", *flags, "-o", str(partial), str(SOURCE)],
            capture_output=True,
            text=True,
            check=False,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        )
        if done.returncode == 0:
            break
        errors = done.stderr.strip()
    else:
        raise SandboxUnavailable(f"cannot compile the sandbox supervisor {SOURCE}: {errors}")
    os.chmod(partial, 0o700)
    os.replace(partial, target)
    for old in state_dir.glob("verdict-slotd-*"):
        with contextlib.suppress(OSError):
            if old != target and time.time() - old.stat().st_mtime > STALE_SUPERVISOR_SECONDS:
                old.unlink()  # running copies keep their inode
    return target


@dataclass(frozen=True)
class SupervisorReport:
    """What the supervisor reports about one run."""

    error: str | None = None  # the command could not be started
    wait_status: int = 0  # of the command (bwrap)
    timed_out: bool = False
    cpu_killed: bool = False
    kill_requested: bool = False
    wall_us: int = 0
    json_exit: int | None = None  # bwrap's report of the program's exit (None: never ran)
    children_cpu_us: int = 0
    ended_us: int = 0  # CLOCK_MONOTONIC when the command ended (orders the runs of a pair)


def parse_report(text: str) -> SupervisorReport:
    """Parse the supervisor's one-line answer."""
    kind, _, rest = text.partition(" ")
    if kind == "error":
        return SupervisorReport(error=rest.strip() or "unknown error")
    fields = rest.split()
    if kind != "exit" or len(fields) != 8:
        return SupervisorReport(error=f"unexpected supervisor answer {text!r}")
    status, timed_out, cpu_killed, requested, wall, json_exit, cpu, ended = (int(f) for f in fields)
    return SupervisorReport(
        wait_status=status,
        timed_out=bool(timed_out),
        cpu_killed=bool(cpu_killed),
        kill_requested=bool(requested),
        wall_us=wall,
        json_exit=None if json_exit < 0 else json_exit,
        children_cpu_us=cpu,
        ended_us=ended,
    )


class SlotDaemon:
    """One running supervisor, joined to one slot's cgroups."""

    def __init__(self, binary: Path, stage: Path, etc: Path, procs_files: Sequence[Path]) -> None:
        self.stage = stage
        stage.mkdir(mode=0o755, exist_ok=True)
        self.sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        high = fcntl.fcntl(theirs.fileno(), fcntl.F_DUPFD_CLOEXEC, 10)
        try:
            self.pid = os.posix_spawn(
                str(binary),
                [str(binary), str(stage), str(etc), *(str(path) for path in procs_files)],
                {},
                file_actions=[
                    (os.POSIX_SPAWN_DUP2, high, 3),
                    (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
                    (os.POSIX_SPAWN_OPEN, 1, "/dev/null", os.O_WRONLY, 0),
                ],
            )
        except BaseException:
            self.sock.close()
            raise
        finally:
            os.close(high)
            theirs.close()
        self.sock.setblocking(False)
        self.alive = True

    async def start(self) -> None:
        """Wait for the daemon's ``ready``; raise SandboxUnavailable with its error otherwise.

        Whatever ends the wait early (a cancel included) stops the daemon and closes its socket.
        """
        loop = asyncio.get_running_loop()
        try:
            answer = await asyncio.wait_for(loop.sock_recv(self.sock, 4096), START_TIMEOUT)
        except TimeoutError:
            answer = b"error the sandbox supervisor did not start in time"
        except BaseException:
            self.close()
            raise
        if answer != b"ready":
            self.close()
            text = answer.decode(errors="replace").removeprefix("error ")
            raise SandboxUnavailable(f"sandbox supervisor failed: {text or 'it exited'}")

    def send_run(self, words: Sequence[str], fds: Sequence[int]) -> None:
        """Ask for one run with the program's stdout and stderr (its stdin is in ``words``)."""
        message = b"\0".join(word.encode() for word in words) + b"\0"
        socket.send_fds(self.sock, [message], list(fds))

    async def wait_report(self, patience: float) -> SupervisorReport:
        """Wait for the run's report; kill the daemon and report an error after ``patience`` s."""
        loop = asyncio.get_running_loop()
        try:
            answer = await asyncio.wait_for(loop.sock_recv(self.sock, 4096), patience)
        except TimeoutError:
            self.close()
            return SupervisorReport(error="the sandbox supervisor did not answer in time")
        except OSError as error:
            self.close()
            return SupervisorReport(error=f"lost the sandbox supervisor: {error}")
        if not answer:
            self.close()
            return SupervisorReport(error="the sandbox supervisor exited")
        return parse_report(answer.decode(errors="replace"))

    def running(self) -> bool:
        """Return whether the daemon is still there (reaping it if it died)."""
        if self.alive:
            try:
                pid, _ = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                pid = self.pid
            if pid:
                self.alive = False
                self.sock.close()
        return self.alive

    def request_kill(self) -> None:
        """End the current run now (output overflow)."""
        with contextlib.suppress(OSError):
            self.sock.send(b"kill")

    def close(self) -> None:
        """Stop the daemon (it ends any run in progress) and reap it."""
        if not self.alive:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self.pid, os.WNOHANG)
            return
        self.alive = False
        self.sock.close()
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            try:
                pid, _ = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                return
            if pid:
                return
            time.sleep(0.002)
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)

    def remove_stage(self) -> None:
        """Remove the (unmounted: the daemon is gone) staging entries."""
        shutil.rmtree(self.stage, ignore_errors=True)
