"""``unsafe-rlimit``: plain rlimits, no isolation at all. For development machines only.

The program runs as the server's own user, in the host's namespaces: it can read every file the
server can (the database, secrets), use the network, signal or ptrace the server, leave daemons
behind, and its workdir symlinks point at host files. Production refuses this mode.

Paths of the contract are mapped onto the host: ``/box`` becomes the workdir (or a fresh
temporary directory), bind targets become their sources (in ``argv``, ``cwd`` and ``env``
values that start with them; not inside program text). CPU time comes from ``wait4``; peak
memory is the program's own VmHWM polled every 10 ms (approximate, children not counted).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import resource
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from service.evaluator.sandbox.base import RUN_NICENESS, Limits, Outcome, RunResult, RunSpec
from service.evaluator.sandbox.outcome import Observation, classify
from service.evaluator.sandbox.output import CappedPipe

log = logging.getLogger(__name__)

WARNING = (
    "SANDBOX=unsafe-rlimit: submitted programs run WITHOUT isolation (host files, network, "
    "secrets and the server itself are reachable). Use it only on a development machine."
)
DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin"
MEMORY_POLL_SECONDS = 0.01
_warned = False


def warn_once() -> None:
    """Log (and print to stderr) the unsafe-mode warning, once per process."""
    global _warned
    if _warned:
        return
    _warned = True
    log.warning(WARNING)
    print(f"WARNING: {WARNING}", file=sys.stderr)


class UnsafeRlimitSandbox:
    """Runs programs directly with rlimits and a process group; isolates nothing."""

    name = "unsafe-rlimit"
    safe = False

    def __init__(self, slots: int | None = None) -> None:
        self.slots = max(1, slots or os.cpu_count() or 1)
        self._executor = ThreadPoolExecutor(self.slots, thread_name_prefix="unsafe-sandbox")
        self._semaphores: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = {}
        warn_once()

    async def check(self) -> str | None:
        """Run /bin/true; return None when it works, else what went wrong."""
        result = await self.run(RunSpec(argv=["/bin/true"]))
        return None if result.ok else f"sandbox check failed: {result.outcome} {result.message}"

    async def run(self, spec: RunSpec) -> RunResult:
        """Run ``spec`` in a worker thread (at most ``slots`` at once in this process)."""
        loop = asyncio.get_running_loop()
        semaphore = self._semaphores.setdefault(loop, asyncio.Semaphore(self.slots))
        async with semaphore:
            return await loop.run_in_executor(self._executor, _run_blocking, spec)

    def close(self) -> None:
        """Stop the worker threads."""
        self._executor.shutdown(wait=False)

    async def aclose(self) -> None:
        """Close (nothing to wait for)."""
        self.close()


def _host_paths(spec: RunSpec, box: Path) -> dict[str, str]:
    mapping = {str(item.target): str(item.source) for item in spec.binds}
    mapping["/box"] = str(box)
    return dict(sorted(mapping.items(), key=lambda item: -len(item[0])))


def _map(text: str, mapping: dict[str, str]) -> str:
    for target, source in mapping.items():
        if text == target or text.startswith(target + "/"):
            return source + text[len(target) :]
    return text


def _limiter(limits: Limits) -> None:
    cpu = math.ceil(limits.cpu_time) + 1
    os.nice(RUN_NICENESS)
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_size, limits.file_size))
    resource.setrlimit(resource.RLIMIT_NOFILE, (limits.open_files, limits.open_files))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    stack = limits.stack or limits.memory
    resource.setrlimit(resource.RLIMIT_STACK, (stack, stack))
    if limits.address_space:
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory, limits.memory))


def _run_blocking(spec: RunSpec) -> RunResult:
    limits = spec.limits
    with contextlib.ExitStack() as stack:
        box = spec.workdir or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        mapping = _host_paths(spec, box)
        env = {"PATH": DEFAULT_PATH, "HOME": str(box), "LANG": "C.UTF-8"}
        env.update({key: _map(value, mapping) for key, value in spec.env.items()})
        stdin = stack.enter_context(open(spec.stdin or os.devnull, "rb"))
        start = time.monotonic()
        try:
            process = subprocess.Popen(
                [_map(arg, mapping) for arg in spec.argv],
                stdin=stdin,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=_map(spec.cwd, mapping),
                env=env,
                start_new_session=True,
                preexec_fn=lambda: _limiter(limits),
            )
        except OSError as error:
            return RunResult(Outcome.SANDBOX_ERROR, message=f"cannot start {spec.argv[0]}: {error}")
        return _supervise(process, limits, start)


def _high_water_kb(pid: int) -> int:
    """Return the process's peak resident memory (VmHWM), 0 when unknown."""
    try:
        with open(f"/proc/{pid}/status", "rb") as status:
            for line in status:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _supervise(process: subprocess.Popen[bytes], limits: Limits, start: float) -> RunResult:
    assert process.stdout is not None and process.stderr is not None
    stdout = CappedPipe(process.stdout.fileno(), limits.output, stop_at_cap=True)
    stderr = CappedPipe(process.stderr.fileno(), limits.stderr, stop_at_cap=False)
    timed_out = False
    pidfd = os.pidfd_open(process.pid)
    with selectors.DefaultSelector() as selector:
        for pipe in (stdout, stderr):
            selector.register(pipe.fd, selectors.EVENT_READ, pipe)
        selector.register(pidfd, selectors.EVENT_READ, None)
        deadline = start + limits.wall_time
        exited = False
        peak_kb = 0
        while not exited and not stdout.overflow:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                timed_out = True
                break
            peak_kb = max(peak_kb, _high_water_kb(process.pid))
            for key, _ in selector.select(min(remaining, MEMORY_POLL_SECONDS)):
                if key.data is None:
                    exited = True
                elif not key.data.read_available():
                    selector.unregister(key.fd)
    if timed_out or stdout.overflow:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    os.close(pidfd)
    wall_us = int((time.monotonic() - start) * 1_000_000)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # what the program left in its group
    # Drain what is buffered without waiting for end of file (a daemon may hold the pipe).
    if not stdout.overflow:
        stdout.read_available()
    stderr.read_available()
    process.stdout.close()
    process.stderr.close()
    seen = Observation(
        exit_code=os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
        signal=os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
        cpu_us=int((usage.ru_utime + usage.ru_stime) * 1_000_000),
        wall_us=wall_us,
        # Not ru_maxrss: it includes the forking server's own memory.
        peak_bytes=peak_kb * 1024,
        timed_out=timed_out,
        output_overflow=stdout.overflow,
    )
    return classify(seen, limits, bytes(stdout.data), bytes(stderr.data))
