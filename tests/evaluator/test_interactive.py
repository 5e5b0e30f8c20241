"""Interactive problems in the real sandbox: the interactor, the order of verdicts, no deadlock."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.evaluator import Verdict, load_package
from service.evaluator.languages import known_language
from service.evaluator.runner import Finished, Mode, evaluate
from service.evaluator.runner import TestFinished as FinishedTest
from tests.factories import write_package
from tests.fakes import FakeSandbox, real_sandbox

#: Echo game: the interactor sends the test's number, expects it doubled, then says "ok".
#: With the input 0 it crashes at once (a broken interactor).
INTERACTOR = """\
import sys
n = int(open(sys.argv[1]).read())
if n == 0:
    raise SystemExit(7)
print(n, flush=True)
line = sys.stdin.readline()
if line.strip() != str(2 * n):
    open(sys.argv[3] + "judgemessage.txt", "w").write(f"expected {2 * n}, got {line.strip()!r}")
    sys.exit(43)
print("ok", flush=True)
sys.exit(42)
"""

PROGRAMS = {
    "doubles.py": "n = int(input())\nprint(2 * n, flush=True)\nassert input() == 'ok'\n",
    "wrong.py": "n = int(input())\nprint(n, flush=True)\n",
    "crashes.py": "n = int(input())\nraise SystemExit(3)\n",
    "answers_then_crashes.py": "n = int(input())\nprint(2 * n, flush=True)\ninput()\n"
    "raise SystemExit(5)\n",
    "never_reads.py": "import time\ntime.sleep(30)\n",
    "floods.py": "import sys\nwhile True:\n    sys.stdout.write('1\\n' * 4096)\n",
}


def _write(tmp_path: Path, number: int) -> Path:
    root = write_package(
        tmp_path / f"echo{number}",
        {"secret/1": (f"{number}\n", "\n")},
        problem_yaml="problem_format_version: 2025-09\nname: Echo\ntype: interactive\n"
        "limits:\n  time_limit: 1\n  validation_time: 5\n",
    )
    (root / "output_validator").mkdir()
    (root / "output_validator" / "interactor.py").write_text(INTERACTOR)
    return root


async def judge(tmp_path: Path, program: str, number: int = 21) -> FinishedTest:
    problem = load_package(_write(tmp_path, number))
    source = tmp_path / program
    source.write_text(PROGRAMS[program])
    async with real_sandbox() as sandbox:
        events = [
            event
            async for event in evaluate(
                sandbox, problem, known_language("python3"), [source], mode=Mode.CONTEST
            )
        ]
    assert isinstance(events[-1], Finished)
    (test,) = [event for event in events if isinstance(event, FinishedTest)]
    return test


@pytest.mark.sandbox
@pytest.mark.parametrize(
    ("program", "verdict", "message"),
    [
        ("doubles.py", Verdict.AC, ""),
        ("wrong.py", Verdict.WA, "expected 42, got '21'"),
        ("crashes.py", Verdict.RE, "exit code 3"),  # it failed before the interactor ended
        ("answers_then_crashes.py", Verdict.RE, "exit code 5"),  # accepted, then it crashed
        ("never_reads.py", Verdict.TLE, "wall time over 2.5 s"),  # no deadlock: the wall clock
        # The interactor rejects the first line; the flood then breaks its pipe, later.
        ("floods.py", Verdict.WA, "expected 42, got '1'"),
    ],
)
async def test_the_interactor_decides_unless_the_submission_failed_first(
    tmp_path: Path, program: str, verdict: Verdict, message: str
) -> None:
    test = await judge(tmp_path, program)

    assert test.verdict is verdict, test.message
    assert message in test.message


@pytest.mark.sandbox
async def test_an_interactor_that_crashes_by_itself_is_a_judge_error(tmp_path: Path) -> None:
    test = await judge(tmp_path, "doubles.py", number=0)

    assert test.verdict is Verdict.JE
    assert "interactor: output validator failed (exit code 7)" in test.message


async def test_a_sandbox_without_pairs_of_runs_says_so(tmp_path: Path) -> None:
    problem = load_package(_write(tmp_path, 21))
    source = tmp_path / "doubles.py"
    source.write_text(PROGRAMS["doubles.py"])

    events = [
        event
        async for event in evaluate(FakeSandbox(), problem, known_language("python3"), [source])
    ]

    (test,) = [event for event in events if isinstance(event, FinishedTest)]
    assert (test.verdict, test.message) == (
        Verdict.JE,
        "the sandbox cannot run an interactive problem",
    )


@pytest.mark.sandbox
async def test_a_sandbox_of_one_slot_cannot_pair_runs_and_says_so(tmp_path: Path) -> None:
    problem = load_package(_write(tmp_path, 21))
    source = tmp_path / "doubles.py"
    source.write_text(PROGRAMS["doubles.py"])

    async with real_sandbox(slots=1) as sandbox:
        events = [
            event async for event in evaluate(sandbox, problem, known_language("python3"), [source])
        ]

    (test,) = [event for event in events if isinstance(event, FinishedTest)]
    assert (test.verdict, test.message) == (
        Verdict.JE,
        "sandbox failed: a pair of runs needs two slots",
    )
