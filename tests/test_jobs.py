"""The local dispatcher: each judging runs once, sweeps, finished hooks, stats, languages."""

from __future__ import annotations

from typing import Any

import pytest
from quart import Quart
from sqlalchemy import select

from service.db import get_db
from service.evaluator import offered_languages
from service.jobs import FairQueue, get_dispatcher
from service.models import Judging, Status, Submission
from service.submissions.service import submit
from service.submissions.state import submission_state
from tests.factories import (
    AppFactory,
    create_user,
    import_example,
    insert_submission,
    load_problem,
    load_submission,
)
from tests.fakes import FakeApp, FakeSandbox, GatedSandbox, hello_program
from tests.waiting import judge_one, wait_done, wait_for

SOURCE = b'print("Hello World!")\n'


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


async def test_the_sweep_picks_up_judgings_nobody_dispatched(fake_app: FakeApp) -> None:
    def quick_sweeps(dispatcher: Any) -> None:
        dispatcher.sweep_seconds = 0.05

    async with fake_app(configure=quick_sweeps) as app:
        problem = await import_example(app)
        user = await create_user(app)
        # Stored by another process: this one was never told about it.
        submission_id = await insert_submission(app, problem, user.id)
        assert (await wait_done(app, submission_id)).verdict == "AC"


@pytest.mark.parametrize("start_evaluator", [True, False])
async def test_languages_are_probed_before_the_first_submission(
    make_app: AppFactory, start_evaluator: bool
) -> None:
    offered_languages.cache_clear()
    async with make_app(start_evaluator=start_evaluator):
        assert offered_languages.cache_info().currsize == 1


async def test_stats_count_the_sandbox_runs_in_progress(fake_app: FakeApp) -> None:
    box = FakeSandbox(program=hello_program, delay=0.3, slots=2)
    async with fake_app(box) as app:
        dispatcher = get_dispatcher(app)
        assert dispatcher.stats() == {"queued": 0, "running": 0, "sandboxes_busy": 0}
        problem = await import_example(app)
        user = await create_user(app)
        submission = await submit(app, user, problem.slug, "python3", [("", SOURCE)])

        async def busy() -> bool:
            return dispatcher.stats()["sandboxes_busy"] > 0

        await wait_for(busy, "a sandbox run to start")
        assert dispatcher.stats()["running"] == 1
        assert dispatcher.stats()["sandboxes_busy"] <= 2
        await wait_done(app, submission.id)
        assert dispatcher.stats() == {"queued": 0, "running": 0, "sandboxes_busy": 0}


# ------------------------------------------------------------- fairness (#14, item 6)

#: A correct hello program that the gated sandbox holds until the test opens its gate.
FLOOD = b'print("Hello World!")  # FLOOD\n'


async def flood(app: Quart, count: int) -> list[int]:
    """Have a new user send ``count`` held submissions; return their ids."""
    user = await create_user(app)
    problem = await load_problem(app, "hello")
    assert problem is not None
    sent = [await submit(app, user, problem.slug, "python3", [("", FLOOD)]) for _ in range(count)]
    return [submission.id for submission in sent]


async def statuses(app: Quart, submission_ids: list[int]) -> list[Status]:
    """Return the status of each submission."""
    return [(await load_submission(app, number)).status for number in submission_ids]


async def wait_status(app: Quart, submission_id: int, status: Status) -> None:
    """Wait until the submission has ``status`` (the dispatcher may stay busy meanwhile)."""

    async def reached() -> bool:
        return (await load_submission(app, submission_id)).status is status

    await wait_for(reached, f"submission {submission_id} to be {status.value}")


async def test_a_flooding_student_holds_at_most_their_share_of_judges(fake_app: FakeApp) -> None:
    # Two judgings at once, one per person: the flood's held judging leaves a judge free.
    box = GatedSandbox(program=hello_program, marker=b"FLOOD")
    async with fake_app(box, evaluator_concurrency=4, max_judgings_per_user=1) as app:
        await import_example(app)
        flooded = await flood(app, 4)
        await wait_status(app, flooded[0], Status.RUNNING)
        normal = await create_user(app)
        mine = await submit(app, normal, "hello", "python3", [("", SOURCE)])
        await wait_status(app, mine.id, Status.DONE)
        assert (await load_submission(app, mine.id)).verdict == "AC"
        waiting = await statuses(app, flooded)
        box.gate.set()
        for number in flooded:
            await wait_done(app, number)
    assert waiting == [Status.RUNNING] + [Status.QUEUED] * 3


async def test_the_next_judging_goes_to_whoever_has_fewer_waiting(fake_app: FakeApp) -> None:
    # One judging at a time: after the flood's first, the normal student's goes next.
    box = GatedSandbox(program=hello_program, marker=b"FLOOD")
    async with fake_app(box, evaluator_concurrency=2) as app:
        await import_example(app)
        flooded = await flood(app, 4)
        await wait_status(app, flooded[0], Status.RUNNING)
        normal = await create_user(app)
        mine = await submit(app, normal, "hello", "python3", [("", SOURCE)])
        box.gate.set()
        for number in [*flooded, mine.id]:
            await wait_done(app, number)
        async with get_db(app).session() as db:
            rows = await db.execute(
                select(Submission.id).join(Judging).order_by(Judging.started_at)
            )
            judged = list(rows.scalars())
    assert judged == [flooded[0], mine.id, *flooded[1:]]


def test_the_fair_queue_serves_the_least_served_first() -> None:
    line = FairQueue(per_user=2)
    for judging_id in range(1, 7):
        line.add(judging_id)
    line.place({1: 10, 2: 10, 3: 10, 4: 10, 5: 20, 6: 30})  # user 10 sent four, 20 and 30 one
    taken = [line.take(), line.take(), line.take(), line.take()]
    # Nobody runs anything: fewer waiting first (5, 6), then the flood in order (1, 2).
    assert taken == [5, 6, 1, 2]
    assert line.take() is None  # user 10 has two running: the cap
    line.done(1)
    assert line.take() == 3
    assert (line.waiting, line.running) == (1, 4)
    line.add(7)
    line.place({7: None})  # the owner could not be looked up: judged anyway, uncapped
    assert line.take() == 7
