"""The development-only rlimit sandbox, with harmless programs only."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from service.evaluator.sandbox import (
    MIB,
    Bind,
    Limits,
    Outcome,
    RunSpec,
    UnsafeRlimitSandbox,
    create_sandbox,
    unsafe,
)

PY = "/usr/bin/python3"
FAST = Limits(cpu_time=0.5, wall_time=2.0)


def py(code: str, limits: Limits = FAST, **kwargs: object) -> RunSpec:
    """Return a spec running python3 on ``code``."""
    return RunSpec(argv=[PY, "-c", code], limits=limits, **kwargs)  # type: ignore[arg-type]


def test_create_warns_loudly(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(unsafe, "_warned", False)
    sandbox = create_sandbox("unsafe-rlimit", slots=1)
    try:
        assert isinstance(sandbox, UnsafeRlimitSandbox) and not sandbox.safe
        assert "WITHOUT isolation" in capsys.readouterr().err
        create_sandbox("unsafe-rlimit", slots=1).close()
        assert capsys.readouterr().err == ""  # once per process
    finally:
        sandbox.close()


async def test_check(unsafe_sandbox: UnsafeRlimitSandbox) -> None:
    assert await unsafe_sandbox.check() is None


async def test_exit_codes_and_output(unsafe_sandbox: UnsafeRlimitSandbox) -> None:
    result = await unsafe_sandbox.run(
        py("import sys; print('hi'); print('oops', file=sys.stderr); sys.exit(4)")
    )
    assert result.outcome is Outcome.EXITED and result.exit_code == 4
    assert result.stdout == b"hi\n" and result.stderr == b"oops\n"
    ok = await unsafe_sandbox.run(
        py("x = bytearray(30 * 1024 * 1024); import time; time.sleep(0.05)")
    )
    assert ok.ok and 30 * 1024 <= ok.memory_kb < 60 * 1024


async def test_programs_run_below_the_web_servers_priority(
    unsafe_sandbox: UnsafeRlimitSandbox,
) -> None:
    result = await unsafe_sandbox.run(py("import os; print(os.nice(0))"))
    assert int(result.stdout) == os.nice(0) + 10


async def test_signal(unsafe_sandbox: UnsafeRlimitSandbox) -> None:
    result = await unsafe_sandbox.run(py("import os; os.abort()"))
    assert result.outcome is Outcome.SIGNALED and result.signal == 6


async def test_time_limit(unsafe_sandbox: UnsafeRlimitSandbox) -> None:
    result = await unsafe_sandbox.run(py("while True: pass"))
    assert result.outcome is Outcome.TIME_LIMIT and result.cpu_ms >= 500


async def test_wall_time_limit(unsafe_sandbox: UnsafeRlimitSandbox) -> None:
    result = await unsafe_sandbox.run(py("import time; time.sleep(10)", Limits(wall_time=0.3)))
    assert result.outcome is Outcome.WALL_TIME_LIMIT and result.wall_ms < 2000


async def test_output_limit(unsafe_sandbox: UnsafeRlimitSandbox) -> None:
    code = "import sys\nfor _ in range(10000): sys.stdout.write('x' * 1000)"
    result = await unsafe_sandbox.run(py(code, Limits(output=5000)))
    assert result.outcome is Outcome.OUTPUT_LIMIT and len(result.stdout) == 5000


async def test_memory_limit(unsafe_sandbox: UnsafeRlimitSandbox) -> None:
    result = await unsafe_sandbox.run(
        py("x = bytearray(300 * 1024 * 1024)", Limits(memory=64 * MIB))
    )
    assert result.outcome is Outcome.MEMORY_LIMIT


async def test_does_not_wait_for_a_background_pipe_holder(
    unsafe_sandbox: UnsafeRlimitSandbox,
) -> None:
    start = time.monotonic()
    result = await unsafe_sandbox.run(
        RunSpec(argv=["/bin/sh", "-c", "sleep 5 & echo done"], limits=FAST)
    )
    assert result.ok and result.stdout == b"done\n"
    assert time.monotonic() - start < 2


async def test_box_and_binds_are_mapped_to_host_paths(
    unsafe_sandbox: UnsafeRlimitSandbox, tmp_path: Path
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    data = tmp_path / "data"
    data.mkdir()
    (data / "in.txt").write_text("42")
    code = "import sys; print(open(sys.argv[1]).read()); open('out', 'w').write('x')"
    spec = RunSpec(
        argv=[PY, "-c", code, "/data/in.txt"],
        limits=FAST,
        workdir=work,
        workdir_writable=True,
        binds=[Bind(data, "/data")],
    )
    result = await unsafe_sandbox.run(spec)
    assert result.ok, result
    assert result.stdout == b"42\n" and (work / "out").read_text() == "x"


async def test_missing_program_is_a_sandbox_error(unsafe_sandbox: UnsafeRlimitSandbox) -> None:
    result = await unsafe_sandbox.run(RunSpec(argv=["/nonexistent/prog"]))
    assert result.outcome is Outcome.SANDBOX_ERROR
