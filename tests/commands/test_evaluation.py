"""The `verdict judge`, `verdict verify` and `verdict languages` commands."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from service.cli import main
from service.commands import evaluation
from service.evaluator import (
    Outcome,
    RunResult,
    RunSpec,
    Sandbox,
    SandboxUnavailable,
    create_sandbox,
)
from tests.factories import write_package
from tests.fakes import FakeSandbox, exited
from tests.helpers import require_or_skip

TESTS = {"sample/1": ("1 2\n", "3\n"), "secret/1": ("20 22\n", "42\n")}
ADD_PY = "a, b = map(int, input().split())\nprint(a + b)\n"


def add(stdin: bytes, spec: RunSpec) -> RunResult:
    """A fake program adding two numbers, or subtracting them when its file says "sub"."""
    a, b = map(int, stdin.split())
    if "sub" in spec.argv[-1]:
        return exited(f"{a - b}\n".encode(), cpu_ms=7)
    return exited(f"{a + b}\n".encode(), cpu_ms=7)


@pytest.fixture
def sandbox(monkeypatch: pytest.MonkeyPatch) -> FakeSandbox:
    fake = FakeSandbox(program=add)
    modes: list[str] = []
    asked_slots: list[int | None] = []

    def create(mode: str = "bwrap", slots: int | None = None) -> Sandbox:
        modes.append(mode)
        asked_slots.append(slots)
        return fake

    monkeypatch.setattr(evaluation, "create_sandbox", create)
    fake.modes = modes  # type: ignore[attr-defined]
    fake.asked_slots = asked_slots  # type: ignore[attr-defined]
    return fake


@pytest.fixture
def package(tmp_path: Path) -> Path:
    return write_package(
        tmp_path / "add",
        TESTS,
        problem_yaml="name: Add\n",
        submissions={"accepted/add.py": ADD_PY, "wrong_answer/sub.py": ADD_PY},
    )


def require_sandbox() -> None:
    """Skip (or fail under VERDICT_REQUIRE_ALL=1) when the real sandbox cannot work here."""
    mode = os.environ.get("SANDBOX", "bwrap")
    try:
        create_sandbox(mode=mode).close()
    except SandboxUnavailable as error:
        require_or_skip(False, f"sandbox {mode!r} unavailable here: {error}")


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_languages_json_lists_offered_languages_with_versions() -> None:
    code, out, _ = run("languages", "--json")

    assert code == 0
    languages = json.loads(out)
    python = next(item for item in languages if item["id"] == "python3")
    assert set(python) == {"id", "name", "version", "extensions"}
    assert python["name"] == "Python 3"
    assert python["version"].startswith("3.")
    assert ".py" in python["extensions"]


def test_languages_table_shows_one_line_per_language() -> None:
    code, out, _ = run("languages")

    assert code == 0
    assert any(line.startswith("python3 ") for line in out.splitlines())


def test_judge_json_has_the_documented_shape(
    sandbox: FakeSandbox, package: Path, tmp_path: Path
) -> None:
    source = tmp_path / "add.py"
    source.write_text(ADD_PY)

    code, out, _ = run("judge", str(package), str(source), "--json")

    assert code == 0
    document = json.loads(out)
    assert document == {
        "verdict": "AC",
        "score": 1.0,
        "compile_output": "",
        "tests": [
            {
                "name": "sample/1",
                "verdict": "AC",
                "time_ms": 7,
                "wall_ms": 9,
                "memory_kb": 1000,
                "message": "",
            },
            {
                "name": "secret/1",
                "verdict": "AC",
                "time_ms": 7,
                "wall_ms": 9,
                "memory_kb": 1000,
                "message": "",
            },
        ],
    }


def test_judge_rejected_exits_1_and_teaching_mode_runs_everything(
    sandbox: FakeSandbox, package: Path, tmp_path: Path
) -> None:
    source = tmp_path / "sub.py"
    source.write_text(ADD_PY)

    code, out, _ = run("judge", str(package), str(source), "--json", "--mode", "teaching")

    assert code == 1
    document = json.loads(out)
    assert (document["verdict"], document["score"]) == ("WA", 0.0)
    assert [test["verdict"] for test in document["tests"]] == ["WA", "WA"]


def test_judge_table_output_shows_tests_and_verdict(
    sandbox: FakeSandbox, package: Path, tmp_path: Path
) -> None:
    source = tmp_path / "add.py"
    source.write_text(ADD_PY)

    code, out, _ = run("judge", str(package), str(source))

    assert code == 0
    assert "sample/1" in out and "secret/1" in out
    assert "verdict: AC (accepted)" in out
    assert "score: 1.00 (2/2 tests passed)" in out


def scoring_package(root: Path) -> Path:
    """The add problem as a 2025-09 scoring problem: groups of 40 and 60 points."""
    package = write_package(
        root,
        {
            "sample/1": ("1 2\n", "3\n"),
            "secret/g1/1": ("1 1\n", "2\n"),
            "secret/g2/1": ("2 2\n", "4\n"),
        },
        problem_yaml="problem_format_version: 2025-09\nname: Add\ntype: scoring\n",
    )
    for group, points in (("g1", 40), ("g2", 60)):
        (package / "data" / "secret" / group / "test_group.yaml").write_text(
            f"max_score: {points}\n"
        )
    return package


def test_judge_shows_the_points_of_a_scoring_problem(sandbox: FakeSandbox, tmp_path: Path) -> None:
    package = scoring_package(tmp_path / "add")
    source = tmp_path / "sol.py"  # the fake sandbox decides what it prints
    source.write_text(ADD_PY)

    def half(stdin: bytes, spec: RunSpec) -> RunResult:
        return exited(b"4\n" if stdin == b"2 2\n" else b"0\n")

    sandbox.program = half
    code, out, _ = run("judge", str(package), str(source))
    json_code, json_out, _ = run("judge", str(package), str(source), "--json")

    assert code == json_code == 1
    assert "score: 60 of 100 points" in out
    assert "  group secret/g1: 0 of 40 (WA)" in out
    document = json.loads(json_out)
    assert (document["score"], document["max_score"]) == (60.0, 100.0)
    assert document["groups"][0] == {
        "name": "secret",
        "score": 60.0,
        "max_score": 100.0,
        "verdict": "WA",
    }
    assert [test.get("score") for test in document["tests"]] == [0.0, 0.0, 0.0]


def test_judge_a_submit_answer_problem_needs_no_language(
    sandbox: FakeSandbox, tmp_path: Path
) -> None:
    package = write_package(
        tmp_path / "answers",
        {"secret/1": ("", "3\n")},
        problem_yaml="problem_format_version: 2025-09\nname: Answers\ntype: submit-answer\n",
    )
    answer = tmp_path / "1.out"
    answer.write_text("3\n")

    code, out, _ = run("judge", str(package), str(answer))

    assert code == 0, out
    assert "compiling (answers)" in out and "verdict: AC" in out
    assert sandbox.specs == []


def test_judge_a_directory_of_sources(sandbox: FakeSandbox, package: Path, tmp_path: Path) -> None:
    folder = tmp_path / "solution"
    folder.mkdir()
    (folder / "main.py").write_text("from helper import *\n")
    (folder / "helper.py").write_text("")

    code, _, _ = run("judge", str(package), str(folder))

    assert code == 0
    assert sandbox.runs[0].argv == ["/usr/bin/python3", "main.py"]


def test_judge_unknown_extension_or_language_exits_2(
    sandbox: FakeSandbox, package: Path, tmp_path: Path
) -> None:
    source = tmp_path / "add.xyz"
    source.write_text("")

    code, _, err = run("judge", str(package), str(source))
    code_lang, _, err_lang = run("judge", str(package), str(source), "--language", "cobol")

    assert code == 2
    assert "no language uses .xyz" in err
    assert code_lang == 2
    assert "offered: " in err_lang and "python3" in err_lang


def test_judge_a_broken_package_exits_2_naming_the_file(
    sandbox: FakeSandbox, tmp_path: Path
) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "problem.yaml").write_text("name: [unclosed\n")
    source = tmp_path / "a.py"
    source.write_text("")

    code, _, err = run("judge", str(broken), str(source))

    assert code == 2
    assert "problem.yaml" in err


def test_judge_error_exits_3(sandbox: FakeSandbox, package: Path, tmp_path: Path) -> None:
    sandbox.sandbox_errors = 99
    source = tmp_path / "add.py"
    source.write_text(ADD_PY)

    code, out, err = run("judge", str(package), str(source), "--json")

    assert code == 3
    assert json.loads(out)["verdict"] == "JE"
    assert "fake failure" in err


def test_sandbox_mode_comes_from_the_option_or_env(
    sandbox: FakeSandbox, package: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run("verify", str(package))
    monkeypatch.setenv("SANDBOX", "unsafe-rlimit")
    run("verify", str(package))
    run("verify", str(package), "--sandbox", "bwrap")

    assert sandbox.modes == ["bwrap", "unsafe-rlimit", "bwrap"]  # type: ignore[attr-defined]


def test_slots_come_from_evaluator_concurrency(
    sandbox: FakeSandbox, package: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run("verify", str(package))
    monkeypatch.setenv("EVALUATOR_CONCURRENCY", "3")
    run("verify", str(package))
    monkeypatch.setenv("EVALUATOR_CONCURRENCY", "many")
    code, _, err = run("verify", str(package))

    assert sandbox.asked_slots == [None, 3]  # type: ignore[attr-defined]
    assert code == 2
    assert "EVALUATOR_CONCURRENCY must be a positive integer" in err


def test_unsafe_sandbox_warns_loudly(
    sandbox: FakeSandbox, package: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox.safe = False

    _, _, err = run("verify", str(package))

    assert "does NOT isolate" in err


def test_unavailable_sandbox_exits_3(
    package: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def create(mode: str = "bwrap", slots: int | None = None) -> Sandbox:
        raise SandboxUnavailable("bwrap is not installed")

    monkeypatch.setattr(evaluation, "create_sandbox", create)

    code, _, err = run("verify", str(package))

    assert code == 3
    assert "bwrap is not installed" in err


def test_verify_json_has_the_documented_shape_and_exits_1_on_mismatch(
    sandbox: FakeSandbox, package: Path
) -> None:
    code, out, _ = run("verify", str(package), "--json")

    assert code == 0
    document = json.loads(out)
    assert document == {
        "problem": "add",
        "time_limit_s": 1.0,
        "samples_only": False,
        "input_validation": {"validators": [], "checked": 0, "failures": [], "not_run": []},
        "submissions": [
            {
                "path": "accepted/add.py",
                "language": "python3",
                "expected": ["AC"],
                "verdict": "AC",
                "ok": True,
                "skipped": None,
                "problem": None,
                "check_manually": False,
                "max_time_ms": 7,
            },
            {
                "path": "wrong_answer/sub.py",
                "language": "python3",
                "expected": ["WA"],
                "verdict": "WA",
                "ok": True,
                "skipped": None,
                "problem": None,
                "check_manually": False,
                "max_time_ms": 7,
            },
        ],
        "summary": {
            "judged": 2,
            "ok": 2,
            "mismatched": 0,
            "skipped": 0,
            "problems": 0,
            "check_manually": 0,
        },
    }


def test_verify_table_and_exit_code_on_mismatch(sandbox: FakeSandbox, tmp_path: Path) -> None:
    package = write_package(
        tmp_path / "add",
        TESTS,
        submissions={"accepted/sub.py": ADD_PY, "accepted/main.cob": "DISPLAY 'HI'.\n"},
    )
    sandbox.program = lambda stdin, spec: RunResult(Outcome.EXITED, exit_code=0, stdout=b"0\n")

    code, out, _ = run("verify", str(package), "--time-limit", "2")

    assert code == 1
    assert "MISMATCH" in out
    assert "skipped" in out
    assert "time limit 2 s (given)" in out
    assert "mismatched 1" in out


def test_verify_reports_samples_only_problems_and_manual_checks(
    sandbox: FakeSandbox, tmp_path: Path
) -> None:
    package = write_package(
        tmp_path / "hello",
        {"sample/1": ("1 2\n", "3\n")},
        submissions={
            "accepted/add.py": ADD_PY,
            "check_manually/sub.py": ADD_PY,
            "wrong_answer/odd.py": "# @EXPECTED_RESULTS@: PRESENTATION_ERROR\n" + ADD_PY,
        },
    )

    code, out, _ = run("verify", str(package), "--time-limit", "1")

    assert code == 1  # the unreadable expectation
    lines = out.splitlines()
    assert lines[-2] == "hello: the package has sample tests only; judged on those"
    assert "problems 1, to check manually 1" in lines[-1]
    assert any("check_manually/sub.py" in line and "check manually" in line for line in lines)
    assert any("PROBLEM: " in line and "PRESENTATION_ERROR" in line for line in lines)


def test_verify_lists_inputs_the_input_validators_reject(
    sandbox: FakeSandbox, package: Path
) -> None:
    (package / "input_validators").mkdir()
    (package / "input_validators" / "check.py").write_text("import sys\nsys.exit(43)\n")
    (package / "input_validators" / "format.ctd").write_text("INT(0, 9)\n")

    def programs(stdin: bytes, spec: RunSpec) -> RunResult:
        if spec.argv[-1] == "check.py":
            return exited(code=43, stderr=b"bad input")
        return add(stdin, spec)

    sandbox.program = programs

    code, out, _ = run("verify", str(package))

    assert code == 1
    assert "input sample/1: validator check rejected it: bad input" in out
    assert "input validator format: not run: a checktestdata script (no .ctd here)" in out
    assert "add: input validators check: 0 of 2 checks passed" in out


@pytest.mark.sandbox
def test_judge_for_real_in_the_sandbox(package: Path, tmp_path: Path) -> None:
    require_sandbox()
    source = tmp_path / "add.py"
    source.write_text(ADD_PY)

    code, out, _ = run("judge", str(package), str(source), "--json")

    assert code == 0, out
    document = json.loads(out)
    assert document["verdict"] == "AC"
    assert all(test["memory_kb"] > 0 and test["wall_ms"] > 0 for test in document["tests"])
