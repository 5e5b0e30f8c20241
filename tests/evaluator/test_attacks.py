"""The attack corpus: hostile programs run in the real sandbox, each contained.

Every attack asserts three things: the outcome the judge reports, that the run ended within its
limits (a broken sandbox fails the test instead of hurting the machine: every limit is short),
and that the host shows no side effect (no process left in the slot cgroups, no file written,
no connection received, no secret seen). Attacks are C (compiled on the host into a directory
bound read-only at /prog) or Debian's python3. Compile-time attacks go through the evaluator
(``evaluate``, ``build_program``), some with a toolchain that runs the submission while it
"compiles" (as Template Haskell, a ``build.rs`` or an annotation processor would).
"""

from __future__ import annotations

import dataclasses
import os
import platform
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from service.evaluator import (
    CompileFinished,
    Finished,
    Language,
    Verdict,
    evaluate,
    known_language,
    load_package,
)
from service.evaluator.programs import build_program, make_readable_dir, make_scratch_dir
from service.evaluator.sandbox import (
    KIB,
    MIB,
    Bind,
    BwrapSandbox,
    Limits,
    Outcome,
    RunResult,
    RunSpec,
    UnsafeResultFile,
    read_result_file,
)
from tests.factories import write_package
from tests.helpers import require_or_skip

pytestmark = pytest.mark.sandbox
PY = "/usr/bin/python3"
LIMITS = Limits(
    cpu_time=1.0,
    wall_time=3.0,
    memory=128 * MIB,
    output=1 * MIB,
    stderr=16 * KIB,
    file_size=8 * MIB,
    box_size=16 * MIB,
    processes=32,
    open_files=64,
)
WALL_BOUND_MS = 6000  # no attack may keep its slot busier than this
HARNESS_BOUND_S = 60  # nor the harness (which also waits for a machine-wide slot)
CONTAINED = {Outcome.TIME_LIMIT, Outcome.WALL_TIME_LIMIT, Outcome.MEMORY_LIMIT}


@pytest.fixture(scope="module")
def programs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return the directory (readable by the sandbox) where attack programs are compiled."""
    require_or_skip(os.access("/usr/bin/gcc", os.X_OK), "gcc is needed to build the attacks")
    path = tmp_path_factory.mktemp("attacks")
    path.chmod(0o755)
    return path


def build(programs: Path, name: str, source: str) -> str:
    """Compile ``source`` on the host; return the program's path inside the sandbox."""
    binary = programs / name
    if not binary.exists():
        (programs / f"{name}.c").write_text(source)
        subprocess.run(
            ["gcc", "-O1", "-w", "-pthread", "-o", str(binary), str(programs / f"{name}.c")],
            check=True,
        )
    return f"/prog/{name}"


async def attack(
    sandbox: BwrapSandbox,
    programs: Path,
    argv: list[str],
    limits: Limits = LIMITS,
    **kwargs: object,
) -> RunResult:
    """Run one attack and check the judge-side invariants every attack shares."""
    binds = [Bind(programs, "/prog"), *kwargs.pop("binds", [])]  # type: ignore[misc]
    spec = RunSpec(argv=argv, limits=limits, binds=binds, **kwargs)  # type: ignore[arg-type]
    start = time.monotonic()
    result = await sandbox.run(spec)
    assert time.monotonic() - start < HARNESS_BOUND_S, result
    assert result.wall_ms < WALL_BOUND_MS, result
    assert result.outcome is not Outcome.SANDBOX_ERROR, result
    assert len(result.stdout) <= limits.output and len(result.stderr) <= limits.stderr
    assert sandbox.leftover_pids() == [], "a process of the run survived it"
    return result


def c_attack(name: str, body: str, includes: str = "") -> tuple[str, str]:
    """Return a C program's name and source with the usual headers."""
    headers = (
        "#define _GNU_SOURCE\n#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n"
        "#include <unistd.h>\n#include <errno.h>\n#include <signal.h>\n#include <fcntl.h>\n"
        "#include <sys/types.h>\n#include <sys/wait.h>\n#include <sys/stat.h>\n"
    )
    return name, headers + includes + body


def shared_dir(path: Path) -> Path:
    """Make a host directory the sandbox may read."""
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o755)
    return path


def writable(path: Path) -> Path:
    """Make a host directory the sandbox may write into."""
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o777)
    return path


# --- processes ---------------------------------------------------------------------------


async def test_fork_bomb(sandbox: BwrapSandbox, programs: Path) -> None:
    prog = build(programs, *c_attack("fork_bomb", "int main(){for(;;) fork();}"))
    result = await attack(sandbox, programs, [prog])
    assert result.outcome in {Outcome.TIME_LIMIT, Outcome.WALL_TIME_LIMIT}


async def test_thread_bomb(sandbox: BwrapSandbox, programs: Path) -> None:
    source = (
        "void *spin(void *a){for(;;);}\n"
        "int main(){pthread_t t; for(;;) pthread_create(&t, 0, spin, 0);}"
    )
    prog = build(programs, *c_attack("thread_bomb", source, "#include <pthread.h>\n"))
    result = await attack(sandbox, programs, [prog])
    assert result.outcome is Outcome.TIME_LIMIT


async def test_busy_children_share_one_cpu_limit(sandbox: BwrapSandbox, programs: Path) -> None:
    source = "int main(){for(int i=0;i<8;i++) if(!fork()) for(;;); for(;;) pause();}"
    prog = build(programs, *c_attack("busy_children", source))
    result = await attack(sandbox, programs, [prog])
    assert result.outcome is Outcome.TIME_LIMIT  # their CPU time adds up in the cgroup
    assert result.cpu_ms >= 1000


async def test_setsid_daemon_does_not_outlive_the_run(
    sandbox: BwrapSandbox, programs: Path, tmp_path: Path
) -> None:
    out = writable(tmp_path / "out")
    source = (
        "int main(){ if(fork()==0){ setsid(); if(fork()==0){ signal(SIGHUP,SIG_IGN);"
        ' for(int i=0;;i++){ FILE*f=fopen("/out/alive","a"); fprintf(f,"%d\\n",i);'
        " fclose(f); usleep(50000);} } _exit(0);} usleep(200000); return 0; }"
    )
    prog = build(programs, *c_attack("daemon", source))
    result = await attack(sandbox, programs, [prog], binds=[Bind(out, "/out", writable=True)])
    assert result.ok
    size = (out / "alive").stat().st_size
    time.sleep(0.3)
    assert (out / "alive").stat().st_size == size, "the daemon kept writing after the run"


async def test_zombies_do_not_count_against_the_next_run(
    sandbox: BwrapSandbox, programs: Path
) -> None:
    orphans = "int main(){for(int i=0;i<20;i++) if(!fork()) _exit(0); return 0;}"
    prog = build(programs, *c_attack("orphans", orphans))
    limits = Limits(cpu_time=1.0, wall_time=3.0, processes=24)
    one = RunSpec([prog], limits=limits, binds=[Bind(programs, "/prog")])
    fork20 = (
        'int main(){for(int i=0;i<20;i++){pid_t p=fork(); if(p<0){printf("fork failed");'
        "return 1;} if(!p){pause();}} return 0;}"
    )
    prog2 = build(programs, *c_attack("fork20", fork20))
    two = RunSpec([prog2], limits=limits, binds=[Bind(programs, "/prog")])
    for _ in range(sandbox.slots + 1):
        assert (await sandbox.run(one)).ok
    results = [await sandbox.run(two) for _ in range(sandbox.slots + 1)]
    assert all(result.ok for result in results), results
    assert sandbox.leftover_pids() == []


async def test_kill_the_parent_and_pid_1(sandbox: BwrapSandbox, programs: Path) -> None:
    source = (
        'int main(){ printf("%d %d ", kill(getppid(), SIGKILL), kill(1, SIGKILL));'
        ' printf("alive"); return 0; }'
    )
    prog = build(programs, *c_attack("kill_parent", source))
    result = await attack(sandbox, programs, [prog])
    assert result.outcome in {Outcome.EXITED, Outcome.SIGNALED}
    assert (await sandbox.check()) is None  # the judge is unharmed


async def test_kill_everything(sandbox: BwrapSandbox, programs: Path) -> None:
    canary = subprocess.Popen(["sleep", "30"])
    try:
        prog = build(programs, *c_attack("kill_all", "int main(){kill(-1, SIGKILL); return 3;}"))
        result = await attack(sandbox, programs, [prog])
        assert result.outcome in {Outcome.EXITED, Outcome.SIGNALED}
        assert canary.poll() is None, "kill(-1) reached a host process"
        assert (await sandbox.check()) is None
    finally:
        canary.kill()
        canary.wait()


async def test_ptrace(sandbox: BwrapSandbox, programs: Path) -> None:
    source = (
        "int main(){ long a = ptrace(PTRACE_ATTACH, 1, 0, 0); int e = errno;"
        " long b = ptrace(PTRACE_ATTACH, getppid(), 0, 0);"
        ' printf("%ld %d %ld", a, e, b); return 0; }'
    )
    prog = build(programs, *c_attack("ptrace", source, "#include <sys/ptrace.h>\n"))
    result = await attack(sandbox, programs, [prog], Limits(wall_time=1.0))
    # The seccomp filter refuses ptrace: not even bwrap's init (same uid) can be stopped.
    assert result.ok and result.stdout == b"-1 1 -1", result
    assert (await sandbox.check()) is None


async def test_time_limit_cpu_loop(sandbox: BwrapSandbox, programs: Path) -> None:
    prog = build(programs, *c_attack("loop", "int main(){volatile long i=0; for(;;) i++;}"))
    result = await attack(sandbox, programs, [prog])
    assert result.outcome is Outcome.TIME_LIMIT
    assert result.cpu_ms >= 1000


async def test_sleep_is_a_wall_time_limit(sandbox: BwrapSandbox, programs: Path) -> None:
    prog = build(programs, *c_attack("sleeper", "int main(){sleep(100);}"))
    result = await attack(sandbox, programs, [prog], Limits(wall_time=0.5))
    assert result.outcome is Outcome.WALL_TIME_LIMIT


async def test_sigxcpu_ignored_still_stops(sandbox: BwrapSandbox, programs: Path) -> None:
    source = "int main(){signal(SIGXCPU, SIG_IGN); volatile long i=0; for(;;) i++;}"
    prog = build(programs, *c_attack("ignore_xcpu", source))
    result = await attack(sandbox, programs, [prog], Limits(cpu_time=0.5, wall_time=3.0))
    assert result.outcome is Outcome.TIME_LIMIT


# --- memory ------------------------------------------------------------------------------


async def test_heap_bomb(sandbox: BwrapSandbox, programs: Path) -> None:
    source = "int main(){for(;;){char*p=malloc(1<<20); if(!p) return 1; memset(p,1,1<<20);}}"
    prog = build(programs, *c_attack("heap_bomb", source))
    result = await attack(sandbox, programs, [prog])
    assert result.outcome is Outcome.MEMORY_LIMIT


async def test_heap_bomb_without_address_space_limit(sandbox: BwrapSandbox, programs: Path) -> None:
    source = "int main(){for(;;){char*p=malloc(1<<20); if(!p) return 1; memset(p,1,1<<20);}}"
    prog = build(programs, *c_attack("heap_bomb", source))
    limits = Limits(cpu_time=1.0, wall_time=3.0, memory=64 * MIB, address_space=False)
    result = await attack(sandbox, programs, [prog], limits)
    assert result.outcome is Outcome.MEMORY_LIMIT


async def test_stack_bomb(sandbox: BwrapSandbox, programs: Path) -> None:
    source = "int f(int n){volatile char buf[4096]; buf[0]=n; return f(n+1)+buf[0];}\n"
    source += "int main(){return f(0);}"
    prog = build(programs, *c_attack("stack_bomb", source))
    result = await attack(sandbox, programs, [prog], Limits(memory=64 * MIB, stack=8 * MIB))
    assert result.outcome is Outcome.SIGNALED and result.signal == signal.SIGSEGV


async def test_static_memory_bomb_over_the_address_space(
    sandbox: BwrapSandbox, programs: Path
) -> None:
    source = "static char big[1u<<30]; int main(){memset(big, 1, sizeof big); return big[7];}"
    prog = build(programs, *c_attack("static_bomb", source))
    result = await attack(sandbox, programs, [prog])
    # The kernel cannot map the image under RLIMIT_AS and kills it during exec: SIGSEGV.
    assert result.outcome is Outcome.SIGNALED and result.signal == signal.SIGSEGV
    assert result.memory_kb < LIMITS.memory // KIB


async def test_static_memory_bomb_under_the_cgroup(sandbox: BwrapSandbox, programs: Path) -> None:
    source = "static char big[1u<<28]; int main(){memset(big, 1, sizeof big); return big[7];}"
    prog = build(programs, *c_attack("static_bomb_256m", source))
    limits = Limits(cpu_time=1.0, wall_time=3.0, memory=64 * MIB, address_space=False)
    result = await attack(sandbox, programs, [prog], limits)
    assert result.outcome is Outcome.MEMORY_LIMIT


async def test_tmpfs_memory_is_bounded(sandbox: BwrapSandbox, programs: Path) -> None:
    code = (
        "import os\nfor i in range(10**6):\n open(f'/dev/shm/f{i}', 'wb').write(b'x' * (1 << 20))"
    )
    limits = Limits(cpu_time=2.0, wall_time=4.0, memory=64 * MIB)
    result = await attack(sandbox, programs, [PY, "-c", code], limits)
    # Files in a tmpfs are charged to the run's cgroup: the writer is stopped near the memory
    # limit, either killed or failing its writes (ENOMEM/ENOSPC), or, when the kernel keeps
    # reclaiming at the limit, by the CPU limit. Whatever stops it, the memory stays bounded.
    assert not result.ok
    assert result.outcome in {
        Outcome.MEMORY_LIMIT,
        Outcome.EXITED,
        Outcome.SIGNALED,
        Outcome.TIME_LIMIT,
    }
    assert result.memory_kb <= (64 + 16) * 1024


LONE_LIMITS = Limits(cpu_time=2.0, wall_time=5.0, memory=64 * MIB, processes=8)
EXIT_1 = "int main(){return 1;}"
ALLOCATE_40M = "int main(){char*p=malloc(40<<20); memset(p,1,40<<20); return p[12345]-1;}"
# Every stat() of a missing name leaves a negative dentry in the host's cache, charged to the
# slot's memory cgroup and outliving the run; a million of them fill any small limit.
DENTRY_FLOOD = (
    "int main(){char n[64]; struct stat s; for(int i=0;i<400000;i++){"
    'snprintf(n,sizeof n,"/usr/verdict-missing-%d",i); stat(n,&s);} return 0;}'
)


@pytest.fixture
async def lone_sandbox() -> AsyncIterator[BwrapSandbox]:
    """Return a fresh one-slot sandbox: every run lands in slot 0, in cgroups of its own.

    It shares the machine-wide slot locks: slot 0's uid is then never used by another run at
    the same time (its processes would count against this run's RLIMIT_NPROC).
    """
    box = BwrapSandbox(slots=1)
    try:
        yield box
    finally:
        await box.aclose()


async def test_charges_left_by_a_run_do_not_burden_the_next(
    lone_sandbox: BwrapSandbox, programs: Path
) -> None:
    exit_1 = build(programs, *c_attack("exit_1", EXIT_1))
    allocate = build(programs, *c_attack("allocate_40m", ALLOCATE_40M))
    flood = build(programs, *c_attack("dentry_flood", DENTRY_FLOOD))
    baseline = await attack(lone_sandbox, programs, [exit_1], LONE_LIMITS)
    big_baseline = await attack(lone_sandbox, programs, [allocate], LONE_LIMITS)
    assert (baseline.outcome, baseline.exit_code) == (Outcome.EXITED, 1), baseline
    assert big_baseline.ok, big_baseline
    flooded = await attack(lone_sandbox, programs, [flood], LONE_LIMITS)
    assert flooded.outcome in CONTAINED | {Outcome.EXITED}
    victim = await attack(lone_sandbox, programs, [exit_1], LONE_LIMITS)
    # A plain exit 1 is a run-time error, with its own small peak, not the flood's dentries.
    assert (victim.outcome, victim.exit_code) == (Outcome.EXITED, 1), victim
    assert victim.memory_kb <= baseline.memory_kb + 4 * 1024, (baseline, victim)
    await attack(lone_sandbox, programs, [flood], LONE_LIMITS)
    big = await attack(lone_sandbox, programs, [allocate], LONE_LIMITS)
    assert big.ok, big
    assert big.memory_kb <= big_baseline.memory_kb + 4 * 1024, (big_baseline, big)


# --- output and files --------------------------------------------------------------------


async def test_stdout_flood(sandbox: BwrapSandbox, programs: Path) -> None:
    source = "int main(){char b[65536]; memset(b,'x',sizeof b); for(;;) write(1,b,sizeof b);}"
    prog = build(programs, *c_attack("stdout_flood", source))
    result = await attack(sandbox, programs, [prog])
    assert result.outcome is Outcome.OUTPUT_LIMIT
    assert len(result.stdout) == LIMITS.output


async def test_stderr_flood(sandbox: BwrapSandbox, programs: Path) -> None:
    source = (
        "int main(){char b[65536]; memset(b,'e',sizeof b);"
        " for(int i=0;i<800;i++) write(2,b,sizeof b); return 0;}"
    )
    prog = build(programs, *c_attack("stderr_flood", source))
    result = await attack(sandbox, programs, [prog])
    assert result.ok
    assert result.stderr == b"e" * LIMITS.stderr


async def test_one_endless_line(sandbox: BwrapSandbox, programs: Path) -> None:
    prog = build(programs, *c_attack("endless_line", "int main(){for(;;) putchar('a');}"))
    result = await attack(sandbox, programs, [prog])
    assert result.outcome is Outcome.OUTPUT_LIMIT
    assert b"\n" not in result.stdout


async def test_nul_bytes_pass_through(sandbox: BwrapSandbox, programs: Path) -> None:
    source = "int main(){char b[1000]={0}; b[999]='!'; fwrite(b,1,sizeof b,stdout); return 0;}"
    prog = build(programs, *c_attack("nul_bytes", source))
    result = await attack(sandbox, programs, [prog])
    assert result.ok and result.stdout == b"\0" * 999 + b"!"


async def test_many_small_files(sandbox: BwrapSandbox, programs: Path) -> None:
    source = (
        'int main(){char n[64]; for(int i=0;;i++){snprintf(n,64,"/tmp/f%d",i);'
        ' int fd=open(n,O_CREAT|O_WRONLY,0644); if(fd<0){printf("%d",i); return 1;}'
        ' write(fd,"x",1); close(fd);}}'
    )
    prog = build(programs, *c_attack("small_files", source))
    result = await attack(sandbox, programs, [prog])
    assert result.outcome in CONTAINED | {Outcome.EXITED}
    assert not result.ok
    assert not list(Path("/tmp").glob("f[0-9]*")), "files appeared in the host's /tmp"


async def test_one_huge_file(sandbox: BwrapSandbox, programs: Path) -> None:
    source = (
        "int main(){char b[65536]; memset(b,'x',sizeof b); int fd=open(\"/box/big\","
        'O_CREAT|O_WRONLY,0644); for(;;) if(write(fd,b,sizeof b)<0){perror("w"); return 1;}}'
    )
    prog = build(programs, *c_attack("huge_file", source))
    result = await attack(sandbox, programs, [prog])
    assert result.outcome is Outcome.SIGNALED and result.signal == signal.SIGXFSZ


async def test_disk_full_box(sandbox: BwrapSandbox, programs: Path) -> None:
    code = (
        "import sys\nfor i in range(100):\n try: open(f'/box/{i}','wb').write(b'x'*(4<<20))\n"
        " except OSError as e: print(e.errno); sys.exit(1)"
    )
    result = await attack(sandbox, programs, [PY, "-c", code])
    assert result.exit_code == 1 and result.stdout == b"28\n"  # ENOSPC: /box is 16 MiB


async def test_many_open_files(sandbox: BwrapSandbox, programs: Path) -> None:
    source = 'int main(){int n=0; while(open("/dev/null",O_RDONLY)>=0) n++; printf("%d",n);}'
    prog = build(programs, *c_attack("open_files", source))
    result = await attack(sandbox, programs, [prog])
    assert result.ok and int(result.stdout) < LIMITS.open_files


async def test_write_outside_box(sandbox: BwrapSandbox, programs: Path) -> None:
    targets = ["/usr/pwned", "/etc/pwned", "/pwned", "/prog/pwned", "/proc/sys/kernel/pwned"]
    code = (
        "import sys\nfor t in sys.argv[1:]:\n try: open(t,'w').write('x'); print('WROTE', t)\n"
        " except OSError as e: print(e.errno)"
    )
    result = await attack(sandbox, programs, [PY, "-c", code, *targets])
    assert result.ok and b"WROTE" not in result.stdout
    assert not any(Path(path).exists() for path in ("/usr/pwned", "/etc/pwned", "/pwned"))
    assert not (programs / "pwned").exists()


async def test_dev_shm_stays_inside(sandbox: BwrapSandbox, programs: Path) -> None:
    code = "open('/dev/shm/verdict-attack-marker','w').write('x')"
    result = await attack(sandbox, programs, [PY, "-c", code])
    assert result.ok
    assert not Path("/dev/shm/verdict-attack-marker").exists()


async def test_symlink_in_workdir_is_not_followed(
    sandbox: BwrapSandbox, programs: Path, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("host secret")
    work = tmp_path / "work"
    work.mkdir()
    code = (
        f"import os; os.symlink({str(secret)!r}, '/box/result.txt');"
        "os.mkfifo('/box/fifo'); os.symlink('/etc', '/box/dir')"
    )
    result = await attack(sandbox, programs, [PY, "-c", code], workdir=work, workdir_writable=True)
    assert result.ok, result
    for name in ("result.txt", "fifo", "dir/passwd", "missing"):
        with pytest.raises(UnsafeResultFile):
            read_result_file(work, name, 1 << 20)


async def test_setuid_and_chmod(sandbox: BwrapSandbox, programs: Path, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    source = (
        "int main(){ int a=setuid(0); int b=setgid(0);"
        ' int fd=open("/box/suid",O_CREAT|O_WRONLY,0755); close(fd);'
        ' chmod("/box/suid", 04755); int c=chown("/box/suid",0,0);'
        ' printf("%d %d %d", a, b, c); return 0; }'
    )
    prog = build(programs, *c_attack("setuid", source))
    result = await attack(sandbox, programs, [prog], workdir=work, workdir_writable=True)
    assert result.ok and result.stdout == b"-1 -1 -1"
    assert (work / "suid").stat().st_uid != 0


async def test_mount_unshare_and_hostname(sandbox: BwrapSandbox, programs: Path) -> None:
    source = (
        'int main(){ int m=mount("none","/tmp","tmpfs",0,0);'
        " int u=unshare(CLONE_NEWUSER); int n=unshare(CLONE_NEWNET);"
        ' int h=sethostname("pwned",5); int c=chroot("/tmp");'
        ' printf("%d %d %d %d %d", m, u, n, h, c); return 0; }'
    )
    includes = "#include <sched.h>\n#include <sys/mount.h>\n"
    prog = build(programs, *c_attack("privileged_calls", source, includes))
    result = await attack(sandbox, programs, [prog])
    assert result.ok and result.stdout == b"-1 -1 -1 -1 -1"
    assert socket.gethostname() != "pwned"


# --- secrets and host files --------------------------------------------------------------


async def test_etc_shadow(sandbox: BwrapSandbox, programs: Path) -> None:
    code = "import os\ntry: print(open('/etc/shadow').read())\nexcept OSError as e: print(e.errno)"
    result = await attack(sandbox, programs, [PY, "-c", code])
    assert result.ok and result.stdout == b"2\n"  # ENOENT: not even there


async def test_database_file_is_not_visible(
    sandbox: BwrapSandbox, programs: Path, tmp_path: Path
) -> None:
    database = tmp_path / "verdict.sqlite3"
    database.write_text("users: secret rows")
    database.chmod(0o644)
    code = (
        "import sys\nfor p in sys.argv[1:]:\n try: print(open(p).read())\n"
        " except OSError as e: print(e.errno)"
    )
    paths = [str(database), f"/proc/1/root{database}", "/work/main/var/verdict.sqlite3"]
    result = await attack(sandbox, programs, [PY, "-c", code, *paths])
    assert result.ok and b"secret" not in result.stdout


async def test_server_environment(
    sandbox: BwrapSandbox, programs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VERDICT_TEST_SECRET", "hunter2-secret")
    code = (
        "import os\nprint(dict(os.environ))\n"
        "for p in ('/proc/1/environ', '/proc/self/environ', '/proc/2/environ'):\n"
        " try: print(p, open(p, 'rb').read())\n except OSError as e: print(p, e.errno)"
    )
    result = await attack(sandbox, programs, [PY, "-c", code])
    assert result.ok
    assert b"hunter2" not in result.stdout and b"VERDICT_TEST_SECRET" not in result.stdout
    assert b"/proc/1/environ b''" in result.stdout  # bwrap's init got an empty environment


async def test_mountinfo_and_sys(sandbox: BwrapSandbox, programs: Path) -> None:
    code = (
        "import os\nprint(os.path.exists('/sys/fs/cgroup'), os.path.exists('/root'))\n"
        "print(open('/proc/self/mountinfo').read())"
    )
    result = await attack(sandbox, programs, [PY, "-c", code])
    assert result.ok
    assert result.stdout.startswith(b"False False\n")
    assert b"/root" not in result.stdout and b"/work" not in result.stdout


async def test_host_paths_stay_hidden(
    sandbox: BwrapSandbox, programs: Path, tmp_path: Path
) -> None:
    tests = shared_dir(tmp_path / "package-store")
    given = tests / "042-secret-test-name.in"
    given.write_text("input\n")
    code = (
        "import os\nprint(open('/proc/self/mountinfo').read())\n"
        "for fd in (0, 1, 2): print(os.readlink(f'/proc/self/fd/{fd}'))\n"
        "for pid in (1, 2): print(open(f'/proc/{pid}/cmdline', 'rb').read())\n"
        "print(os.readlink('/proc/1/fd/0'), os.listdir('/proc/self/fd'))\n"
        "print(input())"
    )
    result = await attack(sandbox, programs, [PY, "-c", code], stdin=given)
    assert result.ok, result
    assert result.stdout.endswith(b"input\n")  # stdin still reads the file
    seen = result.stdout
    # Neither the state dir (supervisor, staging, /etc copy) nor where the test input lives.
    for secret in (str(sandbox.state_dir), "stage.", "etc-", str(tests), given.name):
        assert secret.encode() not in seen, (secret, seen.decode())
    # bwrap's own options are not in its command line (printed as a bytes literal here).
    assert f"{sandbox.bwrap}\\x00--args\\x00".encode() in seen


async def test_host_processes_are_invisible(sandbox: BwrapSandbox, programs: Path) -> None:
    code = "import os; print(sorted(int(p) for p in os.listdir('/proc') if p.isdigit()))"
    result = await attack(sandbox, programs, [PY, "-c", code])
    assert result.ok
    assert len(eval(result.stdout)) <= 3  # noqa: S307 - bwrap's init, python, nothing else


async def test_sysv_ipc_does_not_persist(sandbox: BwrapSandbox, programs: Path) -> None:
    make = 'int main(){ int id=shmget(4242, 4096, IPC_CREAT|0666); printf("%d", id); return 0;}'
    look = 'int main(){ int id=shmget(4242, 0, 0); printf("%d", id); return 0;}'
    includes = "#include <sys/ipc.h>\n#include <sys/shm.h>\n"
    prog_make = build(programs, *c_attack("shm_make", make, includes))
    prog_look = build(programs, *c_attack("shm_look", look, includes))
    made = await attack(sandbox, programs, [prog_make])
    assert made.ok and int(made.stdout) >= 0
    for _ in range(sandbox.slots):
        seen = await attack(sandbox, programs, [prog_look])
        assert seen.stdout == b"-1"


# --- kernel interfaces behind the seccomp filter -------------------------------------------

PROBE = r"""
#include <sched.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <linux/io_uring.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <linux/bpf.h>
#include <linux/sched.h>
#include <pthread.h>
static void *child(void *arg) { return arg; }
static long probe(const char *what) {
    if (!strcmp(what, "io_uring") || !strcmp(what, "io_uring_sqpoll")) {
        struct io_uring_params p; memset(&p, 0, sizeof p);
        if (what[8]) { p.flags = IORING_SETUP_SQPOLL; p.sq_thread_idle = 1000; }
        return syscall(__NR_io_uring_setup, 4, &p);
    }
    if (!strcmp(what, "userfaultfd")) return syscall(__NR_userfaultfd, 0);
    if (!strcmp(what, "vsock")) return socket(40, SOCK_STREAM, 0);
    if (!strcmp(what, "netlink")) return socket(AF_NETLINK, SOCK_RAW, 0);
    if (!strcmp(what, "packet")) return socket(AF_PACKET, SOCK_RAW, 0);
    if (!strcmp(what, "keyctl"))
        return syscall(__NR_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_USER_KEYRING, 0);
    if (!strcmp(what, "add_key"))
        return syscall(__NR_add_key, "user", "verdict", "leak", 4, KEY_SPEC_USER_KEYRING);
    if (!strcmp(what, "bpf")) {
        union bpf_attr a; memset(&a, 0, sizeof a);
        a.map_type = BPF_MAP_TYPE_ARRAY; a.key_size = 4; a.value_size = 4; a.max_entries = 1;
        return syscall(__NR_bpf, BPF_MAP_CREATE, &a, sizeof a);
    }
    if (!strcmp(what, "perf_event_open")) {
        struct perf_event_attr a; memset(&a, 0, sizeof a);
        a.size = sizeof a; a.type = PERF_TYPE_SOFTWARE; a.exclude_kernel = 1;
        return syscall(__NR_perf_event_open, &a, 0, -1, -1, 0);
    }
    if (!strcmp(what, "unshare")) return unshare(CLONE_NEWNS);
    if (!strcmp(what, "setns")) return setns(0, 0);
    if (!strcmp(what, "mount")) return mount("none", "/tmp", "tmpfs", 0, 0);
    if (!strcmp(what, "open_tree")) return syscall(__NR_open_tree, AT_FDCWD, "/tmp", 1);
    if (!strcmp(what, "personality")) return personality(READ_IMPLIES_EXEC);
    if (!strcmp(what, "clone_newnet"))
        return syscall(__NR_clone, CLONE_NEWNET | SIGCHLD, 0, 0, 0, 0);
    if (!strcmp(what, "process_vm_readv")) return syscall(__NR_process_vm_readv, 1, 0, 0, 0, 0, 0);
    if (!strcmp(what, "kexec_load")) return syscall(__NR_kexec_load, 0, 0, 0, 0);
#ifdef __x86_64__
    if (!strcmp(what, "i386_getpid")) {  /* the 32-bit ABI: other numbers, other rules */
        long r;
        __asm__ volatile("int $0x80" : "=a"(r) : "a"(20L) : "memory");
        if (r < 0) { errno = (int)-r; return -1; }
        return r;
    }
#endif
    if (!strcmp(what, "threads")) {
        pthread_t t[8];
        for (int i = 0; i < 8; i++) if (pthread_create(&t[i], 0, child, 0)) return -1;
        for (int i = 0; i < 8; i++) pthread_join(t[i], 0);
        pid_t pid = fork();
        if (pid == 0) _exit(0);
        return pid < 0 || waitpid(pid, 0, 0) != pid ? -1 : 0;
    }
    return -2;
}
int main(int argc, char **argv) {
    errno = 0;
    long r = probe(argv[1]);
    printf("%ld %d", r < 0 ? r : 0L, r < 0 ? errno : 0);
    return 0;
}
"""
ENOSYS, EPERM, EAFNOSUPPORT = "-1 38", "-1 1", "-1 97"


@pytest.mark.parametrize(
    ("probe", "expected"),
    [
        ("io_uring", ENOSYS),
        ("io_uring_sqpoll", ENOSYS),  # a kernel thread working for the program, off its cgroup
        ("userfaultfd", ENOSYS),
        ("vsock", EAFNOSUPPORT),  # the hypervisor's sockets
        ("netlink", EAFNOSUPPORT),
        ("packet", EAFNOSUPPORT),
        ("keyctl", ENOSYS),  # the slot uid's keyring outlives runs: a channel between them
        ("add_key", ENOSYS),
        ("bpf", ENOSYS),
        ("perf_event_open", ENOSYS),
        ("unshare", EPERM),
        ("setns", EPERM),
        ("mount", EPERM),
        ("open_tree", EPERM),
        ("personality", EPERM),
        ("clone_newnet", EPERM),
        ("process_vm_readv", EPERM),
        ("kexec_load", ENOSYS),
        pytest.param(
            "i386_getpid",
            ENOSYS,
            marks=pytest.mark.skipif(platform.machine() != "x86_64", reason="x86_64 only"),
        ),
    ],
)
async def test_kernel_interfaces_programs_never_need_are_refused(
    sandbox: BwrapSandbox, programs: Path, probe: str, expected: str
) -> None:
    prog = build(programs, *c_attack("probe", PROBE, "#include <sys/wait.h>\n"))
    result = await attack(sandbox, programs, [prog, probe])
    assert result.ok and result.stdout.decode() == expected, (probe, result)


async def test_threads_and_processes_still_work_under_the_filter(
    sandbox: BwrapSandbox, programs: Path
) -> None:
    prog = build(programs, *c_attack("probe", PROBE, "#include <sys/wait.h>\n"))
    # clone3 is refused with ENOSYS: glibc falls back to clone for threads and fork.
    result = await attack(sandbox, programs, [prog, "threads"], replace(LIMITS, stack=8 * MIB))
    assert result.ok and result.stdout == b"0 0", result


# --- network -----------------------------------------------------------------------------

CONNECT = (
    "import socket, sys\nhost, port = sys.argv[1], int(sys.argv[2])\n"
    "s = socket.socket(); s.settimeout(1)\n"
    "try: s.connect((host, port)); print('CONNECTED')\nexcept OSError as e: print(e.errno)"
)


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """Listen on a loopback TCP port of the host."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.setblocking(False)
    yield server
    server.close()


async def test_tcp_to_a_host_port(
    sandbox: BwrapSandbox, programs: Path, listener: socket.socket
) -> None:
    port = listener.getsockname()[1]
    result = await attack(sandbox, programs, [PY, "-c", CONNECT, "127.0.0.1", str(port)])
    assert result.ok and b"CONNECTED" not in result.stdout
    with pytest.raises(BlockingIOError):
        listener.accept()


async def test_tcp_to_postgresql(sandbox: BwrapSandbox, programs: Path) -> None:
    result = await attack(sandbox, programs, [PY, "-c", CONNECT, "127.0.0.1", "5432"])
    assert result.ok and b"CONNECTED" not in result.stdout


async def test_udp_to_a_host_port(sandbox: BwrapSandbox, programs: Path) -> None:
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.setblocking(False)
    try:
        port = receiver.getsockname()[1]
        code = (
            "import socket, sys\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
            "try: s.sendto(b'leak', ('127.0.0.1', int(sys.argv[1]))); print('SENT')\n"
            "except OSError as e: print(e.errno)"
        )
        result = await attack(sandbox, programs, [PY, "-c", code, str(port)])
        assert result.ok
        time.sleep(0.05)
        with pytest.raises(BlockingIOError):
            receiver.recvfrom(100)
    finally:
        receiver.close()


async def test_abstract_unix_socket(sandbox: BwrapSandbox, programs: Path) -> None:
    name = f"\0verdict-attack-{os.getpid()}"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(name)
    server.listen()
    server.setblocking(False)
    try:
        code = (
            "import socket, sys\ns = socket.socket(socket.AF_UNIX)\n"
            "try: s.connect('\\0' + sys.argv[1][1:]); print('CONNECTED')\n"
            "except OSError as e: print(e.errno)"
        )
        result = await attack(sandbox, programs, [PY, "-c", code, "@" + name[1:]])
        assert result.ok and b"CONNECTED" not in result.stdout
        with pytest.raises(BlockingIOError):
            server.accept()
    finally:
        server.close()


LEAVE_A_SOCKET = (
    "import socket\nl = socket.socket(socket.AF_UNIX); l.bind('\\0verdict-channel'); l.listen()\n"
    "a, b = socket.socketpair()\n"
    # In flight in b's own queue, the three sockets outlive the process until the kernel's
    # garbage collector finds the cycle.
    "socket.send_fds(a, [b'x'], [l.fileno(), a.fileno(), b.fileno()])"
)
FIND_THE_SOCKET = (
    "import socket\ns = socket.socket(socket.AF_UNIX)\n"
    "try: s.connect('\\0verdict-channel'); print('CONNECTED')\n"
    "except OSError as e: print(e.errno)\n"
    "print(sum(1 for line in open('/proc/net/unix')) - 1)"
)


async def test_sockets_left_in_flight_do_not_reach_the_next_run(
    lone_sandbox: BwrapSandbox, programs: Path
) -> None:
    left = await attack(lone_sandbox, programs, [PY, "-c", LEAVE_A_SOCKET])
    assert left.ok, left
    for _ in range(3):
        seen = await attack(lone_sandbox, programs, [PY, "-c", FIND_THE_SOCKET])
        # Refused (ECONNREFUSED is 111), and the run's own socket is the only one it lists.
        assert seen.ok and seen.stdout == b"111\n1\n", seen


async def test_no_network_interfaces_up(sandbox: BwrapSandbox, programs: Path) -> None:
    code = (
        "import socket\ns = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()\n"
        "c = socket.socket(); c.settimeout(1)\n"
        "try: c.connect(s.getsockname()); print('CONNECTED')\nexcept OSError as e: print(e.errno)"
    )
    result = await attack(sandbox, programs, [PY, "-c", code])
    assert b"CONNECTED" not in result.stdout


# --- compilers and file names ------------------------------------------------------------


def _gcc_spec(source: Path, limits: Limits, *extra: str) -> RunSpec:
    return RunSpec(
        argv=["/usr/bin/gcc", "-o", "/tmp/a.out", *extra, "/src/main.c"],
        limits=limits,
        binds=[Bind(source.parent, "/src")],
    )


COMPILE = Limits(cpu_time=3.0, wall_time=5.0, memory=512 * MIB, processes=32, stderr=64 * KIB)


@pytest.fixture
def source_dir(tmp_path: Path) -> Path:
    """A directory the sandbox can read, for sources compiled inside it."""
    path = tmp_path / "src"
    path.mkdir()
    path.chmod(0o755)
    return path


async def test_include_dev_random(sandbox: BwrapSandbox, source_dir: Path) -> None:
    require_or_skip(os.access("/usr/bin/gcc", os.X_OK), "an executable gcc is needed")
    (source_dir / "main.c").write_text('#include "/dev/random"\nint main(){}\n')
    result = await sandbox.run(_gcc_spec(source_dir / "main.c", COMPILE))
    assert result.outcome is not Outcome.SANDBOX_ERROR and not result.ok
    assert result.wall_ms < 6000 and sandbox.leftover_pids() == []


async def test_include_a_host_secret(
    sandbox: BwrapSandbox, source_dir: Path, tmp_path: Path
) -> None:
    require_or_skip(os.access("/usr/bin/gcc", os.X_OK), "an executable gcc is needed")
    secret = tmp_path / "secret.h"
    secret.write_text("#error THE-HOST-SECRET\n")
    (source_dir / "main.c").write_text(f'#include "{secret}"\nint main(){{}}\n')
    result = await sandbox.run(_gcc_spec(source_dir / "main.c", COMPILE))
    assert result.outcome is Outcome.EXITED and result.exit_code == 1
    assert b"THE-HOST-SECRET" not in result.stderr
    assert b"No such file" in result.stderr


async def test_compiler_output_flood(sandbox: BwrapSandbox, source_dir: Path) -> None:
    require_or_skip(os.access("/usr/bin/gcc", os.X_OK), "an executable gcc is needed")
    (source_dir / "main.c").write_text("int f() { return x; }\n" * 20000)
    limits = Limits(cpu_time=3.0, wall_time=5.0, memory=512 * MIB, stderr=8 * KIB)
    result = await sandbox.run(_gcc_spec(source_dir / "main.c", limits))
    assert result.outcome is not Outcome.SANDBOX_ERROR and not result.ok
    assert len(result.stderr) == 8 * KIB
    assert sandbox.leftover_pids() == []


async def test_huge_source(sandbox: BwrapSandbox, source_dir: Path) -> None:
    require_or_skip(os.access("/usr/bin/gcc", os.X_OK), "an executable gcc is needed")
    body = "".join(f"int v{i} = {i};\n" for i in range(400_000))
    (source_dir / "main.c").write_text(body + "int main(){return 0;}\n")
    limits = Limits(cpu_time=1.0, wall_time=3.0, memory=512 * MIB)
    result = await sandbox.run(_gcc_spec(source_dir / "main.c", limits))
    assert result.outcome in CONTAINED | {Outcome.EXITED}
    assert result.wall_ms < 4000 and sandbox.leftover_pids() == []


async def test_template_bomb_compile(sandbox: BwrapSandbox, source_dir: Path) -> None:
    require_or_skip(os.access("/usr/bin/g++", os.X_OK), "an executable g++ is needed")
    (source_dir / "main.c").write_text(
        "template<int N> struct A { typedef typename A<N-1>::T T; A<N-1> a, b; };\n"
        "template<> struct A<0> { typedef int T; };\n"
        "A<100000> x; int main(){}\n"
    )
    spec = RunSpec(
        argv=[
            "/usr/bin/g++",
            "-x",
            "c++",
            "-ftemplate-depth=1000000",
            "-o",
            "/tmp/a.out",
            "/src/main.c",
        ],
        limits=Limits(cpu_time=1.0, wall_time=3.0, memory=256 * MIB),
        binds=[Bind(source_dir, "/src")],
    )
    result = await sandbox.run(spec)
    assert result.outcome is not Outcome.SANDBOX_ERROR and not result.ok
    assert result.wall_ms < 4000 and sandbox.leftover_pids() == []


async def test_file_names_are_never_a_shell(
    sandbox: BwrapSandbox, programs: Path, tmp_path: Path
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    for name in ("-o", "--help", "; touch pwned", "$(touch pwned)"):
        (work / name).write_text("x")
    argv = ["/bin/ls", "-1", "--", "-o", "--help", "; touch pwned", "$(touch pwned)", "`id`"]
    result = await attack(sandbox, programs, argv, workdir=work, workdir_writable=True)
    assert result.outcome is Outcome.EXITED  # ls: `id` does not exist, exit 2
    assert b"; touch pwned\n" in result.stdout and b"$(touch pwned)\n" in result.stdout
    assert not (work / "pwned").exists()
    assert sorted(os.listdir(work)) == sorted(["-o", "--help", "; touch pwned", "$(touch pwned)"])


# --- compile steps, through the evaluator ------------------------------------------------

#: A toolchain that runs the submitted script while it "compiles", then runs it again.
SELF_BUILDING = Language(
    id="selfbuild",
    name="Self-building shell",
    extensions=(".sh",),
    compile=("/usr/bin/bash", "{main}", "compile"),
    run=("/usr/bin/bash", "{main}"),
    version=("/usr/bin/bash", "--version"),
    executables=("/usr/bin/bash",),
)
#: The same, declaring the program it builds: ./main (a script it writes).
SELF_BUILDING_MAIN = dataclasses.replace(
    SELF_BUILDING, id="selfbuild-main", run=("./main",), artefact="./main"
)
#: A problem whose compile time limit keeps a runaway compile step short.
COMPILE_PROBLEM = "name: Compile attacks\nlimits:\n  compilation_time: 20\n"


@pytest.fixture
def scratch() -> Iterator[Path]:
    """A work dir the sandbox uid can traverse (pytest's tmp_path is private to root)."""
    path = make_scratch_dir(None, "verdict-attack-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


async def judged(
    sandbox: BwrapSandbox, package: Path, language: Language, sources: dict[str, str], work: Path
) -> tuple[Finished, str]:
    """Judge ``sources`` through ``evaluate``; return the final event and the compile output."""
    files = []
    for name, text in sources.items():
        (work / name).write_text(text)
        files.append(work / name)
    problem = load_package(package)
    events = [event async for event in evaluate(sandbox, problem, language, files, scratch=work)]
    assert sandbox.leftover_pids() == []
    compiled = next(event for event in events if isinstance(event, CompileFinished))
    final = events[-1]
    assert isinstance(final, Finished)
    return final, compiled.output


def disk_use(path: Path) -> int:
    """Return the bytes of disk the files under ``path`` occupy."""
    return sum(
        (Path(root) / name).lstat().st_blocks * 512
        for root, _, names in os.walk(path)
        for name in names
    )


async def test_a_submitted_py_compile_module_never_runs(
    sandbox: BwrapSandbox, tmp_path: Path, scratch: Path
) -> None:
    package = write_package(tmp_path / "p", {"secret/1": ("", "precomputed\n")})
    sources = {
        "main.py": "import os\n"
        "print(open('precomputed.txt').read() if os.path.exists('precomputed.txt') else 'no')\n",
        # `python3 -m py_compile` in /box would import this instead of the standard module.
        "py_compile.py": "open('precomputed.txt', 'w').write('precomputed')\n",
    }
    final, _ = await judged(sandbox, package, known_language("python3"), sources, scratch)
    assert final.verdict is Verdict.WA  # the run never saw the "precomputed" answer


async def test_python_compiles_with_the_standard_py_compile(
    sandbox: BwrapSandbox, tmp_path: Path, scratch: Path
) -> None:
    package = write_package(tmp_path / "p", {"secret/1": ("", "1\n")})
    sources = {"main.py": "print(1\n", "py_compile.py": "pass\n"}  # a no-op "compiler"
    final, _ = await judged(sandbox, package, known_language("python3"), sources, scratch)
    assert final.verdict is Verdict.CE


async def test_files_a_compile_step_writes_never_reach_the_runs(
    sandbox: BwrapSandbox, tmp_path: Path, scratch: Path
) -> None:
    package = write_package(
        tmp_path / "p", {"secret/1": ("", "clean\n")}, problem_yaml=COMPILE_PROBLEM
    )
    script = (
        'if [ "$1" = compile ]; then\n'
        "  echo precomputed > answer.txt; mkdir -p cache; echo x > cache/table; exit 0\n"
        "fi\n"
        "if [ -e answer.txt ] || [ -e cache ]; then echo tampered; else echo clean; fi\n"
    )
    final, _ = await judged(sandbox, package, SELF_BUILDING, {"main.sh": script}, scratch)
    assert final.verdict is Verdict.AC, final.message


async def test_a_compile_step_leaves_only_its_declared_artefact(
    sandbox: BwrapSandbox, tmp_path: Path, scratch: Path
) -> None:
    package = write_package(
        tmp_path / "p", {"secret/1": ("", "clean\n")}, problem_yaml=COMPILE_PROBLEM
    )
    script = (
        "echo precomputed > answer.txt; mkdir -p cache; echo x > cache/main\n"
        "cat > main <<'END'\n"
        "#!/bin/bash\n"
        '[ "$(ls -A /box | tr "\\n" " ")" = "main main.sh " ] && echo clean || ls -A /box\n'
        "END\n"
        "chmod +x main\n"
    )
    final, output = await judged(sandbox, package, SELF_BUILDING_MAIN, {"main.sh": script}, scratch)
    assert final.verdict is Verdict.AC, (final.message, output)


@pytest.mark.parametrize(
    ("leaves", "expected"),
    [
        ("ln -s /etc/passwd main", "produced no main"),  # a link is not an artefact
        ("mkdir main", "produced no main"),
        ("", "produced no main"),
    ],
)
async def test_a_build_without_its_artefact_is_a_compile_error(
    sandbox: BwrapSandbox, tmp_path: Path, scratch: Path, leaves: str, expected: str
) -> None:
    package = write_package(tmp_path / "p", {"secret/1": ("", "x\n")}, problem_yaml=COMPILE_PROBLEM)
    final, output = await judged(
        sandbox, package, SELF_BUILDING_MAIN, {"main.sh": leaves + "\n"}, scratch
    )
    assert final.verdict is Verdict.CE
    assert expected in output


async def test_a_compile_step_cannot_fill_the_host_disk(
    sandbox: BwrapSandbox, tmp_path: Path, scratch: Path
) -> None:
    (scratch / "main.sh").write_text(
        'if [ "$1" = compile ]; then\n'
        "  for i in $(seq 1 16); do fallocate -l 64M fill$i || break; done\n"
        "  head -c 300M /dev/zero > big; exit 0\n"
        "fi\n"
    )
    built = await build_program(
        sandbox,
        SELF_BUILDING,
        [scratch / "main.sh"],
        make_readable_dir(scratch, "build"),
        compile_seconds=20,
        compile_memory_mb=1024,
    )
    assert built.ok, built.output  # the compile step itself "succeeded"...
    assert "No space left on device" in built.output  # ...in a tmpfs that filled up
    assert disk_use(scratch) < 1 * MIB  # and left nothing on the host's disk
    assert sandbox.leftover_pids() == []


@pytest.mark.parametrize(("language_id", "name"), [("c", "main.c"), ("cpp", "main.cpp")])
async def test_an_include_of_a_host_file_is_a_compile_error(
    sandbox: BwrapSandbox, tmp_path: Path, scratch: Path, language_id: str, name: str
) -> None:
    package = write_package(tmp_path / "p", {"secret/1": ("", "THE-SECRET-ANSWER\n")})
    answer = package / "data" / "secret" / "1.ans"
    source = f'#include "{answer}"\nint main(void) {{ return 0; }}\n'
    final, output = await judged(
        sandbox, package, known_language(language_id), {name: source}, scratch
    )
    assert final.verdict is Verdict.CE
    assert "No such file" in output and "THE-SECRET-ANSWER" not in output
