"""Submit, rejudge: the pipeline's entry points, shared by the web pages, the API and the CLI.

``submit`` validates (nothing is stored on a refusal), stores the submission, its files and
its first judging as ``queued`` in one transaction, commits, and only then dispatches the
judging. A rejudge adds a new judging on the problem's current package and keeps the old ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import NamedTuple

from quart import Quart
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.config import Settings
from service.db import get_db
from service.jobs import get_dispatcher
from service.models import Judging, Problem, Status, Submission, SubmissionFile, User
from service.models.base import utcnow
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


class SubmissionItem(NamedTuple):
    """One submission of a batch: problem slug, language id and (name, content) files."""

    slug: str
    language: str
    files: Sequence[tuple[str, bytes]]


def _settings(app: Quart) -> Settings:
    from service.app import get_settings  # the factory imports this module's package

    return get_settings(app)


async def find_problem(db: AsyncSession, slug: str, user: User) -> Problem:
    """Return the problem ``slug`` if ``user`` may submit to it; refuse with 404 otherwise."""
    problem = (await db.execute(select(Problem).where(Problem.slug == slug))).scalar_one_or_none()
    if problem is None or (problem.hidden and not user.is_staff):
        raise SubmissionRefused(404, "no_such_problem", f"there is no problem {slug!r}")
    return problem


async def check_rate_limit(app: Quart, db: AsyncSession, user: User) -> None:
    """Refuse (429 with retry_after) when ``user`` already sent the limit's count in its window."""
    limit = _settings(app).submission_rate_limit
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


async def submit(
    app: Quart, user: User, slug: str, language: str, files: Sequence[tuple[str, bytes]]
) -> Submission:
    """Validate, store as queued, commit, then dispatch; raise SubmissionRefused on refusal."""
    settings = _settings(app)
    sources = check_sources(language, files, max_bytes=settings.max_source_bytes)
    async with get_db(app).session() as db:
        problem = await find_problem(db, slug, user)
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
    judging = Judging(
        submission_id=submission.id,
        package_hash=problem.package_hash,
        status=Status.QUEUED,
        total=problem.test_count,
        created_at=utcnow(),
    )
    db.add(judging)
    await db.flush()
    submission.judging_id = judging.id
    return submission


async def rejudge(app: Quart, submission_id: int, requested_by: User | None) -> Judging:
    """Add a queued judging on the problem's current package and make it the shown one.

    An unknown submission is refused with 404 ``no_such_submission``.
    """
    async with get_db(app).session() as db:
        judging = await _add_judging(db, submission_id, requested_by)
        await db.commit()
    await get_dispatcher(app).dispatch(judging.id)
    return judging


async def rejudge_problem(app: Quart, problem_id: int, requested_by: User | None) -> int:
    """Rejudge every submission of a problem; return how many were queued."""
    async with get_db(app).session() as db:
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
        judgings = [await _add_judging(db, submission_id, requested_by) for submission_id in ids]
        await db.commit()
    dispatcher = get_dispatcher(app)
    for judging in judgings:
        await dispatcher.dispatch(judging.id)
    return len(judgings)


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
    judging = Judging(
        submission_id=submission.id,
        package_hash=problem.package_hash,
        status=Status.QUEUED,
        total=problem.test_count,
        requested_by_id=requested_by.id if requested_by is not None else None,
        created_at=utcnow(),
    )
    db.add(judging)
    await db.flush()
    submission.judging_id = judging.id
    submission.status = Status.QUEUED
    submission.verdict = None
    submission.score = None
    return judging
