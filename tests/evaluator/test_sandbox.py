"""Behaviour of the real bubblewrap sandbox: what a program sees, gets and is reported."""

from __future__ import annotations

import asyncio
import gc
import json
import os
import shutil
import signal
import tempfile
import time
import warnings
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from service.evaluator.languages import known_language, offered_ids
from service.evaluator.programs import (
    build_program,
    make_readable_dir,
    make_scratch_dir,
    run_limits,
    run_program,
)
from service.evaluator.sandbox import (
    MIB,
    Bind,
    BwrapSandbox,
    Limits,
    Outcome,
    RunSpec,
    SandboxUnavailable,
    create_sandbox,
)
from service.evaluator.sandbox.cgroups import CgroupV1Slot, CgroupV2Slot
from tests.helpers import require_or_skip

pytestmark = pytest.mark.sandbox
PY = "/usr/bin/python3"
FAST = Limits(cpu_time=1.0, wall_time=3.0)


def py(code: str, limits: Limits = FAST, **kwargs: object) -> RunSpec:
    """Return a spec running Debian's python3 on ``code``."""
    return RunSpec(argv=[PY, "-c", code], limits=limits, **kwargs)  # type: ignore[arg-type]


def shared_dir(path: Path) -> Path:
    """Make a test directory readable by the sandbox's slot uids."""
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o755)
    return path


async def test_check_passes(sandbox: BwrapSandbox) -> None:
    assert await sandbox.check() is None
    assert sandbox.safe and sandbox.name == "bwrap"


async def test_exit_code_stdout_stderr(sandbox: BwrapSandbox) -> None:
    result = await sandbox.run(
        py("import sys; print('out'); print('err', file=sys.stderr); sys.exit(3)")
    )
    assert result.outcome is Outcome.EXITED
    assert result.exit_code == 3 and not result.ok
    assert result.stdout == b"out\n" and result.stderr == b"err\n"
    assert result.wall_ms > 0 and result.cpu_ms > 0 and result.memory_kb > 0


async def test_stdin_is_fed_from_a_file(sandbox: BwrapSandbox, tmp_path: Path) -> None:
    given = tmp_path / "input.txt"
    given.write_text("3 4\n")
    result = await sandbox.run(py("a, b = map(int, input().split()); print(a * b)", stdin=given))
    assert result.ok and result.stdout == b"12\n"


async def test_stdin_defaults_to_empty(sandbox: BwrapSandbox) -> None:
    result = await sandbox.run(py("import sys; print(repr(sys.stdin.read()))"))
    assert result.stdout == b"''\n"


async def test_environment_is_minimal_plus_spec(sandbox: BwrapSandbox) -> None:
    result = await sandbox.run(
        py("import os, json; print(json.dumps(dict(os.environ)))", env={"EXTRA": "1"})
    )
    env = json.loads(result.stdout)
    assert env["EXTRA"] == "1"
    assert env["PATH"] == "/usr/local/bin:/usr/bin:/bin"
    assert env["LANG"] == "C.UTF-8" and env["HOME"] == "/tmp"
    assert set(env) <= {"EXTRA", "PATH", "LANG", "HOME", "PWD", "LC_CTYPE"}


async def test_runs_as_an_unprivileged_slot_user(sandbox: BwrapSandbox) -> None:
    result = await sandbox.run(py("import os; print(os.getuid(), os.getgid(), os.getgroups())"))
    uid, gid, groups = result.stdout.decode().split(" ", 2)
    assert int(uid) >= 1_500_000 and uid == gid
    assert groups.strip() in ("[]", f"[{gid}]")


async def test_programs_run_below_the_web_servers_priority(sandbox: BwrapSandbox) -> None:
    result = await sandbox.run(py("import os; print(os.nice(0))"))
    assert result.ok
    assert int(result.stdout) == os.nice(0) + 10


async def test_box_and_tmp_are_writable_tmpfs(sandbox: BwrapSandbox) -> None:
    code = (
        "open('/box/a', 'w').write('x'); open('/tmp/b', 'w').write('y');"
        "import os; print(os.getcwd(), sorted(os.listdir('/box')))"
    )
    result = await sandbox.run(py(code))
    assert result.ok, result
    assert result.stdout == b"/box ['a']\n"


async def test_read_only_workdir(sandbox: BwrapSandbox, tmp_path: Path) -> None:
    work = shared_dir(tmp_path / "work")
    (work / "data.txt").write_text("hello")
    code = "print(open('/box/data.txt').read());open('/box/new', 'w')"
    result = await sandbox.run(py(code, workdir=work))
    assert result.outcome is Outcome.EXITED and result.exit_code == 1
    assert result.stdout == b"hello\n"
    assert b"Read-only file system" in result.stderr
    assert sorted(os.listdir(work)) == ["data.txt"]


async def test_writable_workdir_keeps_results(sandbox: BwrapSandbox, tmp_path: Path) -> None:
    work = shared_dir(tmp_path / "work")
    result = await sandbox.run(
        py("open('/box/out.txt', 'w').write('made')", workdir=work, workdir_writable=True)
    )
    assert result.ok, result
    assert (work / "out.txt").read_text() == "made"


async def test_binds_are_read_only_unless_writable(sandbox: BwrapSandbox, tmp_path: Path) -> None:
    ro = shared_dir(tmp_path / "ro")
    (ro / "f").write_text("data")
    rw = shared_dir(tmp_path / "rw")
    rw.chmod(0o777)
    code = (
        "print(open('/in/f').read()); open('/out/g', 'w').write('w');"
        "import sys\ntry:\n open('/in/h', 'w')\nexcept OSError as e: print(e.errno)"
    )
    result = await sandbox.run(py(code, binds=[Bind(ro, "/in"), Bind(rw, "/out", writable=True)]))
    assert result.ok, result
    assert result.stdout == b"data\n30\n"  # EROFS
    assert (rw / "g").read_text() == "w"


async def test_cwd_is_honoured(sandbox: BwrapSandbox) -> None:
    result = await sandbox.run(py("import os; print(os.getcwd())", cwd="/tmp"))
    assert result.stdout == b"/tmp\n"


async def test_signal_is_reported(sandbox: BwrapSandbox) -> None:
    result = await sandbox.run(py("import os, signal; os.kill(os.getpid(), signal.SIGSEGV)"))
    assert result.outcome is Outcome.SIGNALED
    assert result.signal == 11 and result.exit_code is None


async def test_missing_program_is_a_sandbox_error(sandbox: BwrapSandbox) -> None:
    result = await sandbox.run(RunSpec(argv=["/nonexistent/program"], limits=FAST))
    assert result.outcome is Outcome.SANDBOX_ERROR
    assert "/nonexistent/program" in result.message


async def test_missing_workdir_is_a_sandbox_error(sandbox: BwrapSandbox, tmp_path: Path) -> None:
    result = await sandbox.run(py("pass", workdir=tmp_path / "missing"))
    assert result.outcome is Outcome.SANDBOX_ERROR


async def test_exit_code_above_128_is_a_signal_as_bwrap_reports(sandbox: BwrapSandbox) -> None:
    result = await sandbox.run(py("import sys; sys.exit(7)"))
    assert result.exit_code == 7 and result.signal is None


async def test_cpu_time_limit(sandbox: BwrapSandbox) -> None:
    limits = Limits(cpu_time=0.3, wall_time=5.0)
    result = await sandbox.run(py("while True: pass", limits))
    assert result.outcome is Outcome.TIME_LIMIT
    assert 300 <= result.cpu_ms < 1500
    assert result.wall_ms < 2000  # the supervisor polls the cgroup: no wait for the wall limit


async def test_wall_time_limit(sandbox: BwrapSandbox) -> None:
    result = await sandbox.run(py("import time; time.sleep(30)", Limits(wall_time=0.4)))
    assert result.outcome is Outcome.WALL_TIME_LIMIT
    assert 400 <= result.wall_ms < 1500 and result.cpu_ms < 300


async def test_memory_limit_by_rlimit_as(sandbox: BwrapSandbox) -> None:
    limits = Limits(memory=64 * MIB, cpu_time=2.0, wall_time=5.0)
    result = await sandbox.run(py("x = bytearray(200 * 1024 * 1024)", limits))
    assert result.outcome is Outcome.MEMORY_LIMIT, result


async def test_memory_limit_by_cgroup_without_rlimit_as(sandbox: BwrapSandbox) -> None:
    limits = Limits(memory=64 * MIB, cpu_time=2.0, wall_time=5.0, address_space=False)
    code = "x = []\nwhile True: x.append(bytearray(1 << 20))"
    result = await sandbox.run(py(code, limits))
    assert result.outcome is Outcome.MEMORY_LIMIT, result
    assert result.memory_kb >= 60 * 1024


async def test_peak_memory_is_measured_per_run(sandbox: BwrapSandbox) -> None:
    big = await sandbox.run(
        py("x = bytearray(100 * 1024 * 1024); x[::4096] = b'1' * len(x[::4096])")
    )
    small = await sandbox.run(py("pass"))
    assert big.ok and small.ok
    assert big.memory_kb >= 100 * 1024
    assert small.memory_kb < 60 * 1024


async def test_output_limit(sandbox: BwrapSandbox) -> None:
    limits = Limits(output=100_000, wall_time=5.0)
    result = await sandbox.run(py("import sys\nwhile True: sys.stdout.write('x' * 4096)", limits))
    assert result.outcome is Outcome.OUTPUT_LIMIT
    assert len(result.stdout) == 100_000


async def test_output_exactly_at_the_limit_is_fine(sandbox: BwrapSandbox) -> None:
    limits = Limits(output=10_000)
    result = await sandbox.run(py("print('x' * 9999)", limits))
    assert result.ok and len(result.stdout) == 10_000


async def test_stderr_is_cut_silently(sandbox: BwrapSandbox) -> None:
    limits = Limits(stderr=1000)
    result = await sandbox.run(py("import sys; sys.stderr.write('e' * 50000)", limits))
    assert result.ok and result.stderr == b"e" * 1000


async def test_runs_concurrently_up_to_slots(sandbox: BwrapSandbox) -> None:
    spec = py("import time; time.sleep(0.4)")
    start = time.monotonic()
    results = await asyncio.gather(*(sandbox.run(spec) for _ in range(sandbox.slots * 2)))
    elapsed = time.monotonic() - start
    assert all(result.ok for result in results)
    assert 0.8 <= elapsed < 0.8 + 1.5  # two waves of `slots` runs


async def test_slots_are_machine_wide(sandbox: BwrapSandbox) -> None:
    other = BwrapSandbox(slots=sandbox.slots, state_dir=sandbox.state_dir)
    try:
        spec = py("import time; time.sleep(0.4)")
        start = time.monotonic()
        results = await asyncio.gather(
            *(box.run(spec) for box in (sandbox, other) for _ in range(sandbox.slots))
        )
        elapsed = time.monotonic() - start
    finally:
        await other.aclose()
    assert all(result.ok for result in results)
    assert elapsed >= 0.8  # the second sandbox waited for the first one's slots


async def test_cancelled_run_frees_its_slot(sandbox: BwrapSandbox) -> None:
    task = asyncio.create_task(sandbox.run(py("import time; time.sleep(5)", Limits(wall_time=8))))
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    results = await asyncio.gather(*(sandbox.run(py("pass")) for _ in range(sandbox.slots)))
    assert all(result.ok for result in results)


#: Programs adding 10 + 11 + 10 + 11 in four threads (workers), by language: (file, source).
THREADED = {
    "c": (
        "sum.c",
        "#include <pthread.h>\n#include <stdio.h>\nstatic long part[4];\n"
        "static void *add(void *i) { part[(long)i] = 10 + (long)i % 2; return 0; }\n"
        "int main(void) { pthread_t t[4]; long sum = 0;\n"
        " for (long i = 0; i < 4; i++) pthread_create(&t[i], 0, add, (void *)i);\n"
        " for (int i = 0; i < 4; i++) { pthread_join(t[i], 0); sum += part[i]; }\n"
        ' printf("%ld\\n", sum); }\n',
    ),
    "cpp": (
        "sum.cpp",
        "#include <iostream>\n#include <thread>\n#include <vector>\n"
        "int main() { long part[4]; std::vector<std::thread> t;\n"
        " for (int i = 0; i < 4; i++) t.emplace_back([&part, i] { part[i] = 10 + i % 2; });\n"
        " long sum = 0; for (int i = 0; i < 4; i++) { t[i].join(); sum += part[i]; }\n"
        " std::cout << sum << '\\n'; }\n",
    ),
    "java": (
        "Sum.java",
        "import java.util.concurrent.*;\npublic class Sum { public static void main(String[] a)"
        " throws Exception { ExecutorService pool = Executors.newFixedThreadPool(4); long sum = 0;"
        " for (int i = 0; i < 4; i++) { final int k = i;"
        " sum += pool.submit(() -> 10 + k % 2).get(); }"
        " pool.shutdown(); System.out.println(sum); } }\n",
    ),
    "javascript": (
        "sum.js",
        "const { Worker } = require('worker_threads');\nlet sum = 0, done = 0;\n"
        "for (let i = 0; i < 4; i++) {\n"
        '  const w = new Worker(\'require("worker_threads").parentPort.postMessage(10 + '
        'require("worker_threads").workerData % 2)\', { eval: true, workerData: i });\n'
        "  w.on('message', (n) => { sum += n; if (++done === 4) console.log(sum); });\n}\n",
    ),
    "go": (
        "sum.go",
        'package main\nimport ("fmt"; "runtime"; "sync")\n'
        "func main() { runtime.GOMAXPROCS(4); var wg sync.WaitGroup; part := make([]int, 4)\n"
        " for i := 0; i < 4; i++ { wg.Add(1)\n"
        "  go func(i int) { defer wg.Done(); part[i] = 10 + i%2 }(i) }\n"
        " wg.Wait(); sum := 0; for _, p := range part { sum += p }; fmt.Println(sum) }\n",
    ),
    "rust": (
        "sum.rs",
        "fn main() { let t: Vec<_> ="
        " (0..4).map(|i| std::thread::spawn(move || 10 + i % 2)).collect();"
        ' let sum: i64 = t.into_iter().map(|h| h.join().unwrap()).sum(); println!("{}", sum); }\n',
    ),
    "python3": (
        "sum.py",
        "import threading\npart = [0] * 4\n"
        "def add(i): part[i] = 10 + i % 2\n"
        "threads = [threading.Thread(target=add, args=(i,)) for i in range(4)]\n"
        "for t in threads: t.start()\nfor t in threads: t.join()\nprint(sum(part))\n",
    ),
}


@pytest.mark.parametrize("language_id", sorted(THREADED))
async def test_multi_threaded_programs_run_under_the_seccomp_filter(
    sandbox: BwrapSandbox, language_id: str
) -> None:
    require_or_skip(language_id in offered_ids(), f"{language_id} toolchain not installed")
    work = make_scratch_dir(None, "verdict-threads-")
    try:
        name, text = THREADED[language_id]
        source = shared_dir(work / "src") / name
        source.write_text(text)
        language = known_language(language_id)
        built = await build_program(
            sandbox, language, [source], make_readable_dir(work, "build"), problem_slug="sum"
        )
        assert built.program is not None, built.output
        # Small thread stacks: a stack as large as the memory limit is another matter.
        limits = replace(run_limits(5.0, 512, 8, language), stack=8 * MIB)
        result = await run_program(sandbox, built.program, limits=limits)
        assert result.outcome is Outcome.EXITED, (result.message, result.stderr)
        assert (result.exit_code, result.stdout.strip()) == (0, b"42"), result.stderr
    finally:
        shutil.rmtree(work, ignore_errors=True)


@pytest.fixture
def state_dir() -> Iterator[Path]:
    """A private sandbox state dir that the slot users can reach."""
    path = Path(tempfile.mkdtemp(prefix="verdict-test-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


async def test_a_dead_supervisor_is_replaced(state_dir: Path) -> None:
    box = BwrapSandbox(slots=1, state_dir=state_dir)
    try:
        assert (await box.run(py("pass"))).ok
        (supervisor,) = [int(pid) for pid in os.listdir("/proc") if _is_supervisor(pid, state_dir)]
        os.kill(supervisor, signal.SIGKILL)
        await asyncio.sleep(0.05)
        assert (await box.run(py("print(1)"))).stdout == b"1\n"
    finally:
        await box.aclose()


async def test_supervisor_dying_mid_run_is_a_sandbox_error(state_dir: Path) -> None:
    box = BwrapSandbox(slots=1, state_dir=state_dir)
    try:
        assert (await box.run(py("pass"))).ok
        (supervisor,) = [int(pid) for pid in os.listdir("/proc") if _is_supervisor(pid, state_dir)]
        run = asyncio.create_task(box.run(py("import time; time.sleep(5)", Limits(wall_time=8))))
        await asyncio.sleep(0.3)
        os.kill(supervisor, signal.SIGKILL)
        result = await asyncio.wait_for(run, 5)
        assert result.outcome is Outcome.SANDBOX_ERROR
        assert box.leftover_pids() == []  # the run died with its supervisor
        assert (await box.run(py("pass"))).ok
    finally:
        await box.aclose()


async def test_a_slot_whose_memory_cannot_be_reclaimed_gets_fresh_cgroups(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As on a cgroup v2 kernel older than 5.19 (no memory.reclaim): what a run left charged
    # (here the page cache of a file it wrote on the host) goes with a new cgroup instead.
    for kind in (CgroupV1Slot, CgroupV2Slot):
        monkeypatch.setattr(kind, "reclaim", lambda self: False)
    work = shared_dir(tmp_path / "work")
    box = BwrapSandbox(slots=1)  # machine-wide slot 0, cgroups of its own
    try:
        baseline = await box.run(py("import sys; sys.exit(1)"))
        write = "open('/box/data', 'wb').write(b'x' * (40 << 20))"
        assert (await box.run(py(write, workdir=work, workdir_writable=True))).ok
        after = await box.run(py("import sys; sys.exit(1)"))
        assert (after.outcome, after.exit_code) == (Outcome.EXITED, 1), after
        assert after.memory_kb <= baseline.memory_kb + 4 * 1024, (baseline, after)
        assert box.leftover_pids() == []
    finally:
        await box.aclose()


def _is_supervisor(pid: str, state_dir: Path) -> bool:
    try:
        return pid.isdigit() and os.readlink(f"/proc/{pid}/exe").startswith(str(state_dir))
    except OSError:
        return False


def test_unreachable_state_dir_is_refused(tmp_path: Path) -> None:
    hidden = tmp_path / "hidden"
    hidden.mkdir(mode=0o700)
    with pytest.raises(SandboxUnavailable, match="not searchable"):
        BwrapSandbox(slots=1, state_dir=hidden / "state")


def test_unknown_mode_is_refused() -> None:
    with pytest.raises(SandboxUnavailable, match="unknown sandbox mode"):
        create_sandbox("chroot")


def test_non_root_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(SandboxUnavailable, match="root"):
        BwrapSandbox(slots=1)


def test_missing_bwrap_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SandboxUnavailable, match="bubblewrap"):
        BwrapSandbox(slots=1, bwrap=str(tmp_path / "bwrap"))


def _socket_warnings(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]


async def test_runs_cancelled_while_their_supervisor_starts_close_its_socket(
    state_dir: Path,
) -> None:
    # A cancel landing while a fresh supervisor starts used to drop its socket for the garbage
    # collector, which failed whichever test happened to run when it was collected.
    box = BwrapSandbox(slots=1, state_dir=state_dir)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        try:
            for _ in range(6):  # each cancel lands while starting or while running
                task = asyncio.create_task(box.run(py("import time; time.sleep(5)")))
                await asyncio.sleep(0)
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
                del task
                gc.collect()
            assert (await box.run(py("print(2)"))).stdout == b"2\n"
        finally:
            await box.aclose()
        gc.collect()
    assert _socket_warnings(caught) == []


async def test_closing_the_sandbox_closes_a_supervisor_still_starting(state_dir: Path) -> None:
    box = BwrapSandbox(slots=1, state_dir=state_dir)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        task = asyncio.create_task(box.run(py("pass")))
        await asyncio.sleep(0)
        box.close()  # what a stopping server does before it cancels what still runs
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        del task
        gc.collect()
    assert _socket_warnings(caught) == []
    assert not [pid for pid in os.listdir("/proc") if _is_supervisor(pid, state_dir)]
