"""Submitting and rejudging: refusals store nothing, submits queue, rejudges supersede."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from quart import Quart
from sqlalchemy import event, func, insert, select, update

from service.db import get_db
from service.evaluator import offered_ids
from service.jobs import get_dispatcher
from service.models import Judging, Problem, Role, Status, Submission
from service.models.base import utcnow
from service.submissions.service import (
    REJUDGE_CHUNK,
    SUBMIT_LOCKS_KEY,
    SubmissionItem,
    SubmissionRefused,
    rejudge,
    rejudge_problem,
    submit,
    submit_batch,
)
from service.submissions.state import submission_state
from service.submissions.validation import check_language, conventional_name
from tests.factories import (
    AppFactory,
    create_user,
    import_example,
    judgings_of,
    load_submission,
    results_of,
    row_counts,
)
from tests.fakes import FakeApp, FakeSandbox, hello_program, wrong
from tests.waiting import wait_done, wait_idle

SOURCE = b'print("Hello World!")\n'
NOTHING = {"submissions": 0, "files": 0, "judgings": 0, "results": 0}


async def refused(app: Quart, *args: Any, **kwargs: Any) -> SubmissionRefused:
    """Submit, expect a refusal, and check that nothing was stored."""
    await wait_idle(app)  # judging earlier submissions adds test results
    before = await row_counts(app)
    with pytest.raises(SubmissionRefused) as caught:
        await submit(app, *args, **kwargs)
    assert await row_counts(app) == before
    return caught.value


@pytest.mark.parametrize(
    ("language", "files", "status", "code", "words"),
    [
        ("brainfuck", [("", SOURCE)], 422, "unknown_language", "python3"),
        ("python3", [], 422, "empty_source", "no source"),
        ("python3", [("", b"  \n\t\n")], 422, "empty_source", "empty"),
        ("python3", [("a.py", b"\n"), ("b.py", b" ")], 422, "empty_source", "empty"),
        ("python3", [("", b"x" * 65537)], 413, "source_too_large", "65536 bytes"),
        ("python3", [("", b"print(1)\x00\n")], 422, "not_text", "NUL"),
        ("python3", [("", b"print('\xff')\n")], 422, "not_text", "UTF-8"),
        ("python3", [("dir/a.py", SOURCE)], 422, "bad_file_name", "folders"),
        ("python3", [("dir\\a.py", SOURCE)], 422, "bad_file_name", "folders"),
        ("python3", [("a..py", SOURCE)], 422, "bad_file_name", "not allowed"),
        ("python3", [(".hidden.py", SOURCE)], 422, "bad_file_name", "start with"),
        ("python3", [("-rf.py", SOURCE)], 422, "bad_file_name", "start with"),
        ("python3", [("x" * 98 + ".py", SOURCE)], 422, "bad_file_name", "too long"),
        ("python3", [("a.py", SOURCE), ("", SOURCE)], 422, "bad_file_name", "needs a name"),
        ("python3", [("a.py", SOURCE), ("A.py", SOURCE)], 422, "bad_file_name", "two files"),
        ("python3", [("a.c", SOURCE)], 422, "bad_file_name", ".py"),
        ("python3", [(f"f{i}.py", SOURCE) for i in range(21)], 422, "too_many_files", "20"),
    ],
)
async def test_refusals_store_nothing(
    fake_app: FakeApp,
    language: str,
    files: list[tuple[str, bytes]],
    status: int,
    code: str,
    words: str,
) -> None:
    async with fake_app() as app:
        problem = await import_example(app)
        user = await create_user(app)
        refusal = await refused(app, user, problem.slug, language, files)
        assert (refusal.status, refusal.code) == (status, code)
        assert words in refusal.message
        assert refusal.to_json() == {"error": code, "message": refusal.message}
        assert await row_counts(app) == NOTHING


async def test_unknown_language_lists_the_offered_ones() -> None:
    with pytest.raises(SubmissionRefused) as caught:
        check_language("cobol")
    for language_id in offered_ids():
        assert language_id in caught.value.message


async def test_unknown_and_hidden_problems_are_404_except_hidden_for_staff(
    fake_app: FakeApp,
) -> None:
    async with fake_app() as app:
        problem = await import_example(app, hidden=True)
        student = await create_user(app)
        staff = await create_user(app, role=Role.STAFF)
        for slug in ("no-such-problem", problem.slug):
            refusal = await refused(app, student, slug, "python3", [("", SOURCE)])
            assert (refusal.status, refusal.code) == (404, "no_such_problem")
        submission = await submit(app, staff, problem.slug, "python3", [("", SOURCE)])
        assert (await wait_done(app, submission.id)).verdict == "AC"


async def test_accepted_submission_is_stored_queued_with_its_first_judging(
    fake_app: FakeApp,
) -> None:
    async with fake_app() as app:
        problem = await import_example(app)
        user = await create_user(app)
        get_dispatcher_stopped = app  # the submission is dispatched after the commit
        submission = await submit(app, user, problem.slug, "python3", [("", SOURCE)])
        assert submission.status is Status.QUEUED
        assert submission.language == "python3"
        assert submission.source_bytes == len(SOURCE)
        assert [file.name for file in submission.files] == ["main.py"]
        assert submission.files[0].content == SOURCE.decode()
        assert submission.judging_id is not None
        done = await wait_done(get_dispatcher_stopped, submission.id)
        assert (done.status, done.verdict, done.score) == (Status.DONE, "AC", 1.0)
        counts = await row_counts(app)
        assert counts == {"submissions": 1, "files": 1, "judgings": 1, "results": 2}


async def test_named_files_keep_their_names(fake_app: FakeApp) -> None:
    async with fake_app() as app:
        problem = await import_example(app)
        user = await create_user(app)
        files = [("hello.py", SOURCE), ("util.py", b"X = 1\n"), ("empty.py", b"")]
        submission = await submit(app, user, problem.slug, "python3", files)
        assert [file.name for file in submission.files] == ["hello.py", "util.py", "empty.py"]
        await wait_done(app, submission.id)


def test_conventional_names() -> None:
    assert conventional_name(check_language("python3")) == "main.py"
    assert conventional_name(check_language("java")) == "Main.java"
    assert conventional_name(check_language("c")) == "main.c"


async def test_rate_limit_refuses_with_retry_after(fake_app: FakeApp) -> None:
    async with fake_app(submission_rate_limit=_limit(2, 60)) as app:
        problem = await import_example(app)
        user = await create_user(app)
        other = await create_user(app)
        first = await submit(app, user, problem.slug, "python3", [("", SOURCE)])
        await submit(app, user, problem.slug, "python3", [("", SOURCE)])
        refusal = await refused(app, user, problem.slug, "python3", [("", SOURCE)])
        assert (refusal.status, refusal.code) == (429, "rate_limited")
        assert refusal.retry_after is not None and 59 <= refusal.retry_after <= 60
        # Another user has a limit of their own.
        await submit(app, other, problem.slug, "python3", [("", SOURCE)])
        # When the oldest leaves the window (40 s ago), the wait is what remains of it.
        await _age(app, first.id, seconds=40)
        refusal = await refused(app, user, problem.slug, "python3", [("", SOURCE)])
        assert refusal.retry_after is not None and 19 <= refusal.retry_after <= 20
        await _age(app, first.id, seconds=61)
        await submit(app, user, problem.slug, "python3", [("", SOURCE)])
        await wait_idle(app)


async def test_rate_limit_over_the_count_waits_for_enough_to_leave(fake_app: FakeApp) -> None:
    async with fake_app(submission_rate_limit=_limit(3, 100)) as app:
        problem = await import_example(app)
        user = await create_user(app)
        ids = [
            (await submit(app, user, problem.slug, "python3", [("", SOURCE)])).id for _ in range(3)
        ]
        for age, submission_id in zip((90, 50, 10), ids, strict=True):
            await _age(app, submission_id, seconds=age)
        # Lower the limit to 2: the two oldest... the one 50 s old must leave too.
        app.config["VERDICT_SETTINGS"] = _replace(app, submission_rate_limit=_limit(2, 100))
        refusal = await refused(app, user, problem.slug, "python3", [("", SOURCE)])
        assert refusal.retry_after is not None and 49 <= refusal.retry_after <= 50
        await wait_idle(app)


async def test_batch_submits_each_item_and_refuses_some(fake_app: FakeApp) -> None:
    async with fake_app(submission_rate_limit=_limit(3, 60)) as app:
        problem = await import_example(app)
        user = await create_user(app)
        items = [
            SubmissionItem(problem.slug, "python3", [("", SOURCE)]),
            (problem.slug, "cobol", [("", SOURCE)]),
            (problem.slug, "python3", [("", SOURCE)]),
            (problem.slug, "python3", [("", SOURCE)]),
            (problem.slug, "python3", [("", SOURCE)]),
        ]
        results = await submit_batch(app, user, items)
        kinds = [r.code if isinstance(r, SubmissionRefused) else "ok" for r in results]
        assert kinds == ["ok", "unknown_language", "ok", "ok", "rate_limited"]
        for result in results:
            if isinstance(result, Submission):
                assert (await wait_done(app, result.id)).verdict == "AC"
        assert (await row_counts(app))["submissions"] == 3


async def test_batch_too_large_or_empty_is_refused_whole(fake_app: FakeApp) -> None:
    async with fake_app() as app:
        problem = await import_example(app)
        user = await create_user(app)
        item = (problem.slug, "python3", [("", SOURCE)])
        for items, code in (([item] * 21, "batch_too_large"), ([], "empty_batch")):
            with pytest.raises(SubmissionRefused) as caught:
                await submit_batch(app, user, items)
            assert (caught.value.status, caught.value.code) == (422, code)
        assert await row_counts(app) == NOTHING


def _limit(count: int, seconds: int) -> Any:
    from service.config import RateLimit

    return RateLimit(count, seconds)


def _replace(app: Quart, **values: Any) -> Any:
    from dataclasses import replace

    return replace(app.config["VERDICT_SETTINGS"], **values)


async def _age(app: Quart, submission_id: int, *, seconds: float) -> None:
    async with get_db(app).session() as db:
        await db.execute(
            update(Submission)
            .where(Submission.id == submission_id)
            .values(created_at=utcnow() - timedelta(seconds=seconds))
        )
        await db.commit()


async def _problem(app: Quart, slug: str) -> Problem | None:
    async with get_db(app).session() as db:
        return await db.get(Problem, slug)


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
