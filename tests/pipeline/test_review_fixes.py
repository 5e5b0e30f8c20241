"""Limits the pages show are enforced, rejudges supersede, submits and rejudges scale safely."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from quart import Quart
from sqlalchemy import event, func, insert, select, update

from service.db import get_db
from service.evaluator.languages import offered_languages
from service.evaluator.sandbox import SandboxUnavailable
from service.events import get_broker
from service.jobs import get_dispatcher
from service.models import Judging, Problem, Role, Status, Submission
from service.models.base import utcnow
from service.problems.importer import ImportRefused
from service.submissions.service import (
    REJUDGE_CHUNK,
    SUBMIT_LOCKS_KEY,
    SubmissionRefused,
    rejudge,
    rejudge_problem,
    submit,
)
from tests.factories import (
    AppFactory,
    create_user,
    import_example,
    judgings_of,
    load_submission,
    row_counts,
)
from tests.fakes import FakeApp, FakeSandbox, hello_program
from tests.waiting import wait_done, wait_for, wait_idle

SOURCE = b'print("Hello World!")\n'


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


async def test_concurrent_submits_cannot_pass_the_rate_limit_together(fake_app: FakeApp) -> None:
    from service.config import RateLimit

    async with fake_app(submission_rate_limit=RateLimit(2, 60)) as app:
        problem = await import_example(app)
        user = await create_user(app)
        results = await asyncio.gather(
            *(submit(app, user, problem.slug, "python3", [("", SOURCE)]) for _ in range(10)),
            return_exceptions=True,
        )
        stored = [result for result in results if isinstance(result, Submission)]
        refused = [result for result in results if isinstance(result, SubmissionRefused)]
        assert len(stored) == 2 and len(refused) == 8
        assert {(r.status, r.code) for r in refused} == {(429, "rate_limited")}
        counts = await row_counts(app)
        assert (counts["submissions"], counts["judgings"]) == (2, 2)
        assert app.extensions[SUBMIT_LOCKS_KEY] == {}  # idle users keep no lock
        for submission in stored:
            await wait_done(app, submission.id)


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


async def test_rejudging_a_problem_twice_judges_only_the_last_judging(fake_app: FakeApp) -> None:
    box = FakeSandbox(program=hello_program, delay=0.1)
    async with fake_app(box) as app:
        problem = await import_example(app)
        user = await create_user(app)
        ids = [
            (await submit(app, user, problem.slug, "python3", [("", SOURCE)])).id for _ in range(3)
        ]
        for submission_id in ids:
            await wait_done(app, submission_id)
        assert await rejudge_problem(app, problem.id, None) == 3
        assert await rejudge_problem(app, problem.id, None) == 3
        for submission_id in ids:
            done = await wait_done(app, submission_id)
            first, middle, last = await judgings_of(app, submission_id)
            assert done.judging_id == last.id and done.verdict == "AC"
            assert (first.verdict, last.verdict) == ("AC", "AC")
            assert (middle.status, middle.verdict) == (Status.DONE, None)
            assert middle.message == f"superseded by judging {last.id}"


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


async def test_rejudging_many_submissions_works_in_bounded_transactions(
    make_app: AppFactory,
) -> None:
    total = 2 * REJUDGE_CHUNK + 200
    async with make_app(start_evaluator=False) as app:
        problem = await import_example(app)
        user = await create_user(app)
        async with get_db(app).session() as db:
            await db.execute(
                insert(Submission),
                [
                    {
                        "user_id": user.id,
                        "problem_id": problem.id,
                        "language": "python3",
                        "status": Status.DONE,
                        "verdict": "WA",
                        "source_bytes": 1,
                        "created_at": utcnow(),
                    }
                    for _ in range(total)
                ],
            )
            await db.commit()
            ids = list((await db.execute(select(Submission.id).order_by(Submission.id))).scalars())
        waiting = await _give_queued_judging(app, ids[0])
        engine = get_db(app).engine
        assert engine is not None
        commits: list[int] = []
        statements: list[str] = []

        def on_commit(connection: Any) -> None:
            commits.append(1)

        def on_execute(*args: Any) -> None:
            statements.append(str(args[2]))

        event.listen(engine.sync_engine, "commit", on_commit)
        event.listen(engine.sync_engine, "before_cursor_execute", on_execute)
        try:
            assert await rejudge_problem(app, problem.id, None) == total
        finally:
            event.remove(engine.sync_engine, "commit", on_commit)
            event.remove(engine.sync_engine, "before_cursor_execute", on_execute)
        assert len(commits) == 3  # 500 + 500 + 200
        assert len(statements) < 40  # bulk statements, not one query per submission
        async with get_db(app).session() as db:
            shown = (
                await db.execute(
                    select(Submission.id, Submission.status, Submission.verdict, Judging)
                    .join(Judging, Judging.id == Submission.judging_id)
                    .order_by(Submission.id)
                )
            ).all()
            judgings = await db.scalar(select(func.count()).select_from(Judging))
            old = await db.get(Judging, waiting)
        assert get_dispatcher(app).stats()["queued"] == total
    assert len(shown) == total and judgings == total + 1
    for submission_id, status, verdict, judging in shown:
        assert (status, verdict) == (Status.QUEUED, None)
        assert (judging.submission_id, judging.status) == (submission_id, Status.QUEUED)
        assert judging.package_hash == problem.package_hash
    assert old is not None and (old.status, old.verdict) == (Status.DONE, None)
    assert old.message == f"superseded by judging {shown[0][3].id}"


async def _give_queued_judging(app: Quart, submission_id: int) -> int:
    async with get_db(app).session() as db:
        problem = (await db.execute(select(Problem))).scalar_one()
        judging = Judging(
            submission_id=submission_id,
            package_hash=problem.package_hash,
            status=Status.QUEUED,
            created_at=utcnow(),
        )
        db.add(judging)
        await db.flush()
        await db.execute(
            update(Submission).where(Submission.id == submission_id).values(judging_id=judging.id)
        )
        await db.commit()
        return judging.id


async def test_verifying_an_import_opens_its_sandbox_off_the_event_loop(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened_in: list[threading.Thread] = []

    def unavailable(mode: str, slots: int | None = None) -> Any:
        opened_in.append(threading.current_thread())
        raise SandboxUnavailable("no sandbox in this test")

    monkeypatch.setattr("service.problems.importer.create_sandbox", unavailable)
    async with make_app(start_evaluator=False) as app:
        with pytest.raises(ImportRefused) as caught:
            await import_example(app, verify=True)
        async with get_db(app).session() as db:
            assert await db.scalar(select(func.count()).select_from(Problem)) == 0
    assert "sandbox is unavailable" in str(caught.value)
    assert len(opened_in) == 1 and opened_in[0] is not threading.main_thread()


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
