"""Scoring problems: test, group and submission scores in the legacy and 2025-09 rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.evaluator import PackageError, RunResult, RunSpec, Verdict, load_package
from service.evaluator.languages import known_language
from service.evaluator.runner import Finished, Mode, evaluate
from service.evaluator.runner import TestFinished as FinishedTest
from service.evaluator.scoring import Scoring, TestScore, aggregate
from tests.factories import write_package
from tests.fakes import FakeSandbox, exited, real_sandbox


def scoring_of(root: Path) -> Scoring:
    problem = load_package(root)
    assert problem.problem_type == "scoring"
    assert problem.scoring is not None
    return problem.scoring


def write(root: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def results(passed: set[str], names: list[str], **scores: float) -> dict[str, TestScore]:
    return {
        name: TestScore("AC" if name in passed else "WA", score=scores.get(name.replace("/", "_")))
        for name in names
    }


SUBTASKS = {
    f"secret/{group}/{number}": ("1\n", "1\n")
    for group in ("g1", "g2", "g3")
    for number in ("1", "2")
} | {"sample/1": ("1\n", "1\n")}


# --- 2025-09 --------------------------------------------------------------------------------


def new_format(tmp_path: Path, groups: dict[str, str], secret: str = "") -> Path:
    root = write_package(
        tmp_path / "subtasks",
        SUBTASKS,
        problem_yaml="problem_format_version: 2025-09\nname: Subtasks\ntype: scoring\n",
    )
    files = {f"data/secret/{name}/test_group.yaml": text for name, text in groups.items()}
    if secret:
        files["data/secret/test_group.yaml"] = secret
    return write(root, files)


def test_2025_09_pass_fail_groups_score_their_maximum_only_when_every_test_passes(
    tmp_path: Path,
) -> None:
    scoring = scoring_of(
        new_format(
            tmp_path, {"g1": "max_score: 20\n", "g2": "max_score: 30\n", "g3": "max_score: 50\n"}
        )
    )
    names = scoring.root.tests()

    partial = aggregate(scoring, results({"secret/g1/1", "secret/g1/2", "secret/g2/1"}, names))

    assert scoring.max_score == 100
    assert names == [f"secret/g{g}/{n}" for g in (1, 2, 3) for n in (1, 2)]  # samples: none
    assert partial.score == 20
    assert [(g.name, g.score, g.max_score, g.verdict) for g in partial.groups] == [
        ("secret", 20, 100, "WA"),
        ("secret/g1", 20, 20, "AC"),
        ("secret/g2", 0, 30, "WA"),
        ("secret/g3", 0, 50, "WA"),
    ]


def test_2025_09_sum_and_min_groups_share_out_their_maximum(tmp_path: Path) -> None:
    scoring = scoring_of(
        new_format(
            tmp_path,
            {
                "g1": "max_score: 40\nscore_aggregation: sum\n",
                "g2": "max_score: 40\nscore_aggregation: min\n",
                "g3": "max_score: 20\n",
            },
        )
    )
    names = scoring.root.tests()
    outcome = {name: TestScore("AC") for name in names}
    outcome["secret/g1/2"] = TestScore("WA")
    outcome["secret/g2/1"] = TestScore("AC", multiplier=0.5)

    result = aggregate(scoring, outcome)

    # g1: one of two tests (20 each) = 20; g2: min(40 x 0.5, 40) = 20; g3: all pass = 20
    assert result.score == 60
    assert scoring.test_max("secret/g1/1") == 20
    assert scoring.test_max("secret/g2/1") == 40
    assert scoring.test_max("secret/g3/1") is None


def test_2025_09_secret_without_groups_shares_100_points_over_its_tests(tmp_path: Path) -> None:
    root = write_package(
        tmp_path / "flat",
        {"secret/1": ("", ""), "secret/2": ("", ""), "secret/3": ("", ""), "secret/4": ("", "")},
        problem_yaml="problem_format_version: 2025-09\ntype: scoring\n",
    )
    scoring = scoring_of(root)
    names = scoring.root.tests()

    assert aggregate(scoring, results({"secret/1", "secret/3", "secret/4"}, names)).score == 75


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("score_aggregation: average\n", "'score_aggregation' must be pass-fail, sum or min"),
        ("max_score: -1\n", "'max_score' must be at least 0"),
        ("max_score: unbounded\n", "a pass-fail group needs a max_score"),
    ],
)
def test_2025_09_bad_group_settings_are_package_errors(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(PackageError, match=message):
        load_package(new_format(tmp_path, {"g1": text}))


# --- legacy ---------------------------------------------------------------------------------


def legacy(tmp_path: Path, files: dict[str, str]) -> Path:
    root = write_package(tmp_path / "legacy", SUBTASKS, problem_yaml="name: Old\ntype: scoring\n")
    return write(root, files)


#: IOI style in the legacy format: samples count nothing, each subtask all-or-nothing, the
#: subtasks summed, and judging goes on after a failed subtask.
IOI_STYLE = {
    "data/testdata.yaml": "on_reject: continue\ngrader_flags: ignore_sample always_accept sum\n",
    "data/secret/testdata.yaml": "on_reject: continue\ngrader_flags: always_accept sum\n",
    "data/secret/g1/testdata.yaml": "accept_score: 10\ngrader_flags: min\n",
    "data/secret/g2/testdata.yaml": "accept_score: 30\ngrader_flags: min\n",
    "data/secret/g3/testdata.yaml": "accept_score: 60\ngrader_flags: min\n",
}


def test_legacy_ioi_style_subtasks_add_up(tmp_path: Path) -> None:
    scoring = scoring_of(legacy(tmp_path, IOI_STYLE))
    names = scoring.root.tests()

    partial = aggregate(scoring, results({"secret/g1/1", "secret/g1/2", "secret/g3/1"}, names))

    assert scoring.max_score == 100
    assert partial.score == 10  # g1 passed; g3 failed one test: all or nothing
    assert partial.verdict == "AC"  # always_accept: the score says how good it was
    by_name = {group.name: group for group in partial.groups}
    assert (by_name["secret/g3"].verdict, by_name["secret/g3"].score) == ("WA", 0)
    assert by_name[""].max_score == 100


def test_legacy_defaults_sum_every_test_and_stop_at_the_first_rejection(tmp_path: Path) -> None:
    scoring = scoring_of(legacy(tmp_path, {}))
    names = scoring.root.tests()

    everything = aggregate(scoring, {name: TestScore("AC") for name in names})
    broken = aggregate(scoring, results(set(names) - {"secret/g2/1"}, names))

    # accept_score 1 per test, samples included; worst_error verdict, on_reject break
    assert everything.score == 7
    assert broken.verdict == "WA"
    assert broken.score == 0  # a rejected group's score is ignored


def test_legacy_score_modes_flags_and_range(tmp_path: Path) -> None:
    scoring = scoring_of(
        legacy(
            tmp_path,
            {
                "data/testdata.yaml": "grader_flags: ignore_sample accept_if_any_accepted max\n"
                "on_reject: continue\nrange: 0 50\n",
                "data/secret/testdata.yaml": "grader_flags: avg accept_if_any_accepted\n"
                "on_reject: continue\naccept_score: 100\n",
            },
        )
    )
    names = scoring.root.tests()
    outcome = {name: TestScore("AC", score=float(index * 10)) for index, name in enumerate(names)}
    outcome["secret/g1/1"] = TestScore("TLE")

    result = aggregate(scoring, outcome)

    # secret's groups inherit its rules: g1 = avg(0 (the TLE), 20) = 10 (accepted: one test
    # was), g2 = avg(30, 40) = 35, g3 = avg(50, 60) = 55; secret = avg(10, 35, 55) = 33.3;
    # the root takes the max of its children without the sample: 33.3
    assert result.score == pytest.approx(100 / 3)
    assert scoring.max_score == 50  # the top of the root's range


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("grader_flags: sum bogus\n", "unknown grader flag 'bogus'"),
        ("on_reject: stop\n", "'on_reject' must be 'break' or 'continue'"),
        ("range: 0 to 10\n", "'range' must be two numbers"),
        ("grading: custom\n", "grading 'custom' is not supported yet"),
        ("accept_score: lots\n", "'accept_score' must be a number"),
    ],
)
def test_legacy_bad_testdata_settings_are_package_errors(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(PackageError, match=message):
        load_package(legacy(tmp_path, {"data/secret/g1/testdata.yaml": text}))


def test_legacy_validation_score_makes_a_scoring_problem(tmp_path: Path) -> None:
    root = write_package(
        tmp_path / "scored",
        {"secret/1": ("", "")},
        problem_yaml="name: Scored\nvalidation: custom score\n",
        validator={"check.py": "import sys\nsys.exit(42)\n"},
    )

    problem = load_package(root)

    assert (problem.problem_type, problem.validation) == ("scoring", "custom")
    assert load_package(write_package(tmp_path / "plain", {"secret/1": ("", "")})).scoring is None


# --- for real: a validator's score.txt --------------------------------------------------------

#: Accepts any number and scores it, at most the answer (score.txt in the feedback dir).
SCORING_VALIDATOR = """\
import sys
answer = float(open(sys.argv[2]).read())
given = float(sys.stdin.read() or 0)
with open(sys.argv[3] + "score.txt", "w") as out:
    out.write(str(min(given, answer)))
sys.exit(42)
"""


@pytest.mark.sandbox
async def test_a_validators_score_txt_gives_the_tests_points(tmp_path: Path) -> None:
    root = write_package(
        tmp_path / "bid",
        {"secret/1": ("", "10\n"), "secret/2": ("", "30\n")},
        problem_yaml="name: Bid\nvalidation: custom score\n",
        validator={"score.py": SCORING_VALIDATOR},
    )
    (root / "data" / "testdata.yaml").write_text("range: 0 40\n")
    source = tmp_path / "bid.py"
    source.write_text("print(12)\n")
    problem = load_package(root)

    async with real_sandbox() as sandbox:
        events = [
            event
            async for event in evaluate(
                sandbox, problem, known_language("python3"), [source], mode=Mode.CONTEST
            )
        ]

    tests = [event for event in events if isinstance(event, FinishedTest)]
    assert [(test.verdict, test.score) for test in tests] == [
        (Verdict.AC, 10.0),
        (Verdict.AC, 12.0),
    ]
    end = events[-1]
    assert isinstance(end, Finished)
    # 22 of at most 40 (the top of the root's range): every test passed, but not the maximum
    assert (end.score, end.max_score, end.verdict) == (22.0, 40.0, Verdict.WA)
    assert end.message == "22 of 40 points"


def test_legacy_first_error_and_the_worth_of_a_test(tmp_path: Path) -> None:
    scoring = scoring_of(
        legacy(
            tmp_path,
            {
                "data/testdata.yaml": "grader_flags: first_error\non_reject: continue\n",
                "data/secret/g2/testdata.yaml": "accept_score: 5\n",
            },
        )
    )
    names = scoring.root.tests()
    outcome = {name: TestScore("AC") for name in names}
    outcome["secret/g1/1"] = TestScore("WA")
    outcome["secret/g2/2"] = TestScore("TLE")

    result = aggregate(scoring, outcome)

    assert result.verdict == "WA"  # the first error; worst_error would say TLE
    assert (scoring.test_max("secret/g2/1"), scoring.test_max("secret/g1/1")) == (5.0, 1.0)
    with pytest.raises(KeyError):
        scoring.group_of("secret/none")


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("lots\n", "output validator wrote score.txt without a number"),
        ("-3\n", "output validator wrote score.txt = -3.0: not a score"),
    ],
)
async def test_a_score_file_that_is_no_score_is_a_judge_error(
    tmp_path: Path, written: str, message: str
) -> None:
    root = write_package(
        tmp_path / "bid",
        {"secret/1": ("", "10\n")},
        problem_yaml="name: Bid\nvalidation: custom score\n",
        validator={"score.py": "pass\n"},
    )
    source = tmp_path / "bid.py"
    source.write_text("print(12)\n")

    def programs(stdin: bytes, spec: RunSpec) -> RunResult:
        feedback = next((b.source for b in spec.binds if b.target == "/feedback"), None)
        if feedback is None:
            return exited(b"12\n")
        (feedback / "score.txt").write_text(written)
        return exited(code=42)

    events = [
        event
        async for event in evaluate(
            FakeSandbox(program=programs), load_package(root), known_language("python3"), [source]
        )
    ]

    (test,) = [event for event in events if isinstance(event, FinishedTest)]
    assert (test.verdict, test.message) == (Verdict.JE, message)
