"""Crash recovery and exactly-once: rows left behind finish after a restart, once each."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
from datetime import timedelta
from typing import Any

import pytest
from quart import Quart
from sqlalchemy import select, update

from service.config import get_settings
from service.db import get_db
from service.events import get_broker
from service.jobs import get_dispatcher
from service.models import Judging, Problem, Status, Submission, SubmissionFile, TestResult
from service.models.base import utcnow
from service.worker import MAX_ATTEMPTS, judge, recover
from tests.factories import (
    AppFactory,
    create_user,
    import_example,
    judgings_of,
    load_submission,
    results_of,
)
from tests.fakes import FakeApp, FakeSandbox, hello_program
from tests.waiting import wait_done, wait_for

SOURCE = 'print("Hello World!")\n'


async def insert_submission(
    app: Quart,
    problem: Problem,
    user_id: int,
    *,
    status: Status = Status.QUEUED,
    worker: str = "",
    heartbeat_age: float | None = None,
    attempts: int = 0,
    partial_results: int = 0,
) -> int:
    """Store a submission and its judging directly, as a crashed server would have left it."""
    now = utcnow()
    async with get_db(app).session() as db:
        submission = Submission(
            user_id=user_id,
            problem_id=problem.id,
            language="python3",
            status=status,
            source_bytes=len(SOURCE),
            files=[SubmissionFile(name="main.py", content=SOURCE)],
        )
        db.add(submission)
        await db.flush()
        judging = Judging(
            submission_id=submission.id,
            package_hash=problem.package_hash,
            status=status,
            worker=worker,
            attempts=attempts,
            started_at=now if status is Status.RUNNING else None,
            heartbeat_at=None if heartbeat_age is None else now - timedelta(seconds=heartbeat_age),
        )
        db.add(judging)
        await db.flush()
        submission.judging_id = judging.id
        for index in range(partial_results):
            db.add(TestResult(judging_id=judging.id, index=index, name=f"t{index}", verdict="AC"))
        await db.commit()
        return submission.id


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
    assert len([spec for spec in box.specs if spec.workdir_writable]) == 4
    assert len(box.runs) == 8


async def test_stopping_the_server_requeues_running_work(
    make_app: AppFactory, fake_app: FakeApp
) -> None:
    slow = FakeSandbox(program=hello_program, delay=30.0, slots=1)
    async with fake_app(slow) as app:
        problem = await import_example(app)
        user = await create_user(app)
        from service.submissions.service import submit

        submission = await submit(app, user, problem.slug, "python3", [("", SOURCE.encode())])

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

        submission = await submit(app, user, problem.slug, "python3", [("", SOURCE.encode())])
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


async def test_the_sweep_picks_up_judgings_nobody_dispatched(fake_app: FakeApp) -> None:
    def quick_sweeps(dispatcher: Any) -> None:
        dispatcher.sweep_seconds = 0.05

    async with fake_app(configure=quick_sweeps) as app:
        problem = await import_example(app)
        user = await create_user(app)
        # Stored by another process: this one was never told about it.
        submission_id = await insert_submission(app, problem, user.id)
        assert (await wait_done(app, submission_id)).verdict == "AC"


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


async def test_a_cancelled_write_still_finishes_before_its_caller_sees_the_cancel() -> None:
    from service.db import runs_to_the_end

    steps: list[str] = []
    entered = asyncio.Event()

    @runs_to_the_end
    async def write() -> str:
        steps.append("begin")
        entered.set()
        await asyncio.sleep(0.05)  # the statement and the commit, in flight
        steps.append("commit")
        return "stored"

    task = asyncio.create_task(write())
    await entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert steps == ["begin", "commit"]
    assert await write() == "stored"  # uncancelled calls return the write's result
