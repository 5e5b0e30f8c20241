"""The pipeline on a fake sandbox: verdicts, stored results, retries, events and rejudges."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from quart import Quart

from service.config import get_settings
from service.db import get_db
from service.evaluator.sandbox.base import Outcome, RunResult, RunSpec
from service.events import get_broker
from service.jobs import get_dispatcher
from service.models import Role, Status
from service.submissions.service import SubmissionRefused, rejudge, rejudge_problem, submit
from service.submissions.state import submission_state
from service.worker import MAX_ATTEMPTS
from tests.factories import (
    create_user,
    import_example,
    judgings_of,
    load_submission,
    results_of,
    row_counts,
)
from tests.fakes import FakeApp, FakeSandbox, exited, hello_program
from tests.waiting import wait_done, wait_for, wait_idle

SOURCE = b'print("Hello World!")\n'


async def judge_one(app: Quart, language: str = "python3") -> dict[str, Any]:
    """Submit the hello problem once, wait for the verdict and return the submission's state."""
    problem = await import_example(app)
    user = await create_user(app)
    submission = await submit(app, user, problem.slug, language, [("", SOURCE)])
    await wait_done(app, submission.id)
    async with get_db(app).session() as db:
        state = await submission_state(db, submission.id)
    assert state is not None
    return state


def wrong(stdin: bytes, spec: RunSpec) -> RunResult:
    """Print the wrong greeting."""
    return exited(b"Goodbye World!\n")


def too_slow(stdin: bytes, spec: RunSpec) -> RunResult:
    """Run out of CPU time."""
    return RunResult(Outcome.TIME_LIMIT, cpu_ms=1000, wall_ms=1000, memory_kb=900)


def crash(stdin: bytes, spec: RunSpec) -> RunResult:
    """Exit with status 3."""
    return exited(code=3)


async def test_accepted(fake_app: FakeApp) -> None:
    async with fake_app() as app:
        state = await judge_one(app)
    assert (state["status"], state["verdict"], state["score"]) == ("done", "AC", 1.0)
    assert state["tests_total"] == state["tests_done"] == 2
    assert [test["verdict"] for test in state["tests"]] == ["AC", "AC"]
    assert [test["index"] for test in state["tests"]] == [0, 1]
    assert state["problem"] == "hello" and state["problem_name"] == "Hello World"
    assert state["language"] == "python3" and state["judgings"] == 1
    assert state["user"]["email"].endswith("@example.com")


@pytest.mark.parametrize(
    ("program", "verdict", "message"),
    [(wrong, "WA", ""), (too_slow, "TLE", ""), (crash, "RE", "exit code 3")],
)
async def test_rejected_runs_every_test(
    fake_app: FakeApp, program: Any, verdict: str, message: str
) -> None:
    async with fake_app(FakeSandbox(program=program)) as app:
        state = await judge_one(app)
    assert (state["verdict"], state["score"]) == (verdict, 0.0)
    assert [test["verdict"] for test in state["tests"]] == [verdict, verdict]  # teaching mode
    assert message in state["tests"][0]["message"]


async def test_first_failed_test_decides_and_score_is_the_share_passed(fake_app: FakeApp) -> None:
    calls: list[int] = []

    def first_right_then_wrong(stdin: bytes, spec: RunSpec) -> RunResult:
        calls.append(1)
        return hello_program(stdin, spec) if len(calls) == 1 else wrong(stdin, spec)

    async with fake_app(FakeSandbox(program=first_right_then_wrong, slots=1)) as app:
        state = await judge_one(app)
    assert [test["verdict"] for test in state["tests"]] == ["AC", "WA"]
    assert (state["verdict"], state["score"]) == ("WA", 0.5)


async def test_compile_error_shows_the_compilers_message(fake_app: FakeApp) -> None:
    def compiler(spec: RunSpec) -> RunResult:
        return exited(code=1, stderr=b"main.py:1: SyntaxError: <oops>\n")

    async with fake_app(FakeSandbox(program=hello_program, compiler=compiler)) as app:
        state = await judge_one(app)
    assert (state["verdict"], state["score"], state["tests"]) == ("CE", 0.0, [])
    assert "SyntaxError: <oops>" in state["compile_output"]


async def test_judge_error_is_retried_then_accepted(fake_app: FakeApp) -> None:
    # The evaluator retries a failed sandbox run once itself: 2 failures fail one attempt.
    box = FakeSandbox(program=hello_program, sandbox_errors=2)
    async with fake_app(box) as app:
        state = await judge_one(app)
        judgings = await judgings_of(app, state["id"])
        counts = await row_counts(app)
    assert state["verdict"] == "AC"
    assert len(judgings) == 1 and judgings[0].attempts == 2
    assert counts["results"] == 2  # the failed attempt left no results behind


async def test_judge_error_after_the_last_attempt_blames_the_judge(fake_app: FakeApp) -> None:
    box = FakeSandbox(program=hello_program, sandbox_errors=1000)
    async with fake_app(box) as app:
        state = await judge_one(app)
        judgings = await judgings_of(app, state["id"])
    assert (state["status"], state["verdict"], state["score"]) == ("done", "JE", 0.0)
    assert judgings[0].attempts == MAX_ATTEMPTS
    assert f"judge error after {MAX_ATTEMPTS} attempts" in state["message"]
    assert "fake failure" in state["message"]


async def test_missing_package_is_a_judge_error(fake_app: FakeApp) -> None:
    async with fake_app() as app:
        problem = await import_example(app)
        user = await create_user(app)
        for stored in (get_settings(app).package_dir).iterdir():
            stored.unlink()
        from service.problems.store import forget_loaded

        forget_loaded()
        submission = await submit(app, user, problem.slug, "python3", [("", SOURCE)])
        done = await wait_done(app, submission.id)
        judgings = await judgings_of(app, submission.id)
    assert done.verdict == "JE"
    assert "MissingPackage" in judgings[0].message


async def test_events_arrive_in_order(fake_app: FakeApp) -> None:
    gate = asyncio.Event()

    async with fake_app(FakeSandbox(program=hello_program, slots=1)) as app:
        problem = await import_example(app)
        user = await create_user(app)
        dispatcher = get_dispatcher(app)
        dispatcher.max_running = 1
        # Hold the workers until the subscriber is ready: submit while the queue is paused.
        original = dispatcher.enqueue
        held: list[int] = []
        dispatcher.enqueue = held.append  # type: ignore[method-assign]
        submission = await submit(app, user, problem.slug, "python3", [("", SOURCE)])
        events: list[dict[str, Any]] = []

        async def listen() -> None:
            async with get_broker(app).subscribe(submission.id) as subscription:
                gate.set()
                async for event in subscription:
                    events.append(event)
                    if event["type"] == "done":
                        return

        listener = asyncio.create_task(listen())
        await asyncio.wait_for(gate.wait(), 5)
        dispatcher.enqueue = original  # type: ignore[method-assign]
        for judging_id in held:
            original(judging_id)
        await asyncio.wait_for(listener, 30)
    kinds = [(event["type"], event.get("stage") or event.get("index")) for event in events]
    assert kinds == [
        ("status", None),
        ("compile", "started"),
        ("compile", "finished"),
        ("test", 0),
        ("test", 1),
        ("done", None),
    ]
    assert events[0] == {
        "type": "status",
        "status": "running",
        "tests_total": 2,
        "attempt": 1,
        "judging_id": submission.judging_id,
    }
    assert events[2]["ok"] is True
    assert events[3]["name"] == "sample/1" or events[3]["name"].endswith("1")
    assert events[-1]["verdict"] == "AC" and events[-1]["score"] == 1.0


async def test_rejudge_keeps_history_and_uses_the_current_package(fake_app: FakeApp) -> None:
    box = FakeSandbox(program=wrong)
    async with fake_app(box) as app:
        problem = await import_example(app)
        user = await create_user(app)
        staff = await create_user(app, role=Role.STAFF)
        submission = await submit(app, user, problem.slug, "python3", [("", SOURCE)])
        assert (await wait_done(app, submission.id)).verdict == "WA"
        box.program = hello_program
        judging = await rejudge(app, submission.id, staff)
        assert judging.requested_by_id == staff.id
        queued = await load_submission(app, submission.id)
        assert queued.judging_id == judging.id
        done = await wait_done(app, submission.id)
        history = await judgings_of(app, submission.id)
        async with get_db(app).session() as db:
            state = await submission_state(db, submission.id)
        old_results = await results_of(app, history[0].id)
    assert done.verdict == "AC" and done.judging_id == judging.id
    assert [(j.status, j.verdict) for j in history] == [(Status.DONE, "WA"), (Status.DONE, "AC")]
    assert [r.verdict for r in old_results] == ["WA", "WA"]
    assert state is not None and state["judgings"] == 2
    assert [t["verdict"] for t in state["tests"]] == ["AC", "AC"]


async def test_rejudge_problem_and_unknown_submission(fake_app: FakeApp) -> None:
    async with fake_app() as app:
        problem = await import_example(app)
        user = await create_user(app)
        ids = [
            (await submit(app, user, problem.slug, "python3", [("", SOURCE)])).id for _ in range(3)
        ]
        for submission_id in ids:
            await wait_done(app, submission_id)
        assert await rejudge_problem(app, problem.id, None) == 3
        for submission_id in ids:
            assert (await wait_done(app, submission_id)).verdict == "AC"
            assert len(await judgings_of(app, submission_id)) == 2
        before = await row_counts(app)
        with pytest.raises(SubmissionRefused) as caught:
            await rejudge(app, 999_999, None)
        assert caught.value.status == 404
        assert await row_counts(app) == before


async def test_rejudge_while_running_shows_only_the_new_judging(fake_app: FakeApp) -> None:
    box = FakeSandbox(program=wrong, delay=0.2, slots=1)
    async with fake_app(box) as app:
        problem = await import_example(app)
        user = await create_user(app)
        submission = await submit(app, user, problem.slug, "python3", [("", SOURCE)])

        async def running() -> bool:
            return (await load_submission(app, submission.id)).status is Status.RUNNING

        await wait_for(running, "the first judging to start")
        judging = await rejudge(app, submission.id, None)
        box.program = hello_program
        done = await wait_done(app, submission.id)
        await wait_idle(app)
        history = await judgings_of(app, submission.id)
        done = await load_submission(app, submission.id)
    assert done.judging_id == judging.id and done.verdict == "AC"
    assert all(j.status is Status.DONE for j in history) and len(history) == 2


async def test_finished_hooks_and_stats(fake_app: FakeApp) -> None:
    seen: list[tuple[str, float]] = []
    async with fake_app() as app:
        get_dispatcher(app).on_finished.append(
            lambda verdict, seconds: seen.append((verdict, seconds))
        )
        get_dispatcher(app).on_finished.append(lambda verdict, seconds: 1 / 0)  # logged, ignored
        state = await judge_one(app)
        assert get_dispatcher(app).stats() == {"queued": 0, "running": 0, "sandboxes_busy": 0}
    assert state["verdict"] == "AC"
    assert len(seen) == 1 and seen[0][0] == "AC" and seen[0][1] >= 0


async def test_a_failing_test_run_is_retried_and_a_real_verdict_before_it_stays(
    fake_app: FakeApp,
) -> None:
    def wrong_then_broken(stdin: bytes, spec: RunSpec) -> RunResult:
        # Test 0 is judged wrong; test 1 always hits a sandbox failure (the judge's fault).
        if spec.stdin is not None and "secret" in str(spec.stdin):
            return RunResult(Outcome.SANDBOX_ERROR, message="slot died")
        return wrong(stdin, spec)

    async with fake_app(FakeSandbox(program=wrong_then_broken, slots=1)) as app:
        state = await judge_one(app)
        (judging,) = await judgings_of(app, state["id"])
    assert judging.attempts == MAX_ATTEMPTS
    assert [test["verdict"] for test in state["tests"]] == ["WA", "JE"]
    assert state["verdict"] == "WA"  # the submission's own failure, found before the judge's
    assert "judge error after 3 attempts" in state["message"] and "slot died" in state["message"]


async def test_dispatching_twice_and_starting_twice_change_nothing(fake_app: FakeApp) -> None:
    from service.jobs import dispatch

    box = FakeSandbox(program=hello_program, delay=0.05, slots=1)
    async with fake_app(box, queue="procrastinate") as app:  # not available yet: runs locally
        dispatcher = get_dispatcher(app)
        await dispatcher.start()
        problem = await import_example(app)
        user = await create_user(app)
        submission = await submit(app, user, problem.slug, "python3", [("", SOURCE)])
        assert submission.judging_id is not None
        await dispatch(app, submission.judging_id)
        await dispatcher.dispatch(submission.judging_id)
        assert (await wait_done(app, submission.id)).verdict == "AC"
        async with get_db(app).session() as db:
            assert await submission_state(db, 999_999) is None
    assert len(box.runs) == 2


async def test_a_submission_without_a_judging_has_an_empty_state(make_app: Any) -> None:
    from service.models import Submission

    async with make_app(start_evaluator=False) as app:
        problem = await import_example(app)
        user = await create_user(app)
        async with get_db(app).session() as db:
            row = Submission(user_id=user.id, problem_id=problem.id, language="c")
            db.add(row)
            await db.commit()
            state = await submission_state(db, row.id)
    assert state is not None
    assert (state["status"], state["tests"], state["judging_id"]) == ("queued", [], None)
    assert state["tests_total"] == problem.test_count and state["judgings"] == 0
