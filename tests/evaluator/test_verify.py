"""Verifying packages: expected verdicts, time-limit derivation, skipped languages."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.evaluator import (
    Outcome,
    PackageError,
    RunResult,
    RunSpec,
    Verdict,
    languages,
    load_package,
)
from service.evaluator.verify import derive_time_limit, verify
from tests.factories import write_package
from tests.fakes import FakeSandbox, exited, real_sandbox

TESTS = {"sample/1": ("1\n", "1\n"), "secret/1": ("2\n", "2\n"), "secret/2": ("3\n", "3\n")}


def by_file(stdin: bytes, spec: RunSpec) -> RunResult:
    """Fake programs named after what they do; ``slow`` ones need 5 s of CPU."""
    name = spec.argv[-1]
    if name.startswith("slow"):
        if spec.limits.cpu_time < 5:
            return RunResult(Outcome.TIME_LIMIT, cpu_ms=int(spec.limits.cpu_time * 1000))
        return exited(stdin, cpu_ms=5000)
    if name.startswith("fast"):
        return exited(stdin, cpu_ms=300)
    if name.startswith("wrong"):
        return exited(b"0\n")
    if name.startswith("crash"):
        return exited(code=1)
    return exited(stdin, cpu_ms=100)


@pytest.mark.parametrize(
    ("slowest_ms", "multiplier", "limit"),
    [(30, 5.0, 1.0), (200, 5.0, 1.0), (201, 5.0, 2.0), (300, 5.0, 2.0), (1000, 2.0, 2.0)],
)
def test_time_limit_is_slowest_accepted_times_multiplier_rounded_up(
    slowest_ms: int, multiplier: float, limit: float
) -> None:
    assert derive_time_limit(slowest_ms, multiplier) == limit


async def test_verdicts_are_compared_with_the_folders(tmp_path: Path) -> None:
    problem = load_package(
        write_package(
            tmp_path / "pkg",
            TESTS,
            submissions={
                "accepted/fast.py": "",
                "accepted/ok.py": "",
                "wrong_answer/wrong.py": "",
                "run_time_error/crash.py": "",
                "time_limit_exceeded/slow.py": "",
                "wrong_answer/crash.py": "",  # gets RE: a mismatch
            },
        )
    )
    seen: list[str] = []

    report = await verify(
        FakeSandbox(program=by_file), problem, on_report=lambda item: seen.append(item.path)
    )

    results = {item.path: (item.verdict, item.ok) for item in report.submissions}
    assert results == {
        "accepted/fast.py": (Verdict.AC, True),
        "accepted/ok.py": (Verdict.AC, True),
        "wrong_answer/wrong.py": (Verdict.WA, True),
        "run_time_error/crash.py": (Verdict.RE, True),
        "time_limit_exceeded/slow.py": (Verdict.TLE, True),
        "wrong_answer/crash.py": (Verdict.RE, False),
    }
    assert (report.judged, report.matched, report.mismatched, report.skipped) == (6, 5, 1, 0)
    assert not report.ok
    assert sorted(seen) == sorted(results)
    # 300 ms x 5 = 1.5 s, rounded up to 2 s; the TLE submission ran at 2 s x 2 = 4 s
    assert (report.time_limit_s, report.time_limit_source) == (2.0, "derived")
    by_path = {item.path: item for item in report.submissions}
    assert by_path["accepted/fast.py"].max_time_ms == 300


async def test_a_too_fast_tle_submission_is_caught_at_limit_times_margin(tmp_path: Path) -> None:
    problem = load_package(
        write_package(
            tmp_path / "pkg",
            TESTS,
            problem_yaml="name: Margin\nlimits:\n  time_multiplier: 5\n  time_safety_margin: 3\n",
            submissions={"accepted/fast.py": "", "time_limit_exceeded/slow.py": ""},
        )
    )

    report = await verify(FakeSandbox(program=by_file), problem)

    slow = report.submissions[1]
    # limit 2 s (300 ms x 5 rounded up); at 2 s x 3 = 6 s the "slow" program passes
    assert (slow.verdict, slow.ok, slow.time_limit_s) == (Verdict.AC, False, 6.0)


async def test_the_package_or_given_time_limit_wins_over_derivation(tmp_path: Path) -> None:
    root = write_package(
        tmp_path / "pkg",
        TESTS,
        submissions={"accepted/slow.py": "", "time_limit_exceeded/slowtoo.py": ""},
    )
    (root / ".timelimit").write_text("6\n")
    problem = load_package(root)

    from_package = await verify(FakeSandbox(program=by_file), problem)
    given = await verify(FakeSandbox(program=by_file), problem, time_limit=1.0)

    assert (from_package.time_limit_s, from_package.time_limit_source) == (6.0, "package")
    assert [item.verdict for item in from_package.submissions] == [Verdict.AC, Verdict.AC]
    assert (given.time_limit_s, given.time_limit_source) == (1.0, "given")
    assert [item.verdict for item in given.submissions] == [Verdict.TLE, Verdict.TLE]
    assert [item.time_limit_s for item in given.submissions] == [1.0, 2.0]


async def test_expected_results_tag_accepts_any_listed_verdict(tmp_path: Path) -> None:
    problem = load_package(
        write_package(
            tmp_path / "pkg",
            TESTS,
            submissions={
                "accepted/fast.py": "",
                "wrong_answer/crash.py": "# @EXPECTED_RESULTS@: WRONG-ANSWER, RUN-ERROR\n",
            },
        )
    )

    report = await verify(FakeSandbox(program=by_file), problem)

    tagged = report.submissions[1]
    assert (tagged.expected, tagged.verdict, tagged.ok) == (
        ("WA", "RE", "MLE"),
        Verdict.RE,
        True,
    )
    assert report.ok


async def test_languages_not_offered_or_unknown_are_skipped_with_a_reason(tmp_path: Path) -> None:
    problem = load_package(
        write_package(
            tmp_path / "pkg",
            TESTS,
            submissions={
                "accepted/fast.py": "",
                "accepted/weird.xyz": "",
                "accepted/main.cob": "",
            },
        )
    )

    report = await verify(FakeSandbox(program=by_file), problem)

    skipped = {item.path: item.skipped for item in report.submissions if item.skipped}
    assert set(skipped) == {"accepted/weird.xyz", "accepted/main.cob"}
    assert "no language uses .xyz" in (skipped["accepted/weird.xyz"] or "")
    assert (report.judged, report.skipped, report.ok) == (1, 2, True)
    assert [item.ok for item in report.submissions if item.skipped] == [None, None]
    cobol = next(item for item in report.submissions if item.path == "accepted/main.cob")
    assert cobol.language is None


async def test_submissions_are_judged_concurrently(tmp_path: Path) -> None:
    problem = load_package(
        write_package(
            tmp_path / "pkg",
            TESTS,
            submissions={f"accepted/ok{i}.py": "" for i in range(4)},
        )
    )
    sandbox = FakeSandbox(program=by_file, slots=2, delay=0.01)

    report = await verify(sandbox, problem)

    assert report.matched == 4
    assert sandbox.peak == 2


@pytest.mark.sandbox
async def test_verify_a_tiny_package_for_real(tmp_path: Path) -> None:
    problem = load_package(
        write_package(
            tmp_path / "add",
            {"sample/1": ("1 2\n", "3\n"), "secret/1": ("20 22\n", "42\n")},
            submissions={
                "accepted/add.py": "a, b = map(int, input().split())\nprint(a + b)\n",
                "accepted/add.c": '#include <stdio.h>\nint main(void) { long a, b; scanf("%ld %ld",'
                ' &a, &b); printf("%ld\\n", a + b); return 0; }\n',
                "wrong_answer/sub.py": "a, b = map(int, input().split())\nprint(a - b)\n",
                "time_limit_exceeded/loop.py": "while True:\n    pass\n",
                "run_time_error/crash.py": "raise SystemExit(3)\n",
                "memory_limit_exceeded/hog.c": "#include <stdlib.h>\n#include <string.h>\n"
                "int main(void) { for (;;) { char *p = malloc(1 << 20); if (!p) return 1;"
                " memset(p, 1, 1 << 20); } }\n",
                "compiler_error/broken.c": "int main(void) { return nope; }\n",
            },
            problem_yaml="name: Add\nlimits:\n  memory: 128\n",
        )
    )

    async with real_sandbox() as sandbox:
        report = await verify(sandbox, problem)

    results = {item.path: (item.verdict, item.ok) for item in report.submissions}
    assert all(ok for _, ok in results.values()), results
    assert (report.time_limit_s, report.time_limit_source) == (1.0, "derived")


async def test_a_compile_error_where_none_is_expected_says_why(tmp_path: Path) -> None:
    problem = load_package(
        write_package(tmp_path / "pkg", TESTS, submissions={"accepted/fast.py": ""})
    )
    sandbox = FakeSandbox(
        program=by_file, compiler=lambda spec: exited(code=1, stderr=b"SyntaxError: oops\n")
    )

    report = await verify(sandbox, problem, time_limit=1.0)

    (only,) = report.submissions
    assert (only.verdict, only.ok, only.message) == (Verdict.CE, False, "SyntaxError: oops")


async def test_a_known_language_not_installed_is_skipped_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # This machine, less its Awk: as a machine without that toolchain sees it.
    installed = languages.offered_languages()
    monkeypatch.setattr(
        languages,
        "offered_languages",
        lambda: tuple(item for item in installed if item.language.id != "awk"),
    )
    missing = languages.known_language("awk")
    problem = load_package(
        write_package(
            tmp_path / "pkg",
            TESTS,
            submissions={"accepted/fast.py": "", "accepted/sol.awk": ""},
        )
    )

    report = await verify(FakeSandbox(program=by_file), problem)

    skipped = report.submissions[1]
    assert (skipped.language, skipped.verdict, skipped.ok) == (missing.id, None, None)
    assert skipped.skipped == f"{missing.name} is not installed on this machine"


# --- DOMjudge's and problemtools' conventions ---------------------------------------------


async def test_an_unknown_tag_is_reported_as_a_problem_and_the_rest_is_judged(
    tmp_path: Path,
) -> None:
    problem = load_package(
        write_package(
            tmp_path / "pkg",
            TESTS,
            submissions={
                "accepted/ok.py": "",
                "wrong_answer/wrong.py": "# @EXPECTED_RESULTS@: WRONG_ANSWER, PRESENTATION\n",
            },
        )
    )

    report = await verify(FakeSandbox(program=by_file), problem, time_limit=1.0)

    ok, odd = report.submissions
    assert (ok.verdict, ok.ok) == (Verdict.AC, True)
    assert (odd.verdict, odd.ok, odd.skipped) == (None, False, None)
    assert odd.problem is not None and "unknown @EXPECTED_RESULTS@ result 'PRESENTATION'" in (
        odd.problem
    )
    assert (report.judged, report.mismatched, report.problems) == (1, 0, 1)
    assert not report.ok


async def test_check_manually_submissions_are_judged_and_never_compared(tmp_path: Path) -> None:
    problem = load_package(
        write_package(
            tmp_path / "pkg",
            TESTS,
            submissions={"accepted/ok.py": "", "check_manually/wrong.py": ""},
        )
    )

    report = await verify(FakeSandbox(program=by_file), problem, time_limit=1.0)

    manual = report.submissions[1]
    assert (manual.verdict, manual.ok, manual.check_manually) == (Verdict.WA, None, True)
    assert (report.judged, report.to_check, report.mismatched) == (2, 1, 0)
    assert report.ok


async def test_slow_accepted_must_pass_at_the_limit_times_the_margin(tmp_path: Path) -> None:
    # The "slow" program needs 5 s: TLE at the 3 s limit (allowed), AC at 3 s x 2 = 6 s.
    problem = load_package(
        write_package(
            tmp_path / "pkg",
            TESTS,
            problem_yaml="name: Slow\nlimits:\n  time_limit: 3\n  time_safety_margin: 2\n",
            submissions={"accepted/ok.py": "", "slow_accepted/slow.py": ""},
        )
    )
    tight = load_package(
        write_package(
            tmp_path / "tight",
            TESTS,
            problem_yaml="name: Tight\nlimits:\n  time_limit: 2\n  time_safety_margin: 2\n",
            submissions={"slow_accepted/slow.py": ""},
        )
    )

    report = await verify(FakeSandbox(program=by_file), problem)
    too_slow = await verify(FakeSandbox(program=by_file), tight)

    slow = report.submissions[1]
    assert (slow.verdict, slow.ok, slow.time_limit_s) == (Verdict.AC, True, 6.0)
    assert (report.time_limit_s, report.ok) == (3.0, True)
    (still_slow,) = too_slow.submissions
    assert (still_slow.verdict, still_slow.ok, still_slow.time_limit_s) == (Verdict.TLE, False, 4.0)


async def test_a_python_2_program_is_skipped_not_a_compile_error(tmp_path: Path) -> None:
    problem = load_package(
        write_package(
            tmp_path / "pkg",
            TESTS,
            submissions={
                "accepted/old.py": 'print "Hello world!"\n',
                "compiler_error/broken.py": "print(\n",
            },
        )
    )
    sandbox = FakeSandbox(
        program=by_file, compiler=lambda spec: exited(code=1, stderr=b"SyntaxError\n")
    )

    report = await verify(sandbox, problem, time_limit=1.0)

    old, broken = report.submissions
    assert (old.verdict, old.ok, old.language) == (None, None, "python3")
    assert old.skipped is not None and "no Python 2 here" in old.skipped
    assert (broken.verdict, broken.ok) == (Verdict.CE, True)


async def test_a_package_of_samples_only_is_verified_on_them_and_says_so(tmp_path: Path) -> None:
    problem = load_package(
        write_package(
            tmp_path / "pkg",
            {"sample/1": ("1\n", "1\n")},
            submissions={"accepted/ok.py": "", "wrong_answer/wrong.py": ""},
        )
    )

    report = await verify(FakeSandbox(program=by_file), problem, time_limit=1.0)

    assert report.samples_only
    assert [(item.verdict, item.ok) for item in report.submissions] == [
        (Verdict.AC, True),
        (Verdict.WA, True),
    ]


async def test_scoring_submissions_are_checked_against_the_maximum(tmp_path: Path) -> None:
    root = write_package(
        tmp_path / "points",
        {"secret/g1/1": ("1\n", "1\n"), "secret/g2/1": ("2\n", "2\n")},
        problem_yaml="problem_format_version: 2025-09\nname: Points\ntype: scoring\n",
        submissions={
            "accepted/ok.py": "",
            "accepted/wrong.py": "",  # 0 points: not accepted
            "partially_accepted/half.py": "",
            "partially_accepted/ok.py": "",  # the maximum: not partial
        },
    )
    for group in ("g1", "g2"):
        (root / "data" / "secret" / group / "test_group.yaml").write_text("max_score: 50\n")

    def programs(stdin: bytes, spec: RunSpec) -> RunResult:
        if spec.argv[-1] == "half.py":
            return exited(stdin if stdin == b"1\n" else b"0\n")
        return by_file(stdin, spec)

    report = await verify(FakeSandbox(program=programs), load_package(root), time_limit=1.0)

    results = {
        item.path: (item.verdict, item.score, item.max_score, item.ok)
        for item in report.submissions
    }
    assert results == {
        "accepted/ok.py": (Verdict.AC, 100.0, 100.0, True),
        "accepted/wrong.py": (Verdict.WA, 0.0, 100.0, False),
        "partially_accepted/half.py": (Verdict.WA, 50.0, 100.0, True),
        "partially_accepted/ok.py": (Verdict.AC, 100.0, 100.0, False),
    }


async def test_partially_accepted_on_a_pass_fail_problem_is_a_mismatch(tmp_path: Path) -> None:
    problem = load_package(
        write_package(tmp_path / "pkg", TESTS, submissions={"partially_accepted/ok.py": ""})
    )

    report = await verify(FakeSandbox(program=by_file), problem, time_limit=1.0)

    (only,) = report.submissions
    assert (only.verdict, only.ok, only.expected) == (Verdict.AC, False, ("partial",))


# --- submissions.yaml (2025-09) ------------------------------------------------------------


async def test_submissions_yaml_requirements_are_checked(tmp_path: Path) -> None:
    root = write_package(
        tmp_path / "pkg",
        {
            "sample/1": ("1\n", "1\n"),
            "secret/easy-1": ("2\n", "2\n"),
            "secret/hard-1": ("3\n", "3\n"),
        },
        problem_yaml="problem_format_version: 2025-09\nname: Rules\n",
        submissions={
            "accepted/ok.py": "",
            "time_limit_exceeded/slowhard.py": "",
            "wrong_answer/wronghard.py": "",
            "submissions.yaml": (
                "time_limit_exceeded/slowhard.py:\n"
                "  secret/easy-*:\n    permitted: [AC]\n"
                "  secret/hard-*:\n    required: [TLE]\n"
                "wrong_answer/{wronghard,other}.py:\n"
                "  sample:\n    permitted: [AC]\n"
                "  secret/easy-*:\n    permitted: [AC]\n"
                "  message: expected\n"
            ),
        },
    )

    def programs(stdin: bytes, spec: RunSpec) -> RunResult:
        name = spec.argv[-1]
        if name == "slowhard.py" and stdin == b"3\n":
            return RunResult(Outcome.TIME_LIMIT, cpu_ms=int(spec.limits.cpu_time * 1000))
        if name == "wronghard.py" and stdin != b"1\n":  # wrong on both secret tests
            return exited(b"0\n")
        return exited(stdin)

    problem = load_package(root)
    report = await verify(FakeSandbox(program=programs), problem, time_limit=1.0)

    by_path = {item.path: item for item in report.submissions}
    assert by_path["time_limit_exceeded/slowhard.py"].ok is True
    wrong = by_path["wrong_answer/wronghard.py"]
    assert wrong.ok is False
    assert wrong.message.startswith(
        "wrong_answer/{wronghard,other}.py secret/easy-*: permitted AC, got secret/easy-1"
    )
    assert [rule.tests for rule in problem.submissions[2].rules] == ["", "sample", "secret/easy-*"]


async def test_submissions_yaml_scores_and_a_redefined_folder(tmp_path: Path) -> None:
    root = write_package(
        tmp_path / "points",
        {"secret/g1/1": ("1\n", "1\n"), "secret/g2/1": ("2\n", "2\n")},
        problem_yaml="problem_format_version: 2025-09\nname: Points\ntype: scoring\n",
        submissions={
            "partially_accepted/half.py": "",
            "wrong_answer/half.py": "",  # redefined below: half the points is what it must get
            "submissions.yaml": (
                "partially_accepted/half.py:\n  score: 50\n  secret/g2:\n    score: [0, 10]\n"
                "wrong_answer:\n  score: [40, 60]\n"
            ),
        },
    )
    for group in ("g1", "g2"):
        (root / "data" / "secret" / group / "test_group.yaml").write_text("max_score: 50\n")

    def half(stdin: bytes, spec: RunSpec) -> RunResult:
        return exited(stdin if stdin == b"1\n" else b"0\n")

    problem = load_package(root)
    report = await verify(FakeSandbox(program=half), problem, time_limit=1.0)

    assert [(item.path, item.ok) for item in report.submissions] == [
        ("partially_accepted/half.py", True),
        ("wrong_answer/half.py", True),
    ]
    assert problem.submissions[1].replaces_folder


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("accepted: [AC]\n", "'accepted' must map to a map of requirements"),
        ("accepted:\n  permitted: [OK]\n", "permitted must list verdicts among AC, WA, TLE, RTE"),
        ("accepted:\n  score: [1, 2, 3]\n", "score must be a number or two numbers"),
        ("accepted:\n  sample: [AC]\n", "'sample' must map to requirements"),
    ],
)
def test_a_malformed_submissions_yaml_is_a_package_error(
    tmp_path: Path, text: str, message: str
) -> None:
    root = write_package(
        tmp_path / "pkg", TESTS, submissions={"accepted/ok.py": "", "submissions.yaml": text}
    )

    with pytest.raises(PackageError, match=message):
        load_package(root)


async def test_unmet_submissions_yaml_requirements_say_which(tmp_path: Path) -> None:
    root = write_package(
        tmp_path / "points",
        {"secret/g1/1": ("1\n", "1\n"), "secret/g2/1": ("2\n", "2\n")},
        problem_yaml="problem_format_version: 2025-09\nname: Points\ntype: scoring\n",
        submissions={
            "accepted/ok.py": "",
            "submissions.yaml": "accepted/ok.py:\n  required: [TLE]\n  score: [10, 20]\n"
            "  message: never said\n",
        },
    )
    for group in ("g1", "g2"):
        (root / "data" / "secret" / group / "test_group.yaml").write_text("max_score: 50\n")

    report = await verify(FakeSandbox(program=by_file), load_package(root), time_limit=1.0)

    (ok,) = report.submissions
    assert (ok.verdict, ok.ok) == (Verdict.AC, False)
    assert ok.message.startswith("accepted/ok.py: required one of TLE, got none")


@pytest.mark.parametrize(
    ("rules", "unmet"),
    [
        ("  score: [10, 20]\n", "accepted/ok.py: score 10 to 20 expected, got 100"),
        ("  score: 7\n", "accepted/ok.py: score 7 expected, got 100"),
        ("  message: never said\n", "accepted/ok.py: no test's message says 'never said'"),
    ],
)
async def test_each_unmet_requirement_is_named(tmp_path: Path, rules: str, unmet: str) -> None:
    root = write_package(
        tmp_path / "flat",
        {"secret/1": ("1\n", "1\n")},
        problem_yaml="problem_format_version: 2025-09\nname: Flat\ntype: scoring\n",
        submissions={"accepted/ok.py": "", "submissions.yaml": "accepted/ok.py:\n" + rules},
    )

    report = await verify(FakeSandbox(program=by_file), load_package(root), time_limit=1.0)

    (ok,) = report.submissions
    assert (ok.ok, ok.message) == (False, unmet)


async def test_a_submit_answer_package_is_verified_without_languages(tmp_path: Path) -> None:
    problem = load_package(
        write_package(
            tmp_path / "answers",
            {"secret/1": ("", "1\n"), "secret/2": ("", "2\n")},
            problem_yaml="problem_format_version: 2025-09\nname: Answers\ntype: submit-answer\n",
            submissions={
                "accepted/all/1.out": "1\n",
                "accepted/all/2.out": "2\n",
                "wrong_answer/some/1.out": "1\n",
            },
        )
    )

    report = await verify(FakeSandbox(), problem)

    assert [(item.path, item.language, item.verdict, item.ok) for item in report.submissions] == [
        ("accepted/all", "answers", Verdict.AC, True),
        ("wrong_answer/some", "answers", Verdict.WA, True),
    ]
