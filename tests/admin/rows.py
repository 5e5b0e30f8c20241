"""Insert problems and submissions directly, so scoreboard tests control every number."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from quart import Quart

from service.db import get_db
from service.models import Problem, Status, Submission, User

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def minutes(count: float) -> datetime:
    """Return the moment ``count`` minutes after START."""
    return START + timedelta(minutes=count)


async def add_problem(
    app: Quart, slug: str, problem_set: str = "week1", *, hidden: bool = False
) -> Problem:
    """Store a problem row (no package behind it) and return it."""
    problem = Problem(
        slug=slug,
        name=f"Problem {slug}",
        problem_set=problem_set,
        hidden=hidden,
        package_hash="0" * 64,
        time_limit=1.0,
        memory_mb=256,
        output_mb=8,
        test_count=4,
        sample_count=1,
    )
    async with get_db(app).session() as db:
        db.add(problem)
        await db.commit()
    return problem


async def add_submission(
    app: Quart,
    user: User,
    problem: Problem,
    at: datetime,
    verdict: str | None = None,
    score: float | None = None,
    *,
    status: Status = Status.DONE,
) -> Submission:
    """Store a submission with the given outcome (queued ones have no verdict)."""
    submission = Submission(
        user_id=user.id,
        problem_id=problem.id,
        language="python3",
        created_at=at,
        status=status,
        verdict=verdict,
        score=score,
        source_bytes=10,
    )
    async with get_db(app).session() as db:
        db.add(submission)
        await db.commit()
    return submission
