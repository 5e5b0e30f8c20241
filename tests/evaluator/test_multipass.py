"""Multi-pass problems in the real sandbox: the validator's nextpass.in and the pass limit."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.evaluator import PackageError, Verdict, load_package
from service.evaluator.languages import known_language
from service.evaluator.runner import Finished, evaluate
from service.evaluator.runner import TestFinished as FinishedTest
from tests.factories import EXAMPLES, write_package
from tests.fakes import real_sandbox

#: Accepts any output and always asks for one more pass.
GREEDY = """\
import sys
open(sys.argv[3] + "nextpass.in", "w").write("again\\n")
sys.exit(42)
"""
#: Rejects, yet asks for another pass: not allowed.
CONFUSED = """\
import sys
open(sys.argv[3] + "nextpass.in", "w").write("again\\n")
sys.exit(43)
"""


async def judge(problem_root: Path, source: Path) -> list[FinishedTest]:
    problem = load_package(problem_root)
    async with real_sandbox() as sandbox:
        events = [
            event async for event in evaluate(sandbox, problem, known_language("python3"), [source])
        ]
    assert isinstance(events[-1], Finished)
    return [event for event in events if isinstance(event, FinishedTest)]


def package(tmp_path: Path, validator: str, passes: int = 2) -> Path:
    root = write_package(
        tmp_path / "passes",
        {"secret/1": ("1\n", "1\n")},
        problem_yaml="problem_format_version: 2025-09\nname: Passes\ntype: multi-pass\n"
        f"limits:\n  validation_passes: {passes}\n",
    )
    (root / "output_validator").mkdir()
    (root / "output_validator" / "validate.py").write_text(validator)
    return root


@pytest.mark.sandbox
async def test_each_pass_reads_what_the_validator_wrote(tmp_path: Path) -> None:
    source = tmp_path / "plus_one.py"
    source.write_text("print(int(input()) + 1)\n")
    wrong = tmp_path / "plus_two.py"
    wrong.write_text("print(int(input()) + 2)\n")

    (right,) = [t for t in await judge(EXAMPLES / "countup", source) if t.name == "sample/1"]
    (bad,) = [t for t in await judge(EXAMPLES / "countup", wrong) if t.name == "sample/1"]

    assert right.verdict is Verdict.AC
    assert (bad.verdict, bad.message) == (Verdict.WA, "pass 1: expected 6, got '7'")


@pytest.mark.sandbox
@pytest.mark.parametrize(
    ("validator", "message"),
    [
        (GREEDY, "the validator asked for more than 3 passes"),
        (CONFUSED, "output validator wrote nextpass.in but did not accept"),
    ],
)
async def test_a_validator_breaking_the_pass_rules_is_a_judge_error(
    tmp_path: Path, validator: str, message: str
) -> None:
    source = tmp_path / "echo.py"
    source.write_text("print(input())\n")

    (test,) = await judge(package(tmp_path, validator, passes=3), source)

    assert (test.verdict, test.message) == (Verdict.JE, message)


def test_a_multi_pass_problem_needs_a_validator_and_two_passes_at_least(tmp_path: Path) -> None:
    few = package(tmp_path / "few", GREEDY, passes=1)
    alone = write_package(
        tmp_path / "alone",
        {"secret/1": ("1\n", "1\n")},
        problem_yaml="problem_format_version: 2025-09\ntype: multi-pass\n",
    )

    with pytest.raises(PackageError, match="'validation_passes' must be at least 2"):
        load_package(few)
    with pytest.raises(PackageError, match="a multi-pass problem needs its validator"):
        load_package(alone)
    assert load_package(package(tmp_path / "ok", GREEDY, passes=4)).limits.validation_passes == 4


@pytest.mark.sandbox
async def test_a_pass_that_crashes_gets_the_programs_verdict(tmp_path: Path) -> None:
    source = tmp_path / "odd_crash.py"  # crashes on the second pass of the sample (input 6)
    source.write_text("x = int(input())\nif x % 2 == 0:\n    raise SystemExit(4)\nprint(x + 1)\n")

    (sample, *_) = await judge(EXAMPLES / "countup", source)

    assert (sample.name, sample.verdict, sample.message) == ("sample/1", Verdict.RE, "exit code 4")
