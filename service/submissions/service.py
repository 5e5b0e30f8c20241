"""Submit, rejudge: the pipeline's entry points, shared by the web pages, the API and the CLI.

``submit`` validates (nothing is stored on a refusal), stores the submission, its files and
its first judging as ``queued`` in one transaction, commits, and only then dispatches the
judging. The rate limit is counted and the submission stored while holding a per-user lock
(an asyncio lock in this process, plus the user's row lock on PostgreSQL), so concurrent
submissions of one user cannot all pass the count.

A rejudge adds a new judging on the problem's current package and keeps the old ones; earlier
judgings of the submission still waiting in the queue are superseded (they never run), and a
running one stops at its next event (see :mod:`service.judgings`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from itertools import batched
from typing import NamedTuple

from quart import Quart
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from service.config import get_settings
from service.courses.service import audit_rejudge
from service.db import get_db, runs_to_the_end
from service.jobs import get_dispatcher
from service.judgings import new_judging, supersede
from service.models import Judging, Problem, Status, Submission, SubmissionFile, User
from service.models.base import utcnow
from service.problems.queries import get_visible_problem
from service.submissions.validation import (
    MAX_BATCH,
    SubmissionRefused,
    ValidSources,
    check_sources,
    retry_after_seconds,
)

__all__ = [
    "SubmissionItem",
    "SubmissionRefused",
    "find_problem",
    "rejudge",
    "rejudge_problem",
    "submit",
    "submit_batch",
]


#: app.extensions key of the per-user submit locks.
SUBMIT_LOCKS_KEY = "verdict.submit_locks"
#: Submissions rejudged per transaction by :func:`rejudge_problem`.
REJUDGE_CHUNK = 500


class SubmissionItem(NamedTuple):
    """One submission of a batch: problem slug, language id and (name, content) files."""

    slug: str
    language: str
    files: Sequence[tuple[str, bytes]]


async def find_problem(db: AsyncSession, slug: str, user: User) -> Problem:
    """Return the problem ``slug`` if ``user`` may submit to it; refuse with 404 otherwise."""
    problem = await get_visible_problem(db, slug, user)
    if problem is None:
        raise SubmissionRefused(404, "no_such_problem", f"there is no problem {slug!r}")
    return problem


async def check_rate_limit(app: Quart, db: AsyncSession, user: User) -> None:
    """Refuse (429 with retry_after) when ``user`` already sent the limit's count in its window."""
    limit = get_settings(app).submission_rate_limit
    now = utcnow()
    recent = (
        (
            await db.execute(
                select(Submission.created_at)
                .where(
                    Submission.user_id == user.id,
                    Submission.created_at > now - timedelta(seconds=limit.seconds),
                )
                .order_by(Submission.created_at)
            )
        )
        .scalars()
        .all()
    )
    if len(recent) < limit.count:
        return
    # Once this many of the oldest leave the window, one more submission fits.
    leaving = recent[len(recent) - limit.count]
    wait = retry_after_seconds(leaving + timedelta(seconds=limit.seconds), now)
    raise SubmissionRefused(
        429,
        "rate_limited",
        f"at most {limit.count} submissions per {limit.seconds} s; try again in {wait} s",
        retry_after=wait,
    )


class _UserLock:
    """An asyncio lock and how many submits hold it or wait for it."""

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.users = 0


@asynccontextmanager
async def _one_submit_at_a_time(app: Quart, user_id: int) -> AsyncIterator[None]:
    """Hold ``user_id``'s submit lock of this process; the entry is dropped once nobody waits."""
    locks: dict[int, _UserLock] = app.extensions.setdefault(SUBMIT_LOCKS_KEY, {})
    entry = locks.get(user_id)
    if entry is None:
        entry = locks[user_id] = _UserLock()
    entry.users += 1
    try:
        async with entry.lock:
            yield
    finally:
        entry.users -= 1
        if entry.users == 0:
            del locks[user_id]


async def _lock_user_row(db: AsyncSession, user_id: int) -> None:
    """On PostgreSQL, lock the user's row until commit (other processes' submits wait).

    SQLite serialises writers already; its reads before the first write are not serialised,
    which the in-process lock covers.
    """
    if db.get_bind().dialect.name == "sqlite":
        return
    await db.execute(select(User.id).where(User.id == user_id).with_for_update(key_share=True))


async def submit(
    app: Quart, user: User, slug: str, language: str, files: Sequence[tuple[str, bytes]]
) -> Submission:
    """Validate, store as queued, commit, then dispatch; raise SubmissionRefused on refusal."""
    settings = get_settings(app)
    sources = check_sources(language, files, max_bytes=settings.max_source_bytes)
    return await _submit_checked(app, user, slug, sources)


@runs_to_the_end  # a client gone mid-commit must not leave a half-written transaction behind
async def _submit_checked(app: Quart, user: User, slug: str, sources: ValidSources) -> Submission:
    async with _one_submit_at_a_time(app, user.id), get_db(app).session() as db:
        problem = await find_problem(db, slug, user)
        await _lock_user_row(db, user.id)
        await check_rate_limit(app, db, user)
        submission = await _store(db, user, problem, sources)
        await db.commit()
    assert submission.judging_id is not None
    await get_dispatcher(app).dispatch(submission.judging_id)
    return submission


async def submit_batch(
    app: Quart,
    user: User,
    items: Sequence[SubmissionItem | tuple[str, str, Sequence[tuple[str, bytes]]]],
) -> list[Submission | SubmissionRefused]:
    """Submit each item in order; return its submission or its refusal (the others go on).

    More than :data:`MAX_BATCH` items refuse the whole batch (422 batch_too_large). The rate
    limit counts every item, including the earlier ones of the same batch.
    """
    if len(items) > MAX_BATCH:
        raise SubmissionRefused(
            422, "batch_too_large", f"{len(items)} submissions sent; at most {MAX_BATCH} at once"
        )
    if not items:
        raise SubmissionRefused(422, "empty_batch", "the batch holds no submission")
    results: list[Submission | SubmissionRefused] = []
    for slug, language, files in items:
        try:
            results.append(await submit(app, user, slug, language, files))
        except SubmissionRefused as refusal:
            results.append(refusal)
    return results


async def _store(
    db: AsyncSession, user: User, problem: Problem, sources: ValidSources
) -> Submission:
    submission = Submission(
        user_id=user.id,
        problem_id=problem.id,
        language=sources.language.id,
        created_at=utcnow(),
        status=Status.QUEUED,
        source_bytes=sources.total_bytes,
        files=[SubmissionFile(name=file.name, content=file.content) for file in sources.files],
    )
    db.add(submission)
    await db.flush()
    judging = Judging(**new_judging(submission.id, problem))
    db.add(judging)
    await db.flush()
    submission.judging_id = judging.id
    return submission


async def rejudge(app: Quart, submission_id: int, requested_by: User | None) -> Judging:
    """Add a queued judging on the problem's current package and make it the shown one.

    An unknown submission is refused with 404 ``no_such_submission``.
    """
    return await _rejudge_now(app, submission_id, requested_by)


@runs_to_the_end
async def _rejudge_now(app: Quart, submission_id: int, requested_by: User | None) -> Judging:
    async with get_db(app).session() as db:
        judging = await _add_judging(db, submission_id, requested_by)
        problem_id = await db.scalar(
            select(Submission.problem_id).where(Submission.id == submission_id)
        )
        assert problem_id is not None
        await audit_rejudge(
            db,
            problem_id,
            requested_by,
            f"rejudged submission {submission_id}",
            submission=submission_id,
        )
        await db.commit()
    await get_dispatcher(app).dispatch(judging.id)
    return judging


async def rejudge_problem(app: Quart, problem_id: int, requested_by: User | None) -> int:
    """Rejudge every submission of a problem; return how many were queued.

    Works in transactions of at most :data:`REJUDGE_CHUNK` submissions (a few bulk statements
    each) and dispatches each chunk's judgings after its commit.
    """
    async with get_db(app).session() as db:
        problem = await db.get(Problem, problem_id)
        ids = (
            (
                await db.execute(
                    select(Submission.id)
                    .where(Submission.problem_id == problem_id)
                    .order_by(Submission.id)
                )
            )
            .scalars()
            .all()
        )
    if problem is None:
        return 0
    dispatcher = get_dispatcher(app)
    count = 0
    for chunk in batched(ids, REJUDGE_CHUNK, strict=False):
        async with get_db(app).session() as db:
            new_judgings = await _add_judgings(db, problem, chunk, requested_by)
            await db.commit()
        for judging_id in new_judgings.values():
            await dispatcher.dispatch(judging_id)
        count += len(new_judgings)
    async with get_db(app).session() as db:
        summary = f"rejudged {count} submissions of {problem.slug}"
        await audit_rejudge(db, problem_id, requested_by, summary, count=count)
        await db.commit()
    return count


async def _add_judgings(
    db: AsyncSession,
    problem: Problem,
    submission_ids: Sequence[int],
    requested_by: User | None,
) -> dict[int, int]:
    """Add a queued judging to each submission and show it; return submission id → judging id."""
    now = utcnow()
    rows = [
        new_judging(submission_id, problem, requested_by, created_at=now)
        for submission_id in submission_ids
    ]
    # Each returned row names its submission, so the rows' order does not matter (and the
    # insert stays a few multi-row statements on every database).
    inserted = await db.execute(insert(Judging).returning(Judging.submission_id, Judging.id), rows)
    new_judgings = {submission_id: judging_id for submission_id, judging_id in inserted.all()}
    await db.execute(
        update(Submission),
        [
            {
                "id": submission_id,
                "judging_id": judging_id,
                "status": Status.QUEUED,
                "verdict": None,
                "score": None,
            }
            for submission_id, judging_id in new_judgings.items()
        ],
    )
    await _supersede_queued(db, new_judgings)
    return new_judgings


async def _supersede_queued(db: AsyncSession, new_judgings: dict[int, int]) -> None:
    """Finish the still-queued older judgings of these submissions as superseded (never run)."""
    waiting = (
        await db.execute(
            select(Judging.id, Judging.submission_id).where(
                Judging.submission_id.in_(new_judgings),
                Judging.status == Status.QUEUED,
                Judging.id.not_in(new_judgings.values()),
            )
        )
    ).all()
    await supersede(
        db, {judging_id: new_judgings[submission_id] for judging_id, submission_id in waiting}
    )


async def _add_judging(db: AsyncSession, submission_id: int, requested_by: User | None) -> Judging:
    row = (
        await db.execute(
            select(Submission, Problem)
            .join(Problem, Submission.problem_id == Problem.id)
            .where(Submission.id == submission_id)
        )
    ).one_or_none()
    if row is None:
        raise SubmissionRefused(
            404, "no_such_submission", f"there is no submission {submission_id}"
        )
    submission, problem = row[0], row[1]
    judging = Judging(**new_judging(submission.id, problem, requested_by))
    db.add(judging)
    await db.flush()
    submission.judging_id = judging.id
    submission.status = Status.QUEUED
    submission.verdict = None
    submission.score = None
    await db.flush()
    await _supersede_queued(db, {submission.id: judging.id})
    return judging
