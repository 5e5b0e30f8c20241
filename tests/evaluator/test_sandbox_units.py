"""Sandbox pieces that need no bubblewrap: outcome rules, cgroup files, reports, result files."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

from service.evaluator.sandbox import (
    MIB,
    Limits,
    Outcome,
    UnsafeResultFile,
    read_result_file,
)
from service.evaluator.sandbox.cgroups import (
    RECLAIM_ABOVE,
    CgroupLayout,
    CgroupV1Slot,
    CgroupV2Slot,
    detect_layout,
)
from service.evaluator.sandbox.outcome import Observation, classify
from service.evaluator.sandbox.slotd import parse_report
from service.evaluator.sandbox.slots import SlotPool

LIMITS = Limits(cpu_time=1.0, wall_time=3.0, memory=100 * MIB, output=1000)


def seen(**changes: object) -> Observation:
    """Return an observation of a clean exit, with ``changes``."""
    base: dict[str, object] = {
        "exit_code": 0,
        "signal": None,
        "cpu_us": 10_000,
        "wall_us": 20_000,
        "peak_bytes": 5 * MIB,
    }
    base.update(changes)
    return Observation(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("observation", "outcome"),
    [
        (seen(), Outcome.EXITED),
        (seen(exit_code=3), Outcome.EXITED),
        (seen(exit_code=None, signal=11), Outcome.SIGNALED),
        (seen(sandbox_error="bwrap failed", output_overflow=True), Outcome.SANDBOX_ERROR),
        (seen(output_overflow=True, cpu_us=5_000_000), Outcome.OUTPUT_LIMIT),
        (seen(cpu_us=1_000_001), Outcome.TIME_LIMIT),
        (seen(cpu_us=1_000_000), Outcome.EXITED),
        (seen(cpu_killed=True, exit_code=None, signal=9), Outcome.TIME_LIMIT),
        (seen(exit_code=None, signal=signal.SIGXCPU, cpu_us=900_000), Outcome.TIME_LIMIT),
        (seen(timed_out=True, exit_code=None, signal=9, cpu_us=2_000_000), Outcome.TIME_LIMIT),
        (seen(timed_out=True, exit_code=None, signal=9), Outcome.WALL_TIME_LIMIT),
        (seen(oom_killed=True, exit_code=None, signal=9), Outcome.MEMORY_LIMIT),
        (seen(exit_code=1, peak_bytes=95 * MIB), Outcome.MEMORY_LIMIT),
        (seen(exit_code=None, signal=11, peak_bytes=91 * MIB), Outcome.MEMORY_LIMIT),
        (seen(exit_code=0, peak_bytes=99 * MIB), Outcome.EXITED),
        (seen(exit_code=1, peak_bytes=80 * MIB), Outcome.EXITED),
    ],
)
def test_outcome_rules(observation: Observation, outcome: Outcome) -> None:
    assert classify(observation, LIMITS).outcome is outcome


@pytest.mark.parametrize(
    "stderr",
    [b"Traceback...\nMemoryError\n", b"terminate called after 'std::bad_alloc'\n"],
)
def test_out_of_memory_reports_are_memory_limits(stderr: bytes) -> None:
    assert classify(seen(exit_code=1), LIMITS, stderr=stderr).outcome is Outcome.MEMORY_LIMIT
    assert classify(seen(exit_code=0), LIMITS, stderr=stderr).outcome is Outcome.EXITED


def test_classify_reports_units_and_messages() -> None:
    result = classify(seen(exit_code=2, cpu_us=12_345, wall_us=67_890), LIMITS, b"o", b"e")
    assert (result.cpu_ms, result.wall_ms, result.memory_kb) == (12, 67, 5 * 1024)
    assert (result.stdout, result.stderr, result.message) == (b"o", b"e", "exit code 2")
    assert "SIGSEGV" in classify(seen(exit_code=None, signal=11), LIMITS).message


def test_parse_supervisor_reports() -> None:
    report = parse_report("exit 768 0 1 0 123456 3 999 5000000")
    assert report.error is None and report.wait_status == 768
    assert report.cpu_killed and not report.timed_out and not report.kill_requested
    assert (report.wall_us, report.json_exit, report.children_cpu_us) == (123456, 3, 999)
    assert report.ended_us == 5000000  # when it ended, on the supervisors' shared clock
    assert parse_report("exit 9 1 0 0 5 -1 0 7").json_exit is None
    assert parse_report("exit 9 1 0 0 5 -1 0").error is not None  # an older supervisor
    assert parse_report("error exec /x: No such file").error == "exec /x: No such file"
    assert parse_report("garbage").error is not None


# --- cgroups against fake trees ----------------------------------------------------------


def fake_v1(root: Path) -> dict[str, Path]:
    """Create v1 slot directories with the files the kernel would provide."""
    dirs = {name: root / name / "verdict.1.0" / "slot-0" for name in ("memory", "pids", "cpuacct")}
    for path in dirs.values():
        path.mkdir(parents=True)
    (dirs["memory"] / "memory.limit_in_bytes").write_text("9223372036854771712\n")
    (dirs["memory"] / "memory.oom_control").write_text("oom_kill_disable 0\noom_kill 2\n")
    (dirs["memory"] / "memory.max_usage_in_bytes").write_text("123\n")
    (dirs["cpuacct"] / "cpuacct.usage").write_text("999\n")
    return dirs


def test_cgroup_v1_prepare_and_usage(tmp_path: Path) -> None:
    dirs = fake_v1(tmp_path)
    slot = CgroupV1Slot(dirs)
    slot.prepare(memory=64 * MIB, pids=10)
    assert (dirs["memory"] / "memory.limit_in_bytes").read_text() == str(64 * MIB)
    assert (dirs["pids"] / "pids.max").read_text() == "10"
    assert (dirs["memory"] / "memory.max_usage_in_bytes").read_text() == "0"
    assert (dirs["cpuacct"] / "cpuacct.usage").read_text() == "0"
    assert slot.cpu_baseline_us == 0
    (dirs["cpuacct"] / "cpuacct.usage").write_text("2500000000\n")
    (dirs["memory"] / "memory.max_usage_in_bytes").write_text(f"{50 * MIB}\n")
    usage = slot.usage()
    assert (usage.cpu_us, usage.peak_bytes, usage.oom_killed) == (2_500_000, 50 * MIB, False)
    (dirs["memory"] / "memory.oom_control").write_text("oom_kill_disable 0\noom_kill 3\n")
    assert slot.usage().oom_killed
    assert slot.procs_files == [path / "cgroup.procs" for path in dirs.values()]


def test_cgroup_v1_memsw_follows_the_memory_limit(tmp_path: Path) -> None:
    dirs = fake_v1(tmp_path)
    (dirs["memory"] / "memory.memsw.limit_in_bytes").write_text("9223372036854771712\n")
    slot = CgroupV1Slot(dirs)
    slot.prepare(memory=64 * MIB, pids=10)
    assert (dirs["memory"] / "memory.memsw.limit_in_bytes").read_text() == str(64 * MIB)


def test_cgroup_v1_reclaims_what_runs_left_charged(tmp_path: Path) -> None:
    dirs = fake_v1(tmp_path)
    usage = dirs["memory"] / "memory.usage_in_bytes"
    usage.write_text(f"{RECLAIM_ABOVE}\n")
    slot = CgroupV1Slot(dirs)
    assert not slot.needs_reclaim()
    usage.write_text(f"{50 * MIB}\n")
    assert slot.needs_reclaim()
    assert not slot.reclaim()  # a fake tree frees nothing: the harness recreates the cgroup
    assert (dirs["memory"] / "memory.force_empty").read_text() == "0"
    usage.write_text(f"{MIB}\n")
    assert slot.reclaim()


def fake_v2(root: Path) -> Path:
    """Create a v2 tree: the service's own cgroup with memory and pids available."""
    base = root / "system.slice" / "verdict.service"
    base.mkdir(parents=True)
    (root / "cgroup.controllers").write_text("cpuset cpu io memory hugetlb pids rdma\n")
    (base / "cgroup.subtree_control").write_text("")
    return base


def test_cgroup_v2_prepare_and_usage(tmp_path: Path) -> None:
    base = fake_v2(tmp_path)
    layout = CgroupLayout(2, {"unified": base})
    slot = layout.slot("7.0", 1)
    assert isinstance(slot, CgroupV2Slot)
    leaf = base / "verdict.7.0" / "slot-1"
    assert (base / "verdict.7.0" / "cgroup.subtree_control").read_text() == "+memory +pids"
    (leaf / "memory.events").write_text("low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n")
    (leaf / "cpu.stat").write_text("usage_usec 5000\nuser_usec 4000\nsystem_usec 1000\n")
    (leaf / "memory.swap.max").write_text("max\n")
    (leaf / "memory.peak").write_text("0\n")
    slot.prepare(memory=64 * MIB, pids=12)
    assert (leaf / "memory.max").read_text() == str(64 * MIB)
    assert (leaf / "memory.swap.max").read_text() == "0"
    assert (leaf / "pids.max").read_text() == "12"
    assert slot.cpu_baseline_us == 5000
    assert slot.cpu_file == leaf / "cpu.stat"
    (leaf / "cpu.stat").write_text("usage_usec 1505000\nuser_usec 1\nsystem_usec 1\n")
    (leaf / "memory.peak").write_text(f"{30 * MIB}\n")
    usage = slot.usage()
    assert (usage.cpu_us, usage.peak_bytes, usage.oom_killed) == (1_500_000, 30 * MIB, False)
    (leaf / "memory.events").write_text("oom 2\noom_kill 2\n")
    assert slot.usage().oom_killed
    slot.remove()


def test_cgroup_v2_reclaims_through_memory_reclaim_when_the_kernel_has_it(
    tmp_path: Path,
) -> None:
    slot = CgroupLayout(2, {"unified": fake_v2(tmp_path)}).slot("7.0", 1)
    assert isinstance(slot, CgroupV2Slot)
    (slot.path / "memory.current").write_text(f"{50 * MIB}\n")
    assert slot.needs_reclaim()
    assert not slot.reclaim()  # Linux < 5.19: no memory.reclaim, the cgroup must be recreated
    assert not (slot.path / "memory.reclaim").exists()
    (slot.path / "memory.reclaim").write_text("")
    assert not slot.reclaim()
    assert (slot.path / "memory.reclaim").read_text() == str(50 * MIB)
    (slot.path / "memory.current").write_text(f"{MIB}\n")
    assert not slot.needs_reclaim() and slot.reclaim()
    slot.remove()


def test_detect_v1_from_proc_files(tmp_path: Path) -> None:
    (tmp_path / "cgroup").write_text(
        "9:name=systemd:/\n8:pids:/\n4:memory:/process_api/abc\n2:cpuacct:/\n1:cpu:/\n0::/\n"
    )
    (tmp_path / "mountinfo").write_text(
        "30 25 0:26 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
        "31 25 0:27 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n"
        "32 25 0:28 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
    )
    layout = detect_layout(tmp_path / "cgroup", tmp_path / "mountinfo")
    assert layout.version == 1
    assert layout.bases == {
        "memory": Path("/sys/fs/cgroup/memory/process_api/abc"),
        "pids": Path("/sys/fs/cgroup/pids"),
        "cpuacct": Path("/sys/fs/cgroup/cpu,cpuacct"),
    }


def test_detect_v2_from_proc_files(tmp_path: Path) -> None:
    mount = tmp_path / "unified"
    base = fake_v2(mount)
    (tmp_path / "cgroup").write_text("0::/system.slice/verdict.service\n")
    (tmp_path / "mountinfo").write_text(f"30 25 0:26 / {mount} rw - cgroup2 cgroup2 rw\n")
    layout = detect_layout(tmp_path / "cgroup", tmp_path / "mountinfo")
    assert layout == CgroupLayout(2, {"unified": base})
    assert (base / "cgroup.subtree_control").read_text() == "+memory +pids"


def test_detect_without_cgroups_says_what_is_missing(tmp_path: Path) -> None:
    from service.evaluator.sandbox import SandboxUnavailable

    (tmp_path / "cgroup").write_text("0::/\n")
    (tmp_path / "mountinfo").write_text("")
    with pytest.raises(SandboxUnavailable, match="memory, pids, cpuacct"):
        detect_layout(tmp_path / "cgroup", tmp_path / "mountinfo")


# --- result files ------------------------------------------------------------------------


def test_read_result_file(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "a.txt").write_bytes(b"data")
    assert read_result_file(tmp_path, "out/a.txt", 10) == b"data"
    (tmp_path / "big").write_bytes(b"x" * 11)
    (tmp_path / "link").symlink_to(tmp_path / "out" / "a.txt")
    (tmp_path / "dirlink").symlink_to(tmp_path / "out")
    os.mkfifo(tmp_path / "fifo")
    for name in ("big", "link", "dirlink/a.txt", "fifo", "out", "../x", "/etc/passwd", "none"):
        with pytest.raises(UnsafeResultFile):
            read_result_file(tmp_path, name, 10)


# --- slots -------------------------------------------------------------------------------


async def test_slot_pool_hands_out_each_slot_once(tmp_path: Path) -> None:
    pool = SlotPool(tmp_path, 2)
    first, second = await pool.acquire(), await pool.acquire()
    assert {first, second} == {0, 1}
    waiting = asyncio.create_task(pool.acquire())
    await asyncio.sleep(0.01)
    assert not waiting.done()
    pool.release(first)
    assert await waiting == first
    pool.release(first)
    pool.release(second)
    pool.close()


async def test_slot_pool_respects_other_processes(tmp_path: Path) -> None:
    ours, theirs = SlotPool(tmp_path, 1), SlotPool(tmp_path, 1)
    held = await theirs.acquire()
    waiting = asyncio.create_task(ours.acquire())
    await asyncio.sleep(0.05)
    assert not waiting.done()  # flock: another open file description holds slot 0
    theirs.release(held)
    assert await asyncio.wait_for(waiting, 1) == 0
    ours.release(0)
    ours.close()
    theirs.close()
