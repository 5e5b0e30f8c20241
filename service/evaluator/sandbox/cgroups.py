"""One cgroup per sandbox slot, created once and reset between runs; cgroup v1 or v2.

The slot's cgroups live under the harness process's own cgroup (``/proc/self/cgroup``), in
``verdict.<pid>.<serial>/slot-<n>`` (one directory per sandbox object), so they inherit whatever
limits the service runs under and never collide with another sandbox (the machine-wide slot
lock decides who runs where).

v1 (one hierarchy per controller): ``memory`` (``memory.limit_in_bytes``,
``memory.max_usage_in_bytes`` reset to 0 before each run, the ``oom_kill`` counter of
``memory.oom_control``), ``pids`` (``pids.max``) and ``cpuacct`` (``cpuacct.usage``, reset).
v2 (one unified tree): ``memory.max``, ``memory.swap.max``, ``memory.peak`` (reset through the
file descriptor that reads it back, Linux >= 6.12), ``memory.events`` ``oom_kill``,
``pids.max`` and ``cpu.stat`` ``usage_usec`` (CPU time is not reset: the run's share is the
difference).

A run's processes die with it, but not everything they made the kernel charge to the slot:
negative dentries of the names they looked up, inodes, the page cache of files they read or
wrote on the host stay charged to the slot's memory cgroup. A peak reset starts from that
usage, and the next run would have that much less room (the kernel reclaims it at the next
run's expense, in its CPU time). So before a run, when more than ``RECLAIM_ABOVE`` is still
charged, the slot's memory is reclaimed (``reclaim``: v1 ``memory.force_empty``, v2
``memory.reclaim``); when that cannot bring it down, the harness recreates the slot's cgroups.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from service.evaluator.sandbox.base import MIB, SandboxUnavailable

V1_CONTROLLERS = ("memory", "pids", "cpuacct")
V2_CONTROLLERS = ("memory", "pids")
V2_SUBTREE = " ".join(f"+{name}" for name in V2_CONTROLLERS)
# Charges an idle slot may keep between runs (its supervisor's own pages, a little cache); a
# run's peak can be inflated by at most this much. More is reclaimed before the next run.
RECLAIM_ABOVE = 2 * MIB


@dataclass(frozen=True)
class CgroupUsage:
    """What the slot's processes used during one run."""

    cpu_us: int
    peak_bytes: int
    oom_killed: bool


class SlotCgroup(Protocol):
    """The cgroup(s) of one slot."""

    @property
    def procs_files(self) -> list[Path]:
        """Return the ``cgroup.procs`` files a process joins (one per hierarchy)."""
        ...

    @property
    def cpu_file(self) -> Path:
        """Return the file holding the slot's CPU usage (read by the run supervisor)."""
        ...

    @property
    def cpu_baseline_us(self) -> int:
        """Return the CPU usage the cpu file showed when the run was prepared."""
        ...

    def prepare(self, memory: int, pids: int) -> None:
        """Set the limits of the next run and reset its counters."""
        ...

    def usage(self) -> CgroupUsage:
        """Return what the run since ``prepare`` used."""
        ...

    def needs_reclaim(self) -> bool:
        """Return whether earlier runs left more than ``RECLAIM_ABOVE`` charged to the slot."""
        ...

    def reclaim(self) -> bool:
        """Reclaim the charges earlier runs left (slow); return whether the slot is clean now."""
        ...

    def remove(self) -> None:
        """Remove the slot's (empty) cgroups."""
        ...


def _write(path: Path, value: str) -> None:
    # Raw system calls: this runs several times per run, on the hot path.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
    try:
        os.write(fd, value.encode())
    finally:
        os.close(fd)


def _read(path: Path) -> str:
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        return os.read(fd, 65536).decode()
    finally:
        os.close(fd)


def _read_key(path: Path, key: str) -> int:
    """Return the integer after ``key`` in a ``key value`` per line file (0 when absent)."""
    for line in _read(path).splitlines():
        name, _, value = line.partition(" ")
        if name == key:
            return int(value)
    return 0


def _rmdir_tree(path: Path) -> None:
    """Remove an empty cgroup directory and its empty parent ``verdict.<owner>`` if possible."""
    with contextlib.suppress(OSError):
        path.rmdir()
    with contextlib.suppress(OSError):
        path.parent.rmdir()


class CgroupV1Slot:
    """A slot's memory, pids and cpuacct cgroups in cgroup v1 hierarchies."""

    def __init__(self, dirs: dict[str, Path]) -> None:
        self.dirs = dirs
        self._memory_limit = -1
        self._pids_limit = -1
        self._oom_before = 0
        self._cpu_before = 0
        for path in dirs.values():
            path.mkdir(parents=True, exist_ok=True)
        self._memsw = dirs["memory"] / "memory.memsw.limit_in_bytes"
        self._has_memsw = self._memsw.exists()

    @property
    def procs_files(self) -> list[Path]:
        """Return the ``cgroup.procs`` file of each hierarchy."""
        return [path / "cgroup.procs" for path in self.dirs.values()]

    @property
    def cpu_file(self) -> Path:
        """Return ``cpuacct.usage`` (nanoseconds)."""
        return self.dirs["cpuacct"] / "cpuacct.usage"

    @property
    def cpu_baseline_us(self) -> int:
        """Return 0: ``cpuacct.usage`` is reset by ``prepare``."""
        return 0

    def prepare(self, memory: int, pids: int) -> None:
        """Set memory and pids limits (when changed) and reset peak memory and CPU usage."""
        memory_dir = self.dirs["memory"]
        if memory != self._memory_limit:
            limit = memory_dir / "memory.limit_in_bytes"
            # memsw (memory + swap) must stay >= the memory limit at every step: lower the
            # memory limit first, or raise memsw first.
            try:
                _write(limit, str(memory))
            except OSError:
                if not self._has_memsw:
                    raise
                _write(self._memsw, str(memory))
                _write(limit, str(memory))
            if self._has_memsw:
                _write(self._memsw, str(memory))
            self._memory_limit = memory
        if pids != self._pids_limit:
            _write(self.dirs["pids"] / "pids.max", str(pids))
            self._pids_limit = pids
        _write(memory_dir / "memory.max_usage_in_bytes", "0")
        _write(self.cpu_file, "0")
        self._oom_before = _read_key(memory_dir / "memory.oom_control", "oom_kill")

    def needs_reclaim(self) -> bool:
        """Return whether ``memory.usage_in_bytes`` is over ``RECLAIM_ABOVE``."""
        return int(_read(self.dirs["memory"] / "memory.usage_in_bytes")) > RECLAIM_ABOVE

    def reclaim(self) -> bool:
        """Write ``memory.force_empty``: reclaim all it can (the slot holds no run now)."""
        with contextlib.suppress(OSError):
            _write(self.dirs["memory"] / "memory.force_empty", "0")
        return not self.needs_reclaim()

    def usage(self) -> CgroupUsage:
        """Return CPU time, peak memory and whether the OOM killer struck since ``prepare``."""
        memory_dir = self.dirs["memory"]
        return CgroupUsage(
            cpu_us=int(_read(self.cpu_file)) // 1000,
            peak_bytes=int(_read(memory_dir / "memory.max_usage_in_bytes")),
            oom_killed=_read_key(memory_dir / "memory.oom_control", "oom_kill") > self._oom_before,
        )

    def remove(self) -> None:
        """Remove the slot's cgroups (they must be empty)."""
        for path in self.dirs.values():
            _rmdir_tree(path)


class CgroupV2Slot:
    """A slot's leaf cgroup in the unified (v2) hierarchy."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._memory_limit = -1
        self._pids_limit = -1
        self._oom_before = 0
        self._cpu_before = 0
        self._peak_fd: int | None = None
        if not path.parent.is_dir():
            path.parent.mkdir()
            _write(path.parent / "cgroup.subtree_control", V2_SUBTREE)
        path.mkdir(exist_ok=True)

    @property
    def procs_files(self) -> list[Path]:
        """Return the leaf's ``cgroup.procs``."""
        return [self.path / "cgroup.procs"]

    @property
    def cpu_file(self) -> Path:
        """Return ``cpu.stat`` (its ``usage_usec`` line)."""
        return self.path / "cpu.stat"

    @property
    def cpu_baseline_us(self) -> int:
        """Return ``usage_usec`` at ``prepare`` (v2 cannot reset it)."""
        return self._cpu_before

    def prepare(self, memory: int, pids: int) -> None:
        """Set memory (no swap) and pids limits when changed, and reset the peak memory."""
        if memory != self._memory_limit:
            _write(self.path / "memory.max", str(memory))
            swap = self.path / "memory.swap.max"
            if swap.exists():
                _write(swap, "0")
            oom_group = self.path / "memory.oom.group"
            if oom_group.exists():
                _write(oom_group, "1")
            self._memory_limit = memory
        if pids != self._pids_limit:
            _write(self.path / "pids.max", str(pids))
            self._pids_limit = pids
        self._reset_peak()
        self._oom_before = _read_key(self.path / "memory.events", "oom_kill")
        self._cpu_before = _read_key(self.cpu_file, "usage_usec")

    def _reset_peak(self) -> None:
        if self._peak_fd is not None:
            os.close(self._peak_fd)
            self._peak_fd = None
        with contextlib.suppress(OSError):
            fd = os.open(self.path / "memory.peak", os.O_RDWR | os.O_CLOEXEC)
            try:
                # Linux >= 6.12: a write resets the peak seen through this descriptor.
                os.write(fd, b"reset\n")
            except OSError:
                os.close(fd)
                return
            self._peak_fd = fd

    def _peak(self) -> int:
        if self._peak_fd is not None:
            text = os.pread(self._peak_fd, 64, 0).decode()
            if text.strip():
                return int(text)
        try:
            return int((self.path / "memory.peak").read_text())
        except (OSError, ValueError):
            return int((self.path / "memory.current").read_text())

    def _current(self) -> int:
        return int(_read(self.path / "memory.current"))

    def needs_reclaim(self) -> bool:
        """Return whether ``memory.current`` is over ``RECLAIM_ABOVE``."""
        return self._current() > RECLAIM_ABOVE

    def reclaim(self) -> bool:
        """Ask ``memory.reclaim`` (Linux >= 5.19) for everything; False without that file."""
        current = self._current()
        if current <= RECLAIM_ABOVE:
            return True
        reclaim = self.path / "memory.reclaim"
        if not reclaim.exists():
            return False
        # EAGAIN when less than asked could be reclaimed: the check below tells.
        with contextlib.suppress(OSError):
            _write(reclaim, str(current))
        return not self.needs_reclaim()

    def usage(self) -> CgroupUsage:
        """Return CPU time, peak memory and whether the OOM killer struck since ``prepare``."""
        return CgroupUsage(
            cpu_us=_read_key(self.cpu_file, "usage_usec") - self._cpu_before,
            peak_bytes=self._peak(),
            oom_killed=_read_key(self.path / "memory.events", "oom_kill") > self._oom_before,
        )

    def remove(self) -> None:
        """Remove the slot's cgroup (it must be empty)."""
        if self._peak_fd is not None:
            os.close(self._peak_fd)
            self._peak_fd = None
        _rmdir_tree(self.path)


@dataclass(frozen=True)
class CgroupLayout:
    """Where this process's slot cgroups go: v1 per-controller directories or a v2 directory."""

    version: int
    bases: dict[str, Path]  # v1: controller -> own cgroup dir; v2: {"unified": own dir}

    def slot(self, owner: str, index: int) -> SlotCgroup:
        """Create (or reuse) the cgroups of slot ``index`` for the sandbox named ``owner``."""
        leaf = Path(f"verdict.{owner}") / f"slot-{index}"
        if self.version == 1:
            return CgroupV1Slot({name: base / leaf for name, base in self.bases.items()})
        return CgroupV2Slot(self.bases["unified"] / leaf)


def _own_cgroups(proc_cgroup: str) -> dict[str, str]:
    """Map each controller (and ``""`` for v2) to this process's cgroup path."""
    paths: dict[str, str] = {}
    for line in proc_cgroup.splitlines():
        _, controllers, path = line.split(":", 2)
        for name in controllers.split(",") if controllers else [""]:
            paths[name] = path
    return paths


def _v1_mounts(mountinfo: str) -> dict[str, Path]:
    """Map each v1 controller to the mount point of its hierarchy."""
    mounts: dict[str, Path] = {}
    for line in mountinfo.splitlines():
        left, _, right = line.partition(" - ")
        fields = right.split()
        if len(fields) < 3 or fields[0] != "cgroup":
            continue
        mount_point = Path(left.split()[4])
        for option in fields[2].split(","):
            mounts.setdefault(option, mount_point)
    return mounts


def _v2_mount(mountinfo: str) -> Path | None:
    for line in mountinfo.splitlines():
        left, _, right = line.partition(" - ")
        fields = right.split()
        if fields and fields[0] == "cgroup2":
            path = Path(left.split()[4])
            if (path / "cgroup.controllers").exists():
                controllers = (path / "cgroup.controllers").read_text().split()
                if all(name in controllers for name in V2_CONTROLLERS):
                    return path
    return None


def enable_v2_controllers(base: Path) -> None:
    """Enable memory and pids for the children of ``base`` (where slot cgroups go)."""
    enabled = (base / "cgroup.subtree_control").read_text().split()
    if all(name in enabled for name in V2_CONTROLLERS):
        return
    try:
        _write(base / "cgroup.subtree_control", V2_SUBTREE)
    except OSError as error:
        raise SandboxUnavailable(
            f"cannot enable the memory and pids controllers under {base} ({error}); "
            "run the service in a delegated cgroup of its own (systemd: Delegate=yes)"
        ) from error


def detect_layout(
    proc_cgroup: Path = Path("/proc/self/cgroup"),
    mountinfo: Path = Path("/proc/self/mountinfo"),
) -> CgroupLayout:
    """Find where slot cgroups can be created: v1 when its controllers are mounted, else v2."""
    try:
        own = _own_cgroups(proc_cgroup.read_text())
        mounts_text = mountinfo.read_text()
    except OSError as error:
        raise SandboxUnavailable(f"cannot read this process's cgroups: {error}") from error
    v1 = _v1_mounts(mounts_text)
    if all(name in v1 and name in own for name in V1_CONTROLLERS):
        return CgroupLayout(1, {name: v1[name] / own[name].lstrip("/") for name in V1_CONTROLLERS})
    v2 = _v2_mount(mounts_text)
    if v2 is not None and "" in own:
        base = v2 / own[""].lstrip("/")
        enable_v2_controllers(base)
        return CgroupLayout(2, {"unified": base})
    missing = [name for name in V1_CONTROLLERS if name not in v1]
    raise SandboxUnavailable(
        "no usable cgroups: cgroup v1 lacks the "
        + ", ".join(missing)
        + " controller(s) and no cgroup v2 tree offers memory and pids"
    )


def remove_stale(layout: CgroupLayout) -> None:
    """Remove the empty slot cgroups left by harness processes that no longer exist."""
    for base in layout.bases.values():
        with contextlib.suppress(OSError):
            for entry in base.iterdir():
                if not entry.name.startswith("verdict.") or not entry.is_dir():
                    continue
                pid = entry.name.removeprefix("verdict.").split(".")[0]
                if not pid.isdigit() or _alive(int(pid)):
                    continue
                for slot in entry.iterdir():
                    if slot.is_dir():
                        with contextlib.suppress(OSError):
                            slot.rmdir()
                with contextlib.suppress(OSError):
                    entry.rmdir()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
