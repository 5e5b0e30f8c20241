"""The runner's events, modes, verdicts and retries, with a fake sandbox (no real programs)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from service.evaluator import ProblemPackage, load_package
from service.evaluator.languages import known_language
from service.evaluator.runner import (
    CompileFinished,
    CompileStarted,
    Event,
    Finished,
    Mode,
    evaluate,
)
from service.evaluator.runner import TestFinished as FinishedTest
from service.evaluator.sandbox.base import MIB, Outcome, RunResult, RunSpec
from service.evaluator.verdicts import Verdict
from tests.factories import write_package
from tests.fakes import Behaviour, FakeSandbox, exited, is_build, real_sandbox

PYTHON = known_language("python3")
TESTS = {
    "sample/1": ("1\n", "1\n"),
    "secret/1": ("2\n", "2\n"),
    "secret/2": ("3\n", "3\n"),
    "secret/3": ("4\n", "4\n"),
}


@pytest.fixture
def problem(tmp_path: Path) -> ProblemPackage:
    return load_package(write_package(tmp_path / "tiny", TESTS))


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "sol.py"
    path.write_text("print(input())\n")
    return path


async def judge(
    sandbox: FakeSandbox, problem: ProblemPackage, source: Path, **options: object
) -> list[Event]:
    return [
        event
        async for event in evaluate(sandbox, problem, PYTHON, [source], **options)  # type: ignore[arg-type]
    ]


def results_of(events: list[Event]) -> list[FinishedTest]:
    return [event for event in events if isinstance(event, FinishedTest)]


def finished(events: list[Event]) -> Finished:
    last = events[-1]
    assert isinstance(last, Finished)
    return last


def answer_wrong_on(*inputs: bytes) -> Behaviour:
    def program(stdin: bytes, spec: RunSpec) -> RunResult:
        return exited(b"wrong\n" if stdin in inputs else stdin)

    return program


async def test_accepted_submission_reports_every_event_in_order(
    problem: ProblemPackage, source: Path
) -> None:
    events = await judge(FakeSandbox(), problem, source)

    assert isinstance(events[0], CompileStarted)
    assert events[0].language == "python3"
    assert isinstance(events[1], CompileFinished) and events[1].ok
    assert [t.name for t in results_of(events)] == list(TESTS)
    assert all(t.verdict is Verdict.AC for t in results_of(events))
    done = finished(events)
    assert (done.verdict, done.score, done.passed, done.total) == (Verdict.AC, 1.0, 4, 4)
    assert len(events) == 2 + 4 + 1


async def test_contest_mode_stops_at_the_first_failed_test(
    problem: ProblemPackage, source: Path
) -> None:
    sandbox = FakeSandbox(program=answer_wrong_on(b"2\n"))

    events = await judge(sandbox, problem, source, mode=Mode.CONTEST, concurrency=1)

    assert [(t.name, t.verdict) for t in results_of(events)] == [
        ("sample/1", Verdict.AC),
        ("secret/1", Verdict.WA),
    ]
    assert len(sandbox.runs) == 2
    done = finished(events)
    assert (done.verdict, done.score, done.passed, done.total) == (Verdict.WA, 0.25, 1, 4)
    assert done.message.startswith("secret/1")


async def test_teaching_mode_runs_all_tests_and_scores_the_share_passed(
    problem: ProblemPackage, source: Path
) -> None:
    def program(stdin: bytes, spec: RunSpec) -> RunResult:
        if stdin == b"2\n":
            return RunResult(Outcome.TIME_LIMIT, cpu_ms=1000, wall_ms=1001, message="cpu")
        if stdin == b"3\n":
            return exited(b"nope\n")
        return exited(stdin)

    events = await judge(FakeSandbox(program=program), problem, source, mode=Mode.TEACHING)

    verdicts = [t.verdict for t in results_of(events)]
    assert verdicts == [Verdict.AC, Verdict.TLE, Verdict.WA, Verdict.AC]
    done = finished(events)
    assert (done.verdict, done.score, done.passed) == (Verdict.TLE, 0.5, 2)
    assert done.max_time_ms == 1000


@pytest.mark.parametrize(
    ("result", "verdict", "message"),
    [
        (RunResult(Outcome.EXITED, exit_code=3), Verdict.RE, "exit code 3"),
        (RunResult(Outcome.SIGNALED, signal=11), Verdict.RE, "killed by SIGSEGV"),
        (RunResult(Outcome.TIME_LIMIT), Verdict.TLE, ""),
        (RunResult(Outcome.WALL_TIME_LIMIT), Verdict.TLE, ""),
        (RunResult(Outcome.MEMORY_LIMIT), Verdict.MLE, ""),
        (RunResult(Outcome.OUTPUT_LIMIT), Verdict.OLE, ""),
    ],
)
async def test_how_a_run_ended_gives_the_verdict(
    problem: ProblemPackage, source: Path, result: RunResult, verdict: Verdict, message: str
) -> None:
    sandbox = FakeSandbox(program=lambda stdin, spec: result)

    events = await judge(sandbox, problem, source)

    first = results_of(events)[0]
    assert (first.verdict, first.message) == (verdict, message)
    assert (first.exit_code, first.signal) == (result.exit_code, result.signal)
    assert finished(events).verdict is verdict


async def test_measurements_are_reported_per_test(problem: ProblemPackage, source: Path) -> None:
    sandbox = FakeSandbox(
        program=lambda stdin, spec: RunResult(
            Outcome.EXITED, exit_code=0, stdout=stdin, cpu_ms=12, wall_ms=20, memory_kb=9000
        )
    )

    first = results_of(await judge(sandbox, problem, source))[0]

    assert (first.time_ms, first.wall_ms, first.memory_kb) == (12, 20, 9000)


async def test_compile_error_stops_before_any_run(problem: ProblemPackage, source: Path) -> None:
    sandbox = FakeSandbox(compiler=lambda spec: exited(code=1, stderr=b"SyntaxError: nope"))

    events = await judge(sandbox, problem, source)

    compiled = events[1]
    assert isinstance(compiled, CompileFinished)
    assert not compiled.ok
    assert compiled.verdict is Verdict.CE
    assert "SyntaxError: nope" in compiled.output
    assert sandbox.runs == []
    assert (finished(events).verdict, finished(events).score) == (Verdict.CE, 0.0)


async def test_compiler_time_limit_is_a_compile_error_that_says_so(
    problem: ProblemPackage, source: Path
) -> None:
    sandbox = FakeSandbox(compiler=lambda spec: RunResult(Outcome.TIME_LIMIT))

    events = await judge(sandbox, problem, source)

    compiled = events[1]
    assert isinstance(compiled, CompileFinished)
    assert compiled.verdict is Verdict.CE
    assert "longer than 60 s" in compiled.output


async def test_a_sandbox_failure_is_retried_once(problem: ProblemPackage, source: Path) -> None:
    sandbox = FakeSandbox(sandbox_errors=1)

    events = await judge(sandbox, problem, source)

    assert finished(events).verdict is Verdict.AC


async def test_a_sandbox_failing_twice_is_a_judge_error_not_the_programs(
    problem: ProblemPackage, source: Path
) -> None:
    sandbox = FakeSandbox()
    events: list[Event] = []
    async for event in evaluate(sandbox, problem, PYTHON, [source], concurrency=1):
        events.append(event)
        if isinstance(event, CompileFinished):
            sandbox.sandbox_errors = 2

    first = results_of(events)[0]
    assert first.verdict is Verdict.JE
    assert "fake failure" in first.message
    assert finished(events).verdict is Verdict.JE


async def test_a_compile_sandbox_failure_is_a_judge_error(
    problem: ProblemPackage, source: Path
) -> None:
    events = await judge(FakeSandbox(sandbox_errors=2), problem, source)

    assert (finished(events).verdict, len(events)) == (Verdict.JE, 3)
    assert "fake failure" in finished(events).message


async def test_tests_run_concurrently_up_to_the_slots_but_report_in_order(
    problem: ProblemPackage, source: Path
) -> None:
    sandbox = FakeSandbox(slots=3, delay=lambda stdin: 0.05 if stdin == b"1\n" else 0.01)

    events = await judge(sandbox, problem, source)

    assert [t.name for t in results_of(events)] == list(TESTS)
    assert sandbox.peak == 3


async def test_concurrency_one_runs_tests_one_by_one(problem: ProblemPackage, source: Path) -> None:
    sandbox = FakeSandbox(slots=4, delay=0.005)

    await judge(sandbox, problem, source, concurrency=1)

    assert sandbox.peak == 1


@pytest.mark.sandbox
async def test_a_program_sleeping_past_the_limit_is_stopped_near_it_as_tle(
    tmp_path: Path,
) -> None:
    # It would answer right after 3.5 s of sleep: under a 1 s limit the wall clock stops it
    # at 1 x 1.5 + 1 = 2.5 s (a TLE), before it can.
    problem = load_package(
        write_package(
            tmp_path / "nap",
            {"secret/1": ("1\n", "1\n")},
            problem_yaml="name: Nap\nlimits:\n  time_limit: 1.0\n",
        )
    )
    source = tmp_path / "nap.py"
    source.write_text("import time\ntime.sleep(3.5)\nprint(input())\n")

    async with real_sandbox() as sandbox:
        events = [event async for event in evaluate(sandbox, problem, PYTHON, [source])]

    (result,) = results_of(events)
    assert result.verdict is Verdict.TLE
    assert "wall time over 2.5 s" in result.message


async def test_limits_come_from_the_package_and_the_time_limit_argument(
    tmp_path: Path, source: Path
) -> None:
    problem = load_package(
        write_package(
            tmp_path / "limited",
            {"secret/1": ("1\n", "1\n")},
            problem_yaml="name: Limited\nlimits:\n  memory: 300\n  output: 2\n",
        )
    )
    sandbox = FakeSandbox()

    await judge(sandbox, problem, source, time_limit=2.5)

    limits = sandbox.runs[0].limits
    assert (limits.cpu_time, limits.memory, limits.output) == (2.5, 300 * MIB, 2 * MIB)
    assert limits.wall_time == 2.5 * 1.5 + 1  # the wall clock stops it near the limit
    assert sandbox.runs[0].argv == ["/usr/bin/python3", "sol.py"]
    assert sandbox.runs[0].stdin == problem.tests[0].input


async def test_work_files_are_removed_even_when_the_consumer_stops_early(
    problem: ProblemPackage, source: Path, tmp_path: Path
) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    stream = evaluate(FakeSandbox(), problem, PYTHON, [source], scratch=scratch)
    async for event in stream:
        if isinstance(event, FinishedTest):
            break
    await stream.aclose()

    assert list(scratch.iterdir()) == []


async def test_default_checker_applies_the_problem_flags(tmp_path: Path, source: Path) -> None:
    problem = load_package(
        write_package(
            tmp_path / "floats",
            {"secret/1": ("x\n", "1.0\n")},
            problem_yaml="name: Floats\nvalidator_flags: float_tolerance 1e-3\n",
        )
    )
    sandbox = FakeSandbox(program=lambda stdin, spec: exited(b"1.0004\n"))

    events = await judge(sandbox, problem, source)

    assert finished(events).verdict is Verdict.AC


async def test_wrong_answer_carries_the_checker_message(
    problem: ProblemPackage, source: Path
) -> None:
    sandbox = FakeSandbox(program=lambda stdin, spec: exited(b"42\n"))

    first = results_of(await judge(sandbox, problem, source))[0]

    assert first.verdict is Verdict.WA
    assert first.message


BEHAVIOURS_PY = """\
import sys
what = sys.stdin.readline().strip()
if what == "loop":
    while True:
        pass
elif what == "crash":
    sys.exit(3)
elif what == "flood":
    while True:
        sys.stdout.write("x" * 4096)
elif what == "hog":
    blocks = []
    while True:
        blocks.append(bytearray(1 << 20))
print(what)
"""


@pytest.mark.sandbox
async def test_real_runs_get_each_verdict_without_blocking_the_event_loop(
    tmp_path: Path,
) -> None:
    problem = load_package(
        write_package(
            tmp_path / "behaviours",
            {
                f"secret/{i}-{what}": (f"{what}\n", f"{what}\n")
                for i, what in enumerate(["ac", "loop", "crash", "flood", "hog", "wrong"], start=1)
            },
            problem_yaml="name: Behaviours\nlimits:\n  time_limit: 1.0\n  memory: 256\n"
            "  output: 1\n",
        )
    )
    (problem.tests[-1].answer).write_text("something else\n")
    source = tmp_path / "behaviours.py"
    source.write_text(BEHAVIOURS_PY)
    loop = asyncio.get_running_loop()
    gaps: list[float] = []

    async def tick() -> None:
        last = loop.time()
        while True:
            await asyncio.sleep(0.01)
            gaps.append(loop.time() - last)
            last = loop.time()

    ticker = asyncio.create_task(tick())
    async with real_sandbox() as sandbox:
        events = [
            event
            async for event in evaluate(sandbox, problem, PYTHON, [source], mode=Mode.TEACHING)
        ]
    ticker.cancel()

    verdicts = [(t.name, t.verdict) for t in results_of(events)]
    assert verdicts == [
        ("secret/1-ac", Verdict.AC),
        ("secret/2-loop", Verdict.TLE),
        ("secret/3-crash", Verdict.RE),
        ("secret/4-flood", Verdict.OLE),
        ("secret/5-hog", Verdict.MLE),
        ("secret/6-wrong", Verdict.WA),
    ]
    loop_test = results_of(events)[1]
    assert loop_test.time_ms >= 500
    assert results_of(events)[2].message == "exit code 3"
    assert finished(events).score == pytest.approx(1 / 6)
    # The loop kept turning while programs ran (the looping test alone takes 1 s of CPU).
    assert len(gaps) > 10
    assert max(gaps) < 0.3


@pytest.mark.sandbox
async def test_contest_mode_stops_runs_already_in_flight_after_a_failure(tmp_path: Path) -> None:
    problem = load_package(
        write_package(
            tmp_path / "stops",
            {
                "secret/1": ("crash\n", "x\n"),
                "secret/2": ("loop\n", "x\n"),
                "secret/3": ("loop\n", "x\n"),
            },
            problem_yaml="name: Stops\nlimits:\n  time_limit: 8\n",
        )
    )
    source = tmp_path / "behaviours.py"
    source.write_text(BEHAVIOURS_PY)
    loop = asyncio.get_running_loop()

    async with real_sandbox(slots=2) as sandbox:
        started = loop.time()
        events = [
            event
            async for event in evaluate(
                sandbox, problem, PYTHON, [source], mode=Mode.CONTEST, concurrency=3
            )
        ]
        elapsed = loop.time() - started

    assert [t.verdict for t in results_of(events)] == [Verdict.RE]
    assert elapsed < 4  # the looping tests were killed, not run to their 8 s limit


async def test_host_io_failures_are_judge_errors(problem: ProblemPackage, source: Path) -> None:
    class Broken(FakeSandbox):
        async def run(self, spec: RunSpec) -> RunResult:
            if not is_build(spec):
                raise OSError("disk full")
            return await super().run(spec)

    events = await judge(Broken(), problem, source)

    first = results_of(events)[0]
    assert (first.verdict, first.message) == (Verdict.JE, "judge error: disk full")
    assert finished(events).verdict is Verdict.JE


async def test_tests_past_the_wall_budget_are_not_run_and_count_as_tle(
    problem: ProblemPackage, source: Path
) -> None:
    # 3 s of wall clock per test against 1 x 4 tests x 2 s = 8 s: the third goes past it, so
    # the fourth, started beside it on the second slot, is dropped (cancelled if still running)
    # and reported as not run.
    def sleeps(stdin: bytes, spec: RunSpec) -> RunResult:
        return RunResult(Outcome.EXITED, exit_code=0, stdout=stdin, cpu_ms=5, wall_ms=3000)

    box = FakeSandbox(program=sleeps, slots=2)
    events = await judge(
        box, problem, source, mode=Mode.TEACHING, time_limit=2.0, wall_budget_factor=1.0
    )
    results = results_of(events)
    assert [(r.index, r.verdict) for r in results] == [
        (0, Verdict.AC),
        (1, Verdict.AC),
        (2, Verdict.AC),
        (3, Verdict.TLE),
    ]
    assert results[3].message.startswith("not run: the tests used 9.0 s of wall-clock time")
    assert "wall-clock budget of 8 s" in results[3].message
    done = finished(events)
    assert (done.verdict, done.passed, done.total) == (Verdict.TLE, 3, 4)
    assert done.stopped_early.endswith("1 test was not run (TLE)")


async def test_no_wall_budget_runs_every_test(problem: ProblemPackage, source: Path) -> None:
    def sleeps(stdin: bytes, spec: RunSpec) -> RunResult:
        return RunResult(Outcome.EXITED, exit_code=0, stdout=stdin, cpu_ms=5, wall_ms=60_000)

    events = await judge(FakeSandbox(program=sleeps), problem, source, mode=Mode.TEACHING)
    assert [r.verdict for r in results_of(events)] == [Verdict.AC] * 4
    assert finished(events).stopped_early == ""


# --- scoring problems -------------------------------------------------------------------------


@pytest.fixture
def subtasks(tmp_path: Path) -> ProblemPackage:
    """A 2025-09 scoring problem: groups of 30 and 70 points, two tests each."""
    root = write_package(
        tmp_path / "subtasks",
        {
            "sample/1": ("1\n", "1\n"),
            "secret/g1/1": ("2\n", "2\n"),
            "secret/g1/2": ("3\n", "3\n"),
            "secret/g2/1": ("4\n", "4\n"),
            "secret/g2/2": ("5\n", "5\n"),
        },
        problem_yaml="problem_format_version: 2025-09\nname: Subtasks\ntype: scoring\n",
    )
    for group, points in (("g1", 30), ("g2", 70)):
        (root / "data" / "secret" / group / "test_group.yaml").write_text(f"max_score: {points}\n")
    return load_package(root)


async def test_a_scoring_submission_scores_points_per_group_even_in_contest_mode(
    subtasks: ProblemPackage, source: Path
) -> None:
    events = await judge(
        FakeSandbox(program=answer_wrong_on(b"4\n")), subtasks, source, mode=Mode.CONTEST
    )

    tests = results_of(events)
    assert [(t.name, t.verdict, t.score) for t in tests] == [
        ("sample/1", Verdict.AC, 0.0),  # samples do not score
        ("secret/g1/1", Verdict.AC, 0.0),  # a pass-fail group scores as a whole, not per test
        ("secret/g1/2", Verdict.AC, 0.0),
        ("secret/g2/1", Verdict.WA, 0.0),
        ("secret/g2/2", Verdict.AC, 0.0),  # run although the contest mode would have stopped
    ]
    end = finished(events)
    assert (end.verdict, end.score, end.max_score) == (Verdict.WA, 30.0, 100.0)
    assert end.message.startswith("30 of 100 points; secret/g2/1: ")
    assert [(g.name, g.score, g.max_score, g.verdict) for g in end.groups] == [
        ("secret", 30.0, 100.0, "WA"),
        ("secret/g1", 30.0, 30.0, "AC"),
        ("secret/g2", 0.0, 70.0, "WA"),
    ]


async def test_a_scoring_submission_at_the_maximum_is_accepted(
    subtasks: ProblemPackage, source: Path
) -> None:
    end = finished(await judge(FakeSandbox(), subtasks, source))

    assert (end.verdict, end.score, end.max_score, end.message) == (Verdict.AC, 100.0, 100.0, "")


# --- submit-answer problems ------------------------------------------------------------------


@pytest.fixture
def answers_problem(tmp_path: Path) -> ProblemPackage:
    """A 2025-09 submit-answer problem with the default checker and 1 MiB of output."""
    root = write_package(
        tmp_path / "answers",
        {"sample/1": ("", "one\n"), "secret/1": ("", "two\n"), "secret/big": ("", "three\n")},
        problem_yaml="problem_format_version: 2025-09\nname: Answers\ntype: submit-answer\n"
        "limits:\n  output: 1\n",
    )
    return load_package(root)


def answer_files(directory: Path, files: dict[str, str | bytes]) -> list[Path]:
    directory.mkdir()
    for name, content in files.items():
        path = directory / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return sorted(directory.iterdir())


async def test_a_submit_answer_submission_is_checked_file_by_file_without_running(
    answers_problem: ProblemPackage, tmp_path: Path
) -> None:
    files = answer_files(
        tmp_path / "submitted",
        {"sample-1.out": "one\n", "secret-1.ans": "TWO\n", "notes.md": "not an answer"},
    )
    sandbox = FakeSandbox()

    events = [
        event
        async for event in evaluate(sandbox, answers_problem, PYTHON, files, mode=Mode.TEACHING)
    ]

    assert sandbox.specs == []  # nothing built, nothing run
    compiled = events[1]
    assert isinstance(compiled, CompileFinished) and compiled.ok
    assert [(t.name, t.verdict, t.message) for t in results_of(events)] == [
        ("sample/1", Verdict.AC, ""),
        ("secret/1", Verdict.AC, ""),
        ("secret/big", Verdict.WA, "no answer file: name it big.out"),
    ]
    assert (finished(events).verdict, finished(events).passed) == (Verdict.WA, 2)


async def test_an_answer_file_over_the_output_limit_is_ole(
    answers_problem: ProblemPackage, tmp_path: Path
) -> None:
    files = answer_files(
        tmp_path / "submitted",
        {"1.out": "two\n", "sample-1.txt": "one\n", "big.out": b"x" * (MIB + 1)},
    )

    events = [event async for event in evaluate(FakeSandbox(), answers_problem, PYTHON, files)]

    # "1.out" is not enough for secret/1: sample/1 ends in 1 as well
    assert [(t.name, t.verdict) for t in results_of(events)] == [
        ("sample/1", Verdict.AC),
        ("secret/1", Verdict.WA),
    ]
    files[0].rename(files[0].with_name("secret-1.out"))
    renamed = sorted((tmp_path / "submitted").iterdir())
    again = [event async for event in evaluate(FakeSandbox(), answers_problem, PYTHON, renamed)]
    assert [(t.name, t.verdict) for t in results_of(again)][-1] == ("secret/big", Verdict.OLE)


async def test_answers_of_nested_groups_and_a_validator_that_fails(tmp_path: Path) -> None:
    root = write_package(
        tmp_path / "nested",
        {"secret/g1/1": ("", "1\n"), "secret/g2/1": ("", "2\n")},
        problem_yaml="problem_format_version: 2025-09\nname: Nested\ntype: submit-answer\n",
    )
    (root / "output_validator").mkdir()
    (root / "output_validator" / "check.py").write_text("raise SystemExit(1)\n")
    problem = load_package(root)
    files = answer_files(tmp_path / "submitted", {"g1-1.out": "1\n", "secret-g2-1.out": "2\n"})

    def validator_crashes(stdin: bytes, spec: RunSpec) -> RunResult:
        return exited(code=1, stderr=b"Traceback")

    crashed = [
        event
        async for event in evaluate(
            FakeSandbox(program=validator_crashes), problem, PYTHON, files, mode=Mode.TEACHING
        )
    ]
    unbuilt = [
        event
        async for event in evaluate(
            FakeSandbox(compiler=lambda spec: exited(code=1, stderr=b"SyntaxError")),
            problem,
            PYTHON,
            files,
        )
    ]

    # Both answers were found (g1-1.out: the name without "secret-"), the validator failed.
    assert [(t.name, t.verdict) for t in results_of(crashed)] == [
        ("secret/g1/1", Verdict.JE),
        ("secret/g2/1", Verdict.JE),
    ]
    assert "output validator failed (exit code 1)" in results_of(crashed)[0].message
    assert (finished(unbuilt).verdict, results_of(unbuilt)) == (Verdict.JE, [])
    assert "cannot build the output validator" in finished(unbuilt).message
