"""Nothing a run leaves behind reaches the next run in its slot, nor a run in another slot.

A planting program leaves residue of every kind a process can leave: files in ``/box``,
``/tmp`` and ``/dev/shm``, a daemon in its own session, SysV shared memory, message queue and
semaphore set, a POSIX message queue, a listening abstract Unix socket and an exported
variable. A probing program then looks for each. The probe reports what it found as JSON on
stdout, and every item must come back "absent". These tests hold whatever the sandbox's design
(a namespace per run today, or a slot reused between runs later).
"""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from service.evaluator.sandbox import (
    MIB,
    BwrapSandbox,
    Limits,
    RunSpec,
    SandboxUnavailable,
)
from tests.helpers import require_or_skip

pytestmark = pytest.mark.sandbox

PY = "/usr/bin/python3"
LIMITS = Limits(cpu_time=2.0, wall_time=8.0, memory=128 * MIB, processes=16)
KEY = 0x5EED  # the SysV key both programs use

COMMON = f"""
import ctypes, ctypes.util, json, os, socket, sys, time
libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
KEY = {KEY}
IPC_CREAT = 0o1000
FILES = ["/box/residue", "/tmp/residue", "/dev/shm/residue"]
ABSTRACT = b"\\0verdict-residue"
"""

PLANT = (
    COMMON
    + """
planted = {}
for path in FILES:
    try:
        with open(path, "w") as handle:
            handle.write("residue")
        planted[path] = "planted"
    except OSError as error:
        planted[path] = f"refused: {error.errno}"
planted["shm"] = libc.shmget(KEY, 4096, IPC_CREAT | 0o666)
planted["msg"] = libc.msgget(KEY, IPC_CREAT | 0o666)
planted["sem"] = libc.semget(KEY, 1, IPC_CREAT | 0o666)
libc.mq_open.restype = ctypes.c_int
planted["mq"] = libc.mq_open(b"/verdict-residue", os.O_CREAT | os.O_RDWR, 0o666, None)
listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
listener.bind(ABSTRACT)
listener.listen(1)
planted["socket"] = "listening"
os.environ["VERDICT_RESIDUE"] = "1"
os.putenv("VERDICT_RESIDUE", "1")
hold = float(sys.argv[1]) if len(sys.argv) > 1 else 0.0
if os.fork() == 0:  # a daemon in its own session that would keep the socket open
    os.setsid()
    time.sleep(60)
    os._exit(0)
planted["planted_at"] = time.time()
time.sleep(hold)
planted["left_at"] = time.time()
print(json.dumps(planted), flush=True)
"""
)

PROBE = (
    COMMON
    + """
found = {}
window = float(sys.argv[1]) if len(sys.argv) > 1 else 0.0
started = time.time()
while True:
    for path in FILES:
        if os.path.exists(path):
            found[path] = "present"
    for name, call in (
        ("shm", lambda: libc.shmget(KEY, 0, 0)),
        ("msg", lambda: libc.msgget(KEY, 0)),
        ("sem", lambda: libc.semget(KEY, 0, 0)),
    ):
        if call() != -1:
            found[name] = "present"
    libc.mq_open.restype = ctypes.c_int
    if libc.mq_open(b"/verdict-residue", os.O_RDONLY, 0, None) != -1:
        found["mq"] = "present"
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(ABSTRACT)
        found["socket"] = "present"
    except OSError:
        pass
    finally:
        probe.close()
    others = [
        pid for pid in os.listdir("/proc")
        if pid.isdigit() and int(pid) not in (os.getpid(), 1)
        and open(f"/proc/{pid}/cmdline", "rb").read().split(b"\\0")[0] != b""
    ]
    if others:
        found["processes"] = sorted(
            open(f"/proc/{pid}/cmdline", "rb").read().decode(errors="replace") for pid in others
        )
    if "VERDICT_RESIDUE" in os.environ:
        found["environment"] = "present"
    if time.time() - started >= window:
        break
    time.sleep(0.05)
print(json.dumps({"found": found, "from": started, "to": time.time()}), flush=True)
"""
)


@pytest.fixture
def one_slot() -> Iterator[BwrapSandbox]:
    """A sandbox with a single slot (private slot locks): consecutive runs share that slot."""
    state = Path(tempfile.mkdtemp(prefix="verdict-residue-"))
    try:
        sandbox = BwrapSandbox(slots=1, state_dir=state)
    except SandboxUnavailable as error:
        require_or_skip(False, f"bubblewrap sandbox unavailable: {error}")
        raise
    try:
        yield sandbox
    finally:
        sandbox.close()
        shutil.rmtree(state, ignore_errors=True)


def program(source: str, *args: str) -> RunSpec:
    """Return the spec of one Python run of ``source``."""
    return RunSpec(argv=[PY, "-c", source, *args], limits=LIMITS)


def report(stdout: bytes) -> dict[str, object]:
    """Return the JSON the program printed last."""
    parsed: dict[str, object] = json.loads(stdout.decode().strip().splitlines()[-1])
    return parsed


async def test_a_run_finds_nothing_the_previous_run_in_its_slot_left(
    one_slot: BwrapSandbox,
) -> None:
    planted = await one_slot.run(program(PLANT))
    assert planted.ok, planted
    left = report(planted.stdout)
    assert left["socket"] == "listening"
    assert left["/box/residue"] == "planted" and left["/tmp/residue"] == "planted"

    probed = await one_slot.run(program(PROBE))
    assert probed.ok, probed
    assert report(probed.stdout)["found"] == {}
    assert one_slot.leftover_pids() == []


async def test_many_runs_in_one_slot_each_start_clean(one_slot: BwrapSandbox) -> None:
    for _ in range(3):
        assert (await one_slot.run(program(PLANT))).ok
        probed = await one_slot.run(program(PROBE))
        assert report(probed.stdout)["found"] == {}


async def test_runs_in_two_slots_at_once_cannot_see_each_other(sandbox: BwrapSandbox) -> None:
    # The planter holds its residue for 3 s while the prober looks for 2.5 s; the wall-clock
    # stamps both print (the clock is shared) prove afterwards that the two windows overlapped.
    planter, prober = await asyncio.gather(
        sandbox.run(program(PLANT, "3")), sandbox.run(program(PROBE, "2.5"))
    )
    assert planter.ok, planter
    assert prober.ok, prober
    left, looked = report(planter.stdout), report(prober.stdout)
    assert isinstance(left["planted_at"], float) and isinstance(left["left_at"], float)
    assert isinstance(looked["from"], float) and isinstance(looked["to"], float)
    overlap = min(left["left_at"], looked["to"]) - max(left["planted_at"], looked["from"])
    assert overlap > 0, f"the two runs never ran at the same time: {left}, {looked}"
    assert looked["found"] == {}


async def test_the_probe_finds_every_kind_of_residue_within_one_run(
    one_slot: BwrapSandbox,
) -> None:
    # Planting and probing in the same run: the probe must see everything, or its "absent"
    # above would prove nothing.
    both = await one_slot.run(program(PLANT + PROBE))
    assert both.ok, both
    found = report(both.stdout)["found"]
    assert isinstance(found, dict)
    expected = {"/box/residue", "/tmp/residue", "/dev/shm/residue", "socket", "environment"}
    expected |= {"shm", "msg", "sem", "mq", "processes"}
    assert expected <= set(found), found
