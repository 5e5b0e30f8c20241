"""Custom output validators (42 accepts, 43 rejects, else judge error) and the default checker."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.evaluator import (
    Event,
    Finished,
    ProblemPackage,
    RunResult,
    RunSpec,
    Verdict,
    evaluate,
    known_language,
    load_package,
)
from service.evaluator import TestFinished as FinishedTest
from service.evaluator.checkers import DefaultChecker
from tests.factories import write_package
from tests.fakes import Behaviour, FakeSandbox, exited, real_sandbox

PYTHON = known_language("python3")

VALIDATOR_PY = """\
import sys
given = open(sys.argv[1]).read().split()
answer = open(sys.argv[2]).read().split()
output = sys.stdin.read().split()
feedback = sys.argv[3]
ok = sorted(output) == sorted(answer)
with open(feedback + "judgemessage.txt", "w") as f:
    f.write("flags " + " ".join(sys.argv[4:]) + ("; same multiset" if ok else "; differs"))
sys.exit(42 if ok else 43)
"""


def custom_problem(tmp_path: Path, validator: str = VALIDATOR_PY) -> ProblemPackage:
    return load_package(
        write_package(
            tmp_path / "anyorder",
            {"secret/1": ("3\n", "1 2 3\n")},
            problem_yaml="name: Any order\nvalidation: custom\nvalidator_flags: strict\n",
            validator={"validate.py": validator},
        )
    )


def validator_behaviour(exit_code: int, message: str = "") -> Behaviour:
    """Fake runs: the program prints "3 2 1"; the validator writes ``message`` and exits."""

    def run(stdin: bytes, spec: RunSpec) -> RunResult:
        if "/judge/input" not in spec.argv:
            return exited(b"3 2 1\n")
        feedback = next(bind.source for bind in spec.binds if bind.target == "/feedback")
        if message:
            (feedback / "judgemessage.txt").write_text(message)
        return exited(code=exit_code, stderr=b"validator trace")

    return run


async def collect(sandbox: FakeSandbox, problem: ProblemPackage, source: Path) -> list[Event]:
    return [event async for event in evaluate(sandbox, problem, PYTHON, [source])]


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "sol.py"
    path.write_text("print(3, 2, 1)\n")
    return path


async def test_validator_runs_with_input_answer_feedback_dir_and_flags(
    tmp_path: Path, source: Path
) -> None:
    seen: list[RunSpec] = []
    behaviour = validator_behaviour(42, "fine")

    def run(stdin: bytes, spec: RunSpec) -> RunResult:
        if "/judge/input" in spec.argv:
            seen.append(spec)
            assert stdin == b"3 2 1\n"
            binds = {bind.target: bind.source.read_text() for bind in spec.binds[:2]}
            assert binds == {"/judge/input": "3\n", "/judge/answer": "1 2 3\n"}
        return behaviour(stdin, spec)

    sandbox = FakeSandbox(program=run)
    events = await collect(sandbox, custom_problem(tmp_path), source)

    assert seen[0].argv == [
        "/usr/bin/python3",
        "validate.py",
        "/judge/input",
        "/judge/answer",
        "/feedback/",
        "strict",
    ]
    test = next(e for e in events if isinstance(e, FinishedTest))
    assert (test.verdict, test.message) == (Verdict.AC, "fine")
    assert len(sandbox.builds) == 2  # the submission and the validator, each once


@pytest.mark.parametrize(
    ("exit_code", "verdict", "message"),
    [
        (42, Verdict.AC, "judge says yes"),
        (43, Verdict.WA, "judge says no"),
        (1, Verdict.JE, "output validator failed (exit code 1): validator trace"),
    ],
)
async def test_validator_exit_code_decides(
    tmp_path: Path, source: Path, exit_code: int, verdict: Verdict, message: str
) -> None:
    text = {42: "judge says yes", 43: "judge says no"}.get(exit_code, "")
    sandbox = FakeSandbox(program=validator_behaviour(exit_code, text))

    events = await collect(sandbox, custom_problem(tmp_path), source)

    test = next(e for e in events if isinstance(e, FinishedTest))
    assert (test.verdict, test.message) == (verdict, message)


async def test_validator_that_does_not_build_is_a_judge_error(tmp_path: Path, source: Path) -> None:
    def compiler(spec: RunSpec) -> RunResult:
        broken = "validate.py" in spec.argv
        return exited(code=1 if broken else 0, stderr=b"SyntaxError" if broken else b"")

    sandbox = FakeSandbox(compiler=compiler)

    events = await collect(sandbox, custom_problem(tmp_path), source)

    done = events[-1]
    assert isinstance(done, Finished)
    assert done.verdict is Verdict.JE
    assert "cannot build the output validator" in done.message
    assert "SyntaxError" in done.message
    assert sandbox.runs == []


async def test_judge_message_is_read_without_following_links(tmp_path: Path, source: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("host secret")

    def run(stdin: bytes, spec: RunSpec) -> RunResult:
        if "/judge/input" not in spec.argv:
            return exited(b"3 2 1\n")
        feedback = next(bind.source for bind in spec.binds if bind.target == "/feedback")
        (feedback / "judgemessage.txt").symlink_to(secret)
        return exited(code=43)

    events = await collect(FakeSandbox(program=run), custom_problem(tmp_path), source)

    test = next(e for e in events if isinstance(e, FinishedTest))
    assert test.verdict is Verdict.WA
    assert "host secret" not in test.message


async def test_default_checker_compares_tokens_with_flags(tmp_path: Path) -> None:
    answer = tmp_path / "a.ans"
    answer.write_text("Hello 1.0\n")
    checker = DefaultChecker()

    def check(output: bytes, *flags: str) -> object:
        return checker.check(
            input=answer, answer=answer, output=output, flags=flags, scratch=tmp_path
        )

    assert (await check(b"hello   1.0\r\n")).accepted  # type: ignore[misc]
    assert not (await check(b"hello 1.0", "case_sensitive")).accepted  # type: ignore[misc]
    assert not (await check(b"Hello 1.00001")).accepted  # type: ignore[misc]
    assert (await check(b"Hello 1.00001", "float_tolerance", "1e-4")).accepted  # type: ignore[misc]


@pytest.mark.sandbox
async def test_real_python_validator_accepts_any_order(tmp_path: Path) -> None:
    async with real_sandbox() as sandbox:
        problem = custom_problem(tmp_path)
        good = tmp_path / "good.py"
        good.write_text("print(3, 1, 2)\n")
        bad = tmp_path / "bad.py"
        bad.write_text("print(3, 1, 1)\n")

        good_events = [event async for event in evaluate(sandbox, problem, PYTHON, [good])]
        bad_events = [event async for event in evaluate(sandbox, problem, PYTHON, [bad])]

        good_test = next(e for e in good_events if isinstance(e, FinishedTest))
        bad_test = next(e for e in bad_events if isinstance(e, FinishedTest))
        assert (good_test.verdict, good_test.message) == (Verdict.AC, "flags strict; same multiset")
        assert (bad_test.verdict, bad_test.message) == (Verdict.WA, "flags strict; differs")
