"""The local dispatcher: each judging runs once, sweeps, finished hooks, stats, languages."""

from __future__ import annotations

from typing import Any

import pytest

from service.db import get_db
from service.evaluator import offered_languages
from service.jobs import get_dispatcher
from service.submissions.service import submit
from service.submissions.state import submission_state
from tests.factories import AppFactory, create_user, import_example, insert_submission
from tests.fakes import FakeApp, FakeSandbox, hello_program
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
