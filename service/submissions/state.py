"""A submission's state as JSON-ready data: what the page, the poll and the API show."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from service.feedback.disclosure import Disclosure
from service.feedback.queries import disclosure_for
from service.judgings import result_json
from service.models import Judging, Status, Submission


async def submission_state(db: AsyncSession, submission_id: int) -> dict[str, Any] | None:
    """Return the submission with its current judging's results, or None if there is none.

    Every key of it, for staff; a student sees it through ``Disclosure.state`` only.
    """
    found = await _read(db, submission_id)
    return None if found is None else found[1]


async def _read(db: AsyncSession, submission_id: int) -> tuple[Submission, dict[str, Any]] | None:
    """Return the submission and its whole state, or None if there is none.

    Keys: id, problem (slug), problem_name, user {id, name, email}, language, status, verdict,
    score, created_at (ISO 8601), tests_total, tests_done, tests [{index, name, verdict,
    time_ms, memory_kb, message}], compile_output, message, message_parts (the message as
    stored parts, or None), judging_id, judgings (count), queue_ahead (while queued: how many
    submissions sent earlier are still queued or running, else 0).
    """
    # The judging count comes with the row in one statement: read apart, a judging committed
    # in between gave a state that was never true ("queued" with one judging).
    judgings_of = (
        select(func.count())
        .select_from(Judging)
        .where(Judging.submission_id == Submission.id)
        .scalar_subquery()
    )
    found = (
        await db.execute(
            select(Submission, judgings_of)
            .where(Submission.id == submission_id)
            .options(selectinload(Submission.problem), selectinload(Submission.user))
        )
    ).one_or_none()
    if found is None:
        return None
    submission, judgings = found
    judging: Judging | None = None
    if submission.judging_id is not None:
        judging = (
            await db.execute(
                select(Judging)
                .where(Judging.id == submission.judging_id)
                .options(selectinload(Judging.results))
            )
        ).scalar_one_or_none()
    # The same builder as the live ``test`` events: a snapshot and the events agree.
    tests = [result_json(result) for result in (judging.results if judging is not None else [])]
    ahead = 0
    if submission.status is Status.QUEUED:
        ahead = int(
            await db.scalar(
                select(func.count())
                .select_from(Submission)
                .where(
                    Submission.id < submission.id,
                    Submission.status.in_((Status.QUEUED, Status.RUNNING)),
                )
            )
            or 0
        )
    total = judging.total if judging is not None and judging.total else 0
    return submission, {
        "id": submission.id,
        "problem": submission.problem.slug,
        "problem_name": submission.problem.name,
        "user": {
            "id": submission.user.id,
            "name": submission.user.name,
            "email": submission.user.email,
        },
        "language": submission.language,
        "status": submission.status.value,
        "verdict": submission.verdict,
        "score": submission.score,
        "created_at": submission.created_at.isoformat(),
        "tests_total": total or submission.problem.test_count,
        "tests_done": len(tests),
        "tests": tests,
        "compile_output": judging.compile_output if judging is not None else "",
        "message": judging.message if judging is not None else "",
        "message_parts": judging.message_parts if judging is not None else [],
        "judging_id": submission.judging_id,
        "judgings": int(judgings or 0),
        "queue_ahead": ahead,
    }


async def viewed_state(
    db: AsyncSession, submission_id: int, *, staff: bool
) -> tuple[dict[str, Any], Disclosure] | None:
    """Return the submission's state as the viewer sees it and the disclosure that made it.

    The viewer is staff, or the submission's owner (whose count of submissions to the
    problem moves the policy's ``verdict_after`` switches). None: there is no submission.
    """
    found = await _read(db, submission_id)
    if found is None:
        return None
    submission, state = found
    disclosure = await disclosure_for(db, submission.problem, submission.user_id, staff=staff)
    return disclosure.state(state), disclosure


async def visible_state(
    db: AsyncSession, submission_id: int, *, staff: bool
) -> dict[str, Any] | None:
    """Return the submission's state as staff, or its owner, may see it (see ``viewed_state``)."""
    viewed = await viewed_state(db, submission_id, staff=staff)
    return None if viewed is None else viewed[0]
