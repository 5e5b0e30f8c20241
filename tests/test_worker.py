"""The worker: judging on a fake sandbox, claims, crash recovery, heartbeats, the real sandbox.

On a fake sandbox: verdicts, stored results, retries, events, a judging superseded by a
rejudge; rows a crashed or stopped server left behind finish once each. A few submissions are
judged end to end in the real sandbox, whose mode comes from the environment variable SANDBOX
(default ``bwrap``; ``SANDBOX=unsafe-rlimit`` runs them on a machine without bubblewrap).
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from typing import Any

import pytest
from quart import Quart
from sqlalchemy import select, update

from service.config import get_settings
from service.db import get_db
from service.evaluator import (
    Outcome,
    RunResult,
    RunSpec,
    SandboxUnavailable,
    create_sandbox,
    offered_ids,
)
from service.events import get_broker
from service.jobs import get_dispatcher
from service.judgings import MAX_ATTEMPTS, recover
from service.models import Judging, Problem, Role, Status, Submission
from service.models.base import utcnow
from service.submissions.service import rejudge, submit
from service.submissions.state import submission_state, visible_state
from service.worker import judge
from tests.factories import (
    AppFactory,
    create_user,
    example_path,
    import_example,
    insert_submission,
    judgings_of,
    load_submission,
    results_of,
    row_counts,
)
from tests.fakes import FakeApp, FakeSandbox, exited, hello_program, wrong
from tests.helpers import require_or_skip
from tests.waiting import judge_one, wait_done, wait_for, wait_idle

SOURCE = b'print("Hello World!")\n'


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
        from service.packages import forget_loaded

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


def dead_pid() -> int:
    """Return the pid of a process of this host that has exited."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


async def test_rows_left_queued_and_running_all_finish_once_after_start(
    make_app: AppFactory, fake_app: FakeApp
) -> None:
    host = socket.gethostname()
    async with make_app(start_evaluator=False) as app:
        problem = await import_example(app)
        user = await create_user(app)
        queued = [await insert_submission(app, problem, user.id) for _ in range(2)]
        stale = await insert_submission(
            app,
            problem,
            user.id,
            status=Status.RUNNING,
            worker="gone-host:4242:abcd",
            heartbeat_age=600,
            attempts=1,
            partial_results=1,
        )
        dead = await insert_submission(
            app,
            problem,
            user.id,
            status=Status.RUNNING,
            worker=f"{host}:{dead_pid()}:abcd",
            heartbeat_age=1,
            attempts=1,
            partial_results=2,
        )
        alive = await insert_submission(
            app,
            problem,
            user.id,
            status=Status.RUNNING,
            worker="busy-host:1:abcd",
            heartbeat_age=1,
            attempts=1,
        )
        exhausted = await insert_submission(
            app,
            problem,
            user.id,
            status=Status.RUNNING,
            worker="gone-host:4242:abcd",
            heartbeat_age=600,
            attempts=MAX_ATTEMPTS,
        )
        # Nothing ran: this app does not evaluate.
        assert (await load_submission(app, queued[0])).status is Status.QUEUED
    box = FakeSandbox(program=hello_program)
    async with fake_app(box) as app:
        for submission_id in [*queued, stale, dead]:
            submission = await wait_done(app, submission_id)
            assert submission.verdict == "AC"
            (judging,) = await judgings_of(app, submission_id)
            assert judging.status is Status.DONE and judging.verdict == "AC"
            results = await results_of(app, judging.id)
            assert [r.index for r in results] == [0, 1]
            assert [r.verdict for r in results] == ["AC", "AC"]
        assert (await load_submission(app, alive)).status is Status.RUNNING
        failed = await load_submission(app, exhausted)
        assert (failed.status, failed.verdict) == (Status.DONE, "JE")
        (judging,) = await judgings_of(app, exhausted)
        assert f"interrupted {MAX_ATTEMPTS} times" in judging.message
    # Each judging was compiled once and run once per test: nothing ran twice.
    assert len(box.builds) == 4
    assert len(box.runs) == 8


async def test_stopping_the_server_requeues_running_work(
    make_app: AppFactory, fake_app: FakeApp
) -> None:
    slow = FakeSandbox(program=hello_program, delay=30.0, slots=1)
    async with fake_app(slow) as app:
        problem = await import_example(app)
        user = await create_user(app)
        from service.submissions.service import submit

        submission = await submit(app, user, problem.slug, "python3", [("", SOURCE)])

        async def running() -> bool:
            return (await load_submission(app, submission.id)).status is Status.RUNNING

        await wait_for(running, "the judging to start")
    async with make_app(start_evaluator=False) as app:
        left = await load_submission(app, submission.id)
        (judging,) = await judgings_of(app, submission.id)
        assert left.status is Status.QUEUED
        assert (judging.status, judging.worker, judging.attempts) == (Status.QUEUED, "", 0)
    async with fake_app() as app:
        assert (await wait_done(app, submission.id)).verdict == "AC"


@pytest.mark.parametrize("stop_after", [0.0, 0.01, 0.02, 0.035, 0.05, 0.08, 0.12])
async def test_stopping_in_the_middle_of_a_write_leaves_the_database_usable(
    make_app: AppFactory, fake_app: FakeApp, stop_after: float, caplog: pytest.LogCaptureFixture
) -> None:
    # Stop at many moments while results are being stored: no write may be cut off holding
    # SQLite's write lock (the release of the judging would then wait, fail and hang the stop).
    quick = FakeSandbox(program=hello_program, delay=0.002)
    async with fake_app(quick) as app:
        problem = await import_example(app, "groups")
        user = await create_user(app)
        from service.submissions.service import submit

        submission = await submit(app, user, problem.slug, "python3", [("", SOURCE)])
        await asyncio.sleep(stop_after)
        stopping = time.monotonic()
    assert time.monotonic() - stopping < 5.0
    # A cancelled write shows as a connection the pool could not reset (then closed by GC).
    assert not [r for r in caplog.records if "Exception during reset" in r.getMessage()]
    async with fake_app() as app:
        done = await wait_done(app, submission.id)
        assert done.status is Status.DONE
        finished = [j for j in await judgings_of(app, submission.id) if j.status is Status.DONE]
        assert len(finished) == 1
        assert len(await results_of(app, finished[0].id)) == finished[0].total


async def test_a_judging_claimed_twice_at_once_completes_once(make_app: AppFactory) -> None:
    async with make_app(start_evaluator=False) as app:
        problem = await import_example(app)
        user = await create_user(app)
        submission_id = await insert_submission(app, problem, user.id)
        (judging,) = await judgings_of(app, submission_id)
        box = FakeSandbox(program=hello_program, delay=0.05)
        outcomes = await asyncio.gather(
            *(
                judge(get_db(app), get_settings(app), get_broker(app), box, judging.id, f"w:{n}:x")
                for n in range(4)
            )
        )
        assert sorted(outcome.claimed for outcome in outcomes) == [False, False, False, True]
        assert [o.verdict for o in outcomes if o.claimed] == ["AC"]
        assert len(await results_of(app, judging.id)) == 2
        # Judging it once more does nothing: it is not queued any more.
        again = await judge(get_db(app), get_settings(app), get_broker(app), box, judging.id, "w")
        assert not again.claimed
        assert len(box.runs) == 2


async def test_a_worker_whose_claim_was_taken_stops_writing(make_app: AppFactory) -> None:
    async with make_app(start_evaluator=False) as app:
        problem = await import_example(app)
        user = await create_user(app)
        submission_id = await insert_submission(app, problem, user.id)
        (judging,) = await judgings_of(app, submission_id)
        box = FakeSandbox(program=hello_program, delay=0.3, slots=1)
        task = asyncio.create_task(
            judge(get_db(app), get_settings(app), get_broker(app), box, judging.id, "h:1:a")
        )

        async def started() -> bool:
            return bool(box.specs)

        await wait_for(started, "the first run")
        # Recovery elsewhere decided this worker was dead and gave the judging to another one.
        async with get_db(app).session() as db:
            await db.execute(update(Judging).where(Judging.id == judging.id).values(worker="h:2:b"))
            await db.commit()
        outcome = await asyncio.wait_for(task, 10)
        assert outcome.claimed and outcome.verdict is None and not outcome.requeued
        async with get_db(app).session() as db:
            row = (await db.execute(select(Judging).where(Judging.id == judging.id))).scalar_one()
        assert (row.status, row.worker, row.verdict) == (Status.RUNNING, "h:2:b", None)
        assert await results_of(app, judging.id) == []


async def test_recover_leaves_live_workers_alone(make_app: AppFactory) -> None:
    async with make_app(start_evaluator=False) as app:
        problem = await import_example(app)
        user = await create_user(app)
        here = get_dispatcher(app).worker_id
        mine = await insert_submission(
            app, problem, user.id, status=Status.RUNNING, worker=here, heartbeat_age=1
        )
        nameless = await insert_submission(
            app, problem, user.id, status=Status.RUNNING, worker="", heartbeat_age=1
        )
        # A live process of this host (pid 1) with a fresh heartbeat keeps its judging.
        neighbour = await insert_submission(
            app,
            problem,
            user.id,
            status=Status.RUNNING,
            worker=f"{socket.gethostname()}:1:abcd",
            heartbeat_age=1,
        )
        queued = await recover(get_db(app))
        (kept,) = await judgings_of(app, mine)
        (taken,) = await judgings_of(app, nameless)
        (untouched,) = await judgings_of(app, neighbour)
        assert kept.status is Status.RUNNING and taken.status is Status.QUEUED
        assert untouched.status is Status.RUNNING
        assert queued == [taken.id]


async def test_long_judgings_keep_their_heartbeat(fake_app: FakeApp, monkeypatch: Any) -> None:
    from service import worker

    monkeypatch.setattr(worker, "HEARTBEAT_SECONDS", 0.05)
    box = FakeSandbox(program=hello_program, delay=0.5, slots=1)
    async with fake_app(box) as app:
        problem = await import_example(app)
        user = await create_user(app)
        submission_id = await insert_submission(app, problem, user.id)
        (judging,) = await judgings_of(app, submission_id)
        await get_dispatcher(app).dispatch(judging.id)
        beats: set[Any] = set()

        async def beating() -> bool:
            (row,) = await judgings_of(app, submission_id)
            if row.heartbeat_at is not None:
                beats.add(row.heartbeat_at)
            return len(beats) >= 3

        await wait_for(beating, "three heartbeats")
        assert (await wait_done(app, submission_id)).verdict == "AC"


async def _set_time_limit(app: Quart, seconds: float) -> None:
    async with get_db(app).session() as db:
        await db.execute(update(Problem).values(time_limit=seconds))
        await db.commit()


async def test_the_time_limit_the_pages_show_is_the_one_enforced(fake_app: FakeApp) -> None:
    box = FakeSandbox(program=hello_program)
    async with fake_app(box) as app:
        problem = await import_example(app)
        await _set_time_limit(app, 7.0)  # e.g. measured by a verified import
        user = await create_user(app)
        submission = await submit(app, user, problem.slug, "python3", [("", SOURCE)])
        assert (await wait_done(app, submission.id)).verdict == "AC"
    assert len(box.runs) == 2
    assert {spec.limits.cpu_time for spec in box.runs} == {7.0}


async def test_a_superseded_judging_publishes_nothing_more(fake_app: FakeApp) -> None:
    box = FakeSandbox(program=hello_program, delay=0.3)
    async with fake_app(box) as app:
        problem = await import_example(app)
        user = await create_user(app)
        staff = await create_user(app, role=Role.STAFF)
        submission = await submit(app, user, problem.slug, "python3", [("", SOURCE)])
        first = submission.judging_id

        async def running() -> bool:
            return (await load_submission(app, submission.id)).status is Status.RUNNING

        await wait_for(running, "the first judging to start")
        new = await rejudge(app, submission.id, staff)
        seen: list[dict[str, Any]] = []
        async with get_broker(app).subscribe(submission.id) as events:
            async for item in events:
                seen.append(item)
                if item["type"] == "done":
                    break
        await wait_idle(app)
        old, latest = await judgings_of(app, submission.id)
    assert {item["judging_id"] for item in seen} == {new.id}
    assert [item["type"] for item in seen] == [
        "status",
        "compile",
        "compile",
        "test",
        "test",
        "done",
    ]
    assert (old.id, old.status, old.verdict) == (first, Status.DONE, None)
    assert old.message == f"superseded by judging {new.id}"
    assert (latest.id, latest.status, latest.verdict) == (new.id, Status.DONE, "AC")


async def test_a_judging_the_submission_no_longer_shows_is_not_judged(
    make_app: AppFactory, fake_app: FakeApp
) -> None:
    async with make_app(start_evaluator=False) as app:
        problem = await import_example(app)
        user = await create_user(app)
        submission = await submit(app, user, problem.slug, "python3", [("", SOURCE)])
        # A second queued judging shown by the submission, the first still queued (as an older
        # server could leave them): the first must not run.
        async with get_db(app).session() as db:
            newer = Judging(
                submission_id=submission.id,
                package_hash=problem.package_hash,
                status=Status.QUEUED,
                created_at=utcnow(),
            )
            db.add(newer)
            await db.flush()
            await db.execute(
                update(Submission).where(Submission.id == submission.id).values(judging_id=newer.id)
            )
            await db.commit()
    box = FakeSandbox(program=hello_program)
    async with fake_app(box) as app:
        done = await wait_done(app, submission.id)
        old, shown = await judgings_of(app, submission.id)
    assert (done.judging_id, done.verdict) == (shown.id, "AC")
    assert (old.status, old.verdict, old.message) == (
        Status.DONE,
        None,
        f"superseded by judging {shown.id}",
    )
    assert len(box.runs) == 2  # only the shown judging ran its two tests


def sandbox_mode() -> str:
    """Return the sandbox mode to test; skip unless it works here (fail under REQUIRE_ALL)."""
    mode = os.environ.get("SANDBOX", "bwrap")
    try:
        sandbox = create_sandbox(mode, 1)
    except SandboxUnavailable as error:
        require_or_skip(False, f"sandbox {mode!r} unavailable here: {error}")
        raise
    close = getattr(sandbox, "close", None)
    if close is not None:
        close()
    return mode


@pytest.mark.sandbox
@pytest.mark.parametrize(
    ("language", "path", "verdict"),
    [
        ("python3", "accepted/hello.py", "AC"),
        ("c", "accepted/hello.c", "AC"),
        ("c", "compiler_error/missing_semicolon.c", "CE"),
        ("python3", "wrong_answer/lowercase.py", "WA"),
    ],
)
async def test_hello_world_in_the_real_sandbox(
    make_app: AppFactory, language: str, path: str, verdict: str
) -> None:
    mode = sandbox_mode()
    require_or_skip(language in offered_ids(), f"{language} is not installed")
    source = (example_path("hello") / "submissions" / path).read_bytes()
    async with make_app(evaluator_concurrency=2, sandbox=mode) as app:
        from service.submissions.service import submit

        problem = await import_example(app)
        user = await create_user(app)
        name = path.rsplit("/", 1)[1]
        submission = await submit(app, user, problem.slug, language, [(name, source)])
        done = await wait_done(app, submission.id, timeout=60)
    assert done.verdict == verdict


@pytest.mark.sandbox
async def test_the_main_file_may_be_named_after_the_problem(make_app: AppFactory) -> None:
    # Two Python files: the one named like the problem's slug (hello.py) is the program.
    mode = sandbox_mode()
    main = b"from words import greeting\nprint(greeting())\n"
    helper = b"def greeting():\n    return 'Hello World!'\n"
    async with make_app(evaluator_concurrency=2, sandbox=mode) as app:
        from service.submissions.service import submit

        problem = await import_example(app)
        user = await create_user(app)
        files = [("words.py", helper), ("hello.py", main)]
        submission = await submit(app, user, problem.slug, "python3", files)
        done = await wait_done(app, submission.id, timeout=60)
    assert done.verdict == "AC"


@pytest.mark.sandbox
async def test_a_scoring_problems_points_are_stored_as_their_share_of_the_maximum(
    make_app: AppFactory,
) -> None:
    # examples/problems/subtasks: a 32-bit total earns groups 1 and 2, 50 of 100 points.
    source = (example_path("subtasks") / "submissions/partially_accepted/int32.c").read_bytes()
    async with make_app(evaluator_concurrency=2, sandbox=sandbox_mode()) as app:
        from service.submissions.service import submit

        problem = await import_example(app, "subtasks")
        user = await create_user(app)
        submission = await submit(app, user, problem.slug, "c", [("int32.c", source)])
        done = await wait_done(app, submission.id, timeout=120)
    assert (done.verdict, done.score) == ("WA", 0.5)


async def test_live_test_events_and_the_stored_state_agree(fake_app: FakeApp) -> None:
    async with fake_app(FakeSandbox(program=wrong)) as app:
        problem = await import_example(app)
        user = await create_user(app)
        dispatcher = get_dispatcher(app)
        # Hold the judging until the subscriber is ready, as in test_events_arrive_in_order.
        original = dispatcher.enqueue
        held: list[int] = []
        dispatcher.enqueue = held.append  # type: ignore[method-assign]
        submission = await submit(app, user, problem.slug, "python3", [("", SOURCE)])
        dispatcher.enqueue = original  # type: ignore[method-assign]
        live: list[dict[str, Any]] = []
        async with get_broker(app).subscribe(submission.id) as subscription:
            for judging_id in held:
                original(judging_id)
            async for event in subscription:
                if event["type"] == "test":
                    live.append(event)
                if event["type"] == "done":
                    break
        await wait_done(app, submission.id)
        async with get_db(app).session() as db:
            state = await submission_state(db, submission.id)
    assert state is not None and len(state["tests"]) == 2
    assert {event["judging_id"] for event in live} == {submission.judging_id}
    shown = [{k: v for k, v in event.items() if k not in ("type", "judging_id")} for event in live]
    assert shown == state["tests"]


# ------------------------------------------------- the wall-clock budget (#14, item 6)


def groups_answers() -> dict[bytes, bytes]:
    """Return the groups example's answer to each of its inputs."""
    folder = example_path("groups") / "data"
    return {
        path.read_bytes(): path.with_suffix(".ans").read_bytes() for path in folder.rglob("*.in")
    }


async def test_a_submission_past_its_wall_budget_stops_and_the_rest_are_tle(
    fake_app: FakeApp,
) -> None:
    # Right answers, 5 ms of CPU and 4 s of wall clock each: a sleeping program. The budget
    # (WALL_BUDGET_FACTOR 1 x 15 tests x the time limit) runs out during the fourth test.
    answers = groups_answers()

    def sleeper(stdin: bytes, spec: RunSpec) -> RunResult:
        return RunResult(Outcome.EXITED, exit_code=0, stdout=answers[stdin], cpu_ms=5, wall_ms=4000)

    box = FakeSandbox(program=sleeper, slots=1)
    async with fake_app(box, wall_budget_factor=1.0) as app:
        problem = await import_example(app, "groups")
        assert problem.time_limit == 1.0 and problem.test_count == 15
        user = await create_user(app)
        submission = await submit(app, user, "groups", "python3", [("", SOURCE)])
        await wait_done(app, submission.id)
        async with get_db(app).session() as db:
            full = await submission_state(db, submission.id)
            shown = await visible_state(db, submission.id, staff=False)
    assert full is not None and shown is not None
    assert len(box.runs) == 4  # nothing ran after the budget was spent
    assert [test["verdict"] for test in full["tests"]] == ["AC"] * 4 + ["TLE"] * 11
    assert all("not run" in test["message"] for test in full["tests"][4:])
    assert (full["verdict"], full["score"]) == ("TLE", 4 / 15)
    assert "wall-clock budget of 15 s" in shown["message"]  # said to the student too
