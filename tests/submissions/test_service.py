"""Submitting: every refusal stores nothing; an accepted submission is stored and queued."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from quart import Quart
from sqlalchemy import update

from service.db import get_db
from service.evaluator.languages import offered_ids
from service.models import Problem, Role, Status, Submission
from service.models.base import utcnow
from service.submissions.service import (
    SubmissionItem,
    SubmissionRefused,
    submit,
    submit_batch,
)
from service.submissions.validation import check_language, conventional_name
from tests.factories import create_user, import_example, row_counts
from tests.fakes import FakeApp
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
