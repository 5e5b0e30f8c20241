"""The production sandbox: bubblewrap namespaces, a per-slot uid, rlimits and per-slot cgroups.

See docs/sandbox.md for the whole picture. One run:

1. take a machine-wide slot (``slots.SlotPool``), whose supervisor daemon (``slotd.c``) already
   sits in the slot's cgroups;
2. reclaim what earlier runs left charged to the slot (over ``RECLAIM_ABOVE``), set the slot
   cgroup's limits and reset its counters (``cgroups``);
3. send the supervisor the bwrap command line, the rlimits, the uid, the host paths to stage,
   the stdin path and the program's stdout and stderr; it forks, drops privileges and execs
   bwrap with an empty environment, its options in a file and the seccomp filter on an fd;
4. collect capped stdout/stderr on the event loop while the supervisor enforces wall and CPU
   time and reports; read CPU, peak memory and OOM kills from the cgroup; classify.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import functools
import glob
import hashlib
import itertools
import math
import os
import resource
import shutil
import signal
import stat
import tempfile
import weakref
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from service.evaluator.sandbox.base import (
    MIB,
    Limits,
    Outcome,
    PairResult,
    RunResult,
    RunSpec,
    SandboxUnavailable,
)
from service.evaluator.sandbox.cgroups import (
    CgroupLayout,
    SlotCgroup,
    detect_layout,
    remove_stale,
)
from service.evaluator.sandbox.outcome import Observation, classify
from service.evaluator.sandbox.output import OutputCollector
from service.evaluator.sandbox.slotd import SlotDaemon, SupervisorReport, build_slotd
from service.evaluator.sandbox.slots import SlotPool

_serials = itertools.count()

SLOT_UID_BASE = 1_500_000  # slot n runs as uid/gid SLOT_UID_BASE + n; no passwd entry needed
MAX_SLOTS = 256
SANDBOX_OVERHEAD_PIDS = 3  # bwrap's monitor and init, plus one spare
SANDBOX_OVERHEAD_MEMORY = 4 * MIB  # bwrap's processes and the supervisor, charged to the slot
REPORT_GRACE_SECONDS = 10.0
STATUS_FD = 3  # bwrap's --json-status-fd in the command the supervisor starts
FILTER_FD = 4  # the supervisor's compiled seccomp filter, for bwrap's --seccomp
SANDBOX_TMP = "/tmp"  # noqa: S108 - a path inside the sandbox (its own tmpfs)
SANDBOX_SHM = "/dev/shm"  # noqa: S108 - likewise
DEFAULT_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": SANDBOX_TMP, "LANG": "C.UTF-8"}
ROOT_LINKS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")
# Read-only /etc paths toolchains need, bound when present (globs).
ETC_PATHS = (
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/alternatives",
    "/etc/java-*",
    "/etc/fpc*.cfg",
    "/etc/perl",
    "/etc/localtime",
    "/etc/mono",
    "/etc/ghc",
    "/etc/R",
    "/etc/php",
)
# Read-only toolchain data outside /usr, bound at the same path when present: GHC keeps its
# package database in /var/lib/ghc (/usr/lib/ghc/package.conf.d is a link to it).
DATA_PATHS = ("/var/lib/ghc",)
# Every namespace but the network one is new for each run; the network namespace is the slot
# supervisor's own (see slotd.c), as isolated from the host and from other slots.
# A minimal /dev: the four data devices, the fd links and a tmpfs /dev/shm. Cheaper than
# bwrap's --dev (no devpts instance, fewer mounts); programs need no terminal.
DEV_ARGS = (
    *(
        arg
        for name in ("null", "zero", "random", "urandom", "full")
        for arg in ("--dev-bind", f"/dev/{name}", f"/dev/{name}")
    ),
    *("--symlink", "/proc/self/fd", "/dev/fd"),
    *("--symlink", "/proc/self/fd/0", "/dev/stdin"),
    *("--symlink", "/proc/self/fd/1", "/dev/stdout"),
    *("--symlink", "/proc/self/fd/2", "/dev/stderr"),
)
BWRAP_FLAGS = (
    "--unshare-user",
    "--unshare-ipc",
    "--unshare-pid",
    "--unshare-uts",
    "--unshare-cgroup",
    "--disable-userns",
    "--die-with-parent",
    "--new-session",
    "--hostname",
    "sandbox",
)


def default_state_dir() -> Path:
    """Return /run/verdict when writable (root), else a private directory under the temp dir."""
    run = Path("/run")
    if os.geteuid() == 0 and os.access(run, os.W_OK):
        return run / "verdict"
    return Path(tempfile.gettempdir()) / f"verdict-{os.geteuid()}"


def prepare_state_dir(path: Path) -> Path:
    """Create the state dir owned by us and not writable by others; refuse a foreign one."""
    path.mkdir(mode=0o755, parents=True, exist_ok=True)
    info = os.lstat(path)
    if info.st_uid != os.geteuid() or info.st_mode & 0o022 or path.is_symlink():
        raise SandboxUnavailable(
            f"sandbox state dir {path} must be a directory owned by uid {os.geteuid()} "
            "and writable only by it"
        )
    path.chmod(0o755)
    for parent in path.resolve().parents:
        if not os.stat(parent).st_mode & 0o001:
            raise SandboxUnavailable(
                f"sandbox state dir {path}: {parent} is not searchable by others, and the "
                "sandbox's users must reach the state dir (use e.g. /run/verdict or /tmp/...)"
            )
    return path


def _passwd_and_group() -> dict[str, str]:
    passwd = ["root:x:0:0:root:/root:/bin/sh"]
    group = ["root:x:0:"]
    for slot in range(MAX_SLOTS):
        uid = SLOT_UID_BASE + slot
        passwd.append(f"sandbox{slot}:x:{uid}:{uid}:sandbox:{SANDBOX_TMP}:/bin/sh")
        group.append(f"sandbox{slot}:x:{uid}:")
    return {"passwd": "\n".join(passwd) + "\n", "group": "\n".join(group) + "\n"}


def _copy_entry(source: Path, target: Path) -> None:
    if source.is_symlink():
        target.symlink_to(os.readlink(source))
    elif source.is_dir():
        shutil.copytree(source, target, symlinks=True)
    elif source.is_file():
        shutil.copyfile(source, target)


def _etc_sources() -> list[Path]:
    return [Path(found) for pattern in ETC_PATHS for found in sorted(glob.glob(pattern))]


def _digest_sources(sources: list[Path], texts: dict[str, str]) -> str:
    """Hash what build_etc would copy (names, link targets, contents) without copying it."""
    digest = hashlib.sha256()
    for source in sources:
        entries = [source]
        if source.is_dir() and not source.is_symlink():
            entries += sorted(source.rglob("*"))
        for entry in entries:
            digest.update(str(entry).encode() + b"\0")
            if entry.is_symlink():
                digest.update(b"L" + os.readlink(entry).encode())
            elif entry.is_file():
                digest.update(b"F" + entry.read_bytes())
    for name, text in sorted(texts.items()):
        digest.update(name.encode() + b"\0" + text.encode())
    return digest.hexdigest()[:16]


@functools.cache
def build_etc(state_dir: Path) -> Path:
    """Return a read-only /etc for the sandbox: copies of what toolchains need, and users.

    One bind mount of this directory replaces a dozen of single files (each mount costs time
    in every run). It is content-addressed and checked whenever a process creates its first
    sandbox, so a toolchain installed later is seen by the next service start.
    """
    sources = _etc_sources()
    texts = _passwd_and_group()
    target = state_dir / f"etc-{_digest_sources(sources, texts)}"
    if target.is_dir():
        return target
    partial = Path(tempfile.mkdtemp(prefix=".etc.", dir=state_dir))
    try:
        for source in sources:
            _copy_entry(source, partial / source.name)
        for name, text in texts.items():
            (partial / name).write_text(text)
        for dirpath, _, filenames in os.walk(partial):
            os.chmod(dirpath, 0o755)  # noqa: S103 - the sandbox's uid must read it
            for name in filenames:
                if not (Path(dirpath) / name).is_symlink():
                    os.chmod(Path(dirpath) / name, 0o644)
        try:
            partial.rename(target)
        except OSError:  # another process made it first
            shutil.rmtree(partial)
        return target
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise


def system_binds() -> list[str]:
    """Return bwrap arguments for the read-only system: /usr and the root symlinks.

    /etc comes from the slot supervisor's stage, where it keeps a copy of ``build_etc``'s.
    """
    args = ["--ro-bind", "/usr", "/usr"]
    for name in ROOT_LINKS:
        host = Path("/") / name
        if host.is_symlink():
            args += ["--symlink", os.readlink(host), str(host)]
        elif host.is_dir():
            args += ["--ro-bind", str(host), str(host)]
    for path in DATA_PATHS:
        if os.path.isdir(path) and not os.path.islink(path):
            args += ["--ro-bind", path, path]
    return args


# The pipe ends of the specs being run that are closed already, by id(spec) (specs with a
# list argv are not hashable): each is closed exactly once, never a reused number.
_closed_fds: dict[int, set[str]] = {}


def _close_spec_fds(spec: RunSpec, *, last: bool = False) -> None:
    """Close the pipe ends a spec handed over, once; ``last`` forgets the spec afterwards."""
    if spec.stdin_fd is None and spec.stdout_fd is None:
        return
    done = _closed_fds.setdefault(id(spec), set())
    for name in ("stdin_fd", "stdout_fd"):
        fd = getattr(spec, name)
        if fd is not None and name not in done:
            done.add(name)
            with contextlib.suppress(OSError):
                os.close(fd)
    if last:
        del _closed_fds[id(spec)]


@contextlib.asynccontextmanager
async def _pair_lock(state_dir: Path) -> AsyncIterator[None]:
    """Hold the machine-wide lock under which a pair of slots is taken."""
    fd = os.open(state_dir / "pair.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        delay = 0.002
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                await asyncio.sleep(delay)
                delay = min(delay * 2, 0.05)
        yield
    finally:
        os.close(fd)  # releases the lock


@dataclass
class _Slot:
    cgroup: SlotCgroup
    daemon: SlotDaemon | None = None


class BwrapSandbox:
    """Runs programs under bubblewrap as a per-slot uid, with rlimits and per-slot cgroups."""

    name = "bwrap"
    safe = True

    def __init__(
        self,
        slots: int | None = None,
        *,
        state_dir: Path | None = None,
        bwrap: str | None = None,
        layout: CgroupLayout | None = None,
    ) -> None:
        self.slots = max(1, slots or os.cpu_count() or 1)
        if self.slots > MAX_SLOTS:
            raise SandboxUnavailable(f"at most {MAX_SLOTS} sandbox slots are supported")
        found = bwrap or shutil.which("bwrap") or "/usr/bin/bwrap"
        if not os.access(found, os.X_OK):
            raise SandboxUnavailable(
                "bubblewrap is not installed (no bwrap binary): apt-get install bubblewrap"
            )
        self.bwrap = found
        if os.geteuid() != 0:
            raise SandboxUnavailable(
                "the bwrap sandbox must run as root: it switches each slot to its own uid "
                "and manages cgroups"
            )
        self.state_dir = prepare_state_dir(state_dir or default_state_dir())
        self.layout = layout or detect_layout()
        remove_stale(self.layout)
        _remove_stale_stages(self.state_dir)
        self.supervisor = build_slotd(self.state_dir)
        self._etc = build_etc(self.state_dir)
        self._system = system_binds()
        self._pool = SlotPool(self.state_dir, self.slots)
        self.owner = f"{os.getpid()}.{next(_serials)}"  # names this object's cgroups and stages
        self._slots: dict[int, _Slot] = {}
        # Stop the supervisors and remove the cgroups at exit even if close() is never called:
        # a non-empty cgroup directory would keep the service's own cgroup from being removed.
        self._finalizer = weakref.finalize(self, _close_slots, self._slots, self._pool)

    async def check(self) -> str | None:
        """Run /bin/true in the sandbox; return None when it works, else what went wrong."""
        result = await self.run(RunSpec(argv=["/bin/true"], limits=Limits(wall_time=10.0)))
        if result.ok:
            return None
        detail = result.message or result.stderr.decode(errors="replace").strip()
        return f"sandbox check failed ({result.outcome}): {detail}"

    async def run(self, spec: RunSpec) -> RunResult:
        """Run ``spec`` in a free slot, waiting for one, and report what happened."""
        slot = await self._pool.acquire()
        try:
            return await self._run_in_slot(slot, spec)
        finally:
            self._pool.release(slot)
            _close_spec_fds(spec, last=True)

    async def run_pair(self, first: RunSpec, second: RunSpec) -> PairResult:
        """Run two specs at once in two slots (connected through their pipe fds).

        Both slots are taken under a machine-wide pair lock, so that two pairs never each
        hold one slot while waiting for another.
        """
        if self.slots < 2:
            _close_spec_fds(first, last=True)
            _close_spec_fds(second, last=True)
            error = RunResult(Outcome.SANDBOX_ERROR, message="a pair of runs needs two slots")
            return PairResult(error, error, True)
        slots: list[int] = []
        try:
            async with _pair_lock(self.state_dir):
                slots.append(await self._pool.acquire())
                slots.append(await self._pool.acquire())
            loop = asyncio.get_running_loop()
            ended: dict[int, float] = {}

            async def one(index: int, slot: int, spec: RunSpec) -> RunResult:
                try:
                    return await self._run_in_slot(slot, spec)
                finally:
                    ended[index] = loop.time()
                    _close_spec_fds(spec)

            a, b = await asyncio.gather(one(0, slots[0], first), one(1, slots[1], second))
            if a.ended_us is not None and b.ended_us is not None:
                return PairResult(a, b, a.ended_us <= b.ended_us)  # the supervisors' clock
            return PairResult(a, b, ended[0] <= ended[1])
        finally:
            for slot in slots:
                self._pool.release(slot)
            _close_spec_fds(first, last=True)
            _close_spec_fds(second, last=True)

    async def _daemon(self, index: int) -> tuple[_Slot, SlotDaemon]:
        slot = self._slots.get(index)
        if slot is None:
            slot = self._slots[index] = _Slot(self.layout.slot(self.owner, index))
        if slot.daemon is None or not slot.daemon.running():
            if not self.supervisor.is_file():  # removed by another version's harness
                self.supervisor = await asyncio.to_thread(build_slotd, self.state_dir)
            stage = self.state_dir / f"stage.{self.owner}.{index}"
            daemon = SlotDaemon(self.supervisor, stage, self._etc, slot.cgroup.procs_files)
            slot.daemon = daemon  # held before it starts: close() reaches it even mid-start
            await daemon.start()
        return slot, slot.daemon

    async def _clean(self, index: int) -> None:
        """Reclaim what earlier runs left charged to the slot, or give it fresh cgroups."""
        slot = self._slots.get(index)
        if slot is None or not slot.cgroup.needs_reclaim():
            return
        # Reclaiming a million dentries takes a while: not on the event loop.
        if await asyncio.to_thread(slot.cgroup.reclaim):
            return
        # Charges that cannot be reclaimed stay with the old cgroup, which the supervisor (a
        # member) must leave first; the next run starts a new one in the new cgroup.
        if slot.daemon is not None:
            await asyncio.to_thread(slot.daemon.close)
            slot.daemon = None
        _kill_listed(slot.cgroup)
        slot.cgroup.remove()
        slot.cgroup = self.layout.slot(self.owner, index)
        if slot.cgroup.needs_reclaim():
            raise OSError(f"the slot's fresh cgroup is still charged ({slot.cgroup.procs_files})")

    async def _run_in_slot(self, index: int, spec: RunSpec) -> RunResult:
        limits = spec.limits
        try:
            await self._clean(index)
            slot, daemon = await self._daemon(index)
            slot.cgroup.prepare(
                memory=limits.memory + SANDBOX_OVERHEAD_MEMORY,
                pids=limits.processes + SANDBOX_OVERHEAD_PIDS,
            )
        except (OSError, SandboxUnavailable) as error:
            return RunResult(Outcome.SANDBOX_ERROR, message=f"sandbox slot {index}: {error}")
        uid = SLOT_UID_BASE + index
        opened: list[int] = []
        try:
            try:
                staged, bwrap_args = self._mounts(spec, uid, daemon.stage)
            except OSError as error:
                return RunResult(Outcome.SANDBOX_ERROR, message=f"cannot prepare the run: {error}")
            words = self._words(spec, uid, slot.cgroup, staged, bwrap_args)
            out_r, out_w = os.pipe()
            err_r, err_w = os.pipe()
            opened += [out_w, err_w]
            collector = OutputCollector(
                out_r, err_r, limits.output, limits.stderr, daemon.request_kill
            )
            fds = [out_w, err_w]
            if spec.stdout_fd is not None:
                fds[0] = spec.stdout_fd  # out_w closes unused: the collector sees no output
            if spec.stdin_fd is not None:
                fds.insert(0, spec.stdin_fd)  # three fds: stdin, stdout, stderr
            try:
                daemon.send_run(words, fds)
            except OSError as error:
                daemon.close()
                collector.finish()
                return RunResult(Outcome.SANDBOX_ERROR, message=f"sandbox supervisor: {error}")
            finally:
                for fd in opened:
                    os.close(fd)
                opened.clear()
                _close_spec_fds(spec)  # the program holds them now: EOF reaches the other side
            try:
                report = await daemon.wait_report(limits.wall_time + REPORT_GRACE_SECONDS)
            except asyncio.CancelledError:
                daemon.close()  # ends the run; the slot gets a fresh supervisor next time
                collector.finish()
                _kill_listed(slot.cgroup)
                raise
            stdout, stderr, overflow = collector.finish()
            if not daemon.alive:
                # The supervisor is gone: make sure nothing of the run survives it.
                await _sweep(slot.cgroup)
        finally:
            for fd in opened:
                os.close(fd)
        try:
            usage = slot.cgroup.usage()
        except (OSError, ValueError) as error:
            return RunResult(Outcome.SANDBOX_ERROR, message=f"cannot read the slot cgroup: {error}")
        seen = _observe(report, usage.cpu_us, usage.peak_bytes, usage.oom_killed, overflow, stderr)
        result = classify(seen, limits, stdout, stderr)
        return replace(result, ended_us=report.ended_us or None)

    def _mounts(self, spec: RunSpec, uid: int, stage: Path) -> tuple[list[str], list[str]]:
        """Return the host paths the supervisor stages and the bwrap mount arguments."""
        limits = spec.limits
        extra: list[str] = []
        args = [*self._system, "--ro-bind", str(stage / "etc"), "/etc"]
        args += ["--proc", "/proc", *DEV_ARGS]
        args += ["--size", str(limits.box_size), "--tmpfs", SANDBOX_SHM]
        args += ["--size", str(limits.box_size), "--tmpfs", SANDBOX_TMP]

        def bind(source: Path, target: str, writable: bool) -> None:
            # The supervisor (root) mounts the source on its staging path, for bwrap to bind.
            if not source.exists():
                raise FileNotFoundError(f"bind source {source} does not exist")
            extra.append(str(source.resolve()))
            staged = str(stage / str(len(extra) - 1))
            args.extend(["--bind" if writable else "--ro-bind", staged, target])

        if spec.workdir is None:
            args += ["--size", str(limits.box_size), "--tmpfs", "/box"]
        else:
            _open_up(spec.workdir, uid if spec.workdir_writable else None)
            bind(spec.workdir, "/box", spec.workdir_writable)
        for item in spec.binds:
            if not item.target.startswith("/") or ".." in Path(item.target).parts:
                raise OSError(f"bind target {item.target!r} is not an absolute clean path")
            bind(item.source, item.target, item.writable)
        args += ["--remount-ro", "/"]
        return extra, args

    def _words(
        self,
        spec: RunSpec,
        uid: int,
        cgroup: SlotCgroup,
        staged: Sequence[str],
        bwrap_args: Sequence[str],
    ) -> list[str]:
        """Return the supervisor request: its options, then the bwrap command line."""
        limits = spec.limits
        cpu_backstop = math.ceil(limits.cpu_time) + 1
        rlimits = {
            resource.RLIMIT_CPU: (cpu_backstop, cpu_backstop + 1),
            resource.RLIMIT_NPROC: (limits.processes + SANDBOX_OVERHEAD_PIDS,) * 2,
            resource.RLIMIT_FSIZE: (limits.file_size,) * 2,
            resource.RLIMIT_NOFILE: (limits.open_files,) * 2,
            resource.RLIMIT_CORE: (0, 0),
            resource.RLIMIT_STACK: (limits.stack or limits.memory,) * 2,
        }
        if limits.address_space:
            rlimits[resource.RLIMIT_AS] = (limits.memory,) * 2
        words = ["-u", str(uid), "-g", str(uid), "-w", str(math.ceil(limits.wall_time * 1000))]
        words += ["-c", str(math.ceil(limits.cpu_time * 1000)), "-C", str(cgroup.cpu_file)]
        words += ["-b", str(cgroup.cpu_baseline_us)]
        # The supervisor opens stdin itself: its descriptor then shows no host path. A pipe
        # given as stdin_fd goes to it as the first of three fds instead.
        if spec.stdin_fd is None:
            words += ["-i", os.path.abspath(spec.stdin) if spec.stdin else os.devnull]
        for path in staged:
            words += ["-B", path]
        for number, (soft, hard) in rlimits.items():
            words += ["-r", f"{number}:{soft}:{hard}"]
        options = [*BWRAP_FLAGS, *bwrap_args, "--chdir", spec.cwd, "--clearenv"]
        for key, value in {**DEFAULT_ENV, **spec.env}.items():
            options += ["--setenv", key, value]
        options += ["--json-status-fd", str(STATUS_FD), "--seccomp", str(FILTER_FD)]
        # -a: bwrap reads its options from a file, so that its command line, readable inside
        # the sandbox as /proc/1/cmdline, names no host path (staged binds, the state dir).
        words += ["-j", str(STATUS_FD), "-s", str(FILTER_FD), "-a", str(len(options))]
        words += ["--", self.bwrap, *options]
        return [*words, "--", *spec.argv]

    def leftover_pids(self) -> list[int]:
        """Return the pids left in this sandbox's slot cgroups besides the supervisors (none)."""
        left: list[int] = []
        for slot in self._slots.values():
            daemon = slot.daemon.pid if slot.daemon is not None else None
            for procs in slot.cgroup.procs_files:
                with contextlib.suppress(OSError):
                    left += [int(pid) for pid in procs.read_text().split() if int(pid) != daemon]
        return sorted(set(left))

    def close(self) -> None:
        """Stop the slot supervisors and remove the slot cgroups no run is using."""
        self._finalizer()

    async def aclose(self) -> None:
        """Close without blocking the event loop."""
        await asyncio.to_thread(self.close)


def _kill_listed(cgroup: SlotCgroup) -> int:
    """SIGKILL every process in the slot's cgroups; return how many there were."""
    found = 0
    for procs in cgroup.procs_files:
        with contextlib.suppress(OSError):
            for pid in procs.read_text().split():
                found += 1
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(pid), signal.SIGKILL)
    return found


async def _sweep(cgroup: SlotCgroup, rounds: int = 200) -> None:
    """Kill what is left in a slot whose supervisor died, until the cgroups are empty."""
    for _ in range(rounds):
        if not _kill_listed(cgroup):
            return
        await asyncio.sleep(0.005)


def _close_slots(slots: dict[int, _Slot], pool: SlotPool) -> None:
    """Stop each slot's supervisor, then remove its stage and (idle, empty) cgroups."""
    for index, slot in slots.items():
        if slot.daemon is not None:
            slot.daemon.close()
            slot.daemon.remove_stage()
        if pool.try_lock_idle(index):
            try:
                with contextlib.suppress(OSError):
                    slot.cgroup.remove()
            finally:
                pool.unlock_idle(index)
    slots.clear()
    pool.close()


def _remove_stale_stages(state_dir: Path) -> None:
    """Remove the staging directories of harness processes that no longer exist."""
    for stage in state_dir.glob("stage.*"):
        pid = stage.name.split(".")[1]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(stage, ignore_errors=True)


def _open_up(workdir: Path, owner: int | None) -> None:
    """Let the slot uid use the work dir itself: read it, or own it when it is writable.

    Only the directory is changed; the files in it must be readable by others (umask 022).
    """
    info = os.stat(workdir)
    if owner is not None and (info.st_uid != owner or info.st_gid != owner):
        os.chown(workdir, owner, owner)
    if info.st_mode & 0o755 != 0o755:
        os.chmod(workdir, stat.S_IMODE(info.st_mode) | 0o755)  # noqa: S103 - shared by design


def _observe(
    report: SupervisorReport,
    cpu_us: int,
    peak_bytes: int,
    oom_killed: bool,
    overflow: bool,
    stderr: bytes,
) -> Observation:
    """Combine the supervisor's report and the cgroup's counters into one observation."""
    seen = Observation(
        exit_code=None,
        signal=None,
        cpu_us=cpu_us,
        wall_us=report.wall_us,
        peak_bytes=peak_bytes,
        oom_killed=oom_killed,
        timed_out=report.timed_out,
        cpu_killed=report.cpu_killed,
        output_overflow=overflow and report.error is None,
    )
    if report.error is not None:
        return replace(seen, sandbox_error=report.error)
    code = report.json_exit
    if code is None:
        # bwrap never reported the program's exit: we killed it, the OOM killer did, or
        # bwrap failed to set the sandbox up (its message is the last line of stderr).
        if report.timed_out or report.cpu_killed or report.kill_requested or oom_killed:
            return replace(seen, signal=9)
        lines = stderr.decode(errors="replace").strip().splitlines()
        reason = lines[-1] if lines else f"bwrap wait status {report.wait_status}"
        if reason.startswith("bwrap: execvp") and reason.endswith(os.strerror(errno.ENOMEM)):
            # The program's image does not fit its address space limit (a static array bomb).
            return replace(seen, exit_code=1, oom_killed=True)
        return replace(seen, sandbox_error=f"bwrap failed: {reason}")
    if 128 < code <= 128 + 64:
        return replace(seen, signal=code - 128)
    return replace(seen, exit_code=code)
