"""Reading a problem's feedback policy and what a viewer's disclosure depends on."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.feedback.disclosure import Disclosure
from service.feedback.policy import FeedbackPolicy
from service.models import Judging, Problem, Submission, TestResult
from service.models.base import utcnow


def policy_of(problem: Problem) -> FeedbackPolicy:
    """Return the problem's policy (a stored policy was checked when it was set)."""
    return FeedbackPolicy.from_json(problem.feedback_policy)


async def set_policy(db: AsyncSession, problem: Problem, policy: FeedbackPolicy) -> None:
    """Store ``policy`` as the problem's (the caller commits)."""
    problem.feedback_policy = policy.to_json() if policy.groups else None
    await db.flush()


async def count_sent(db: AsyncSession, user_id: int, problem_id: int) -> int:
    """Return how many submissions ``user_id`` sent to ``problem_id``."""
    query = select(func.count()).where(
        Submission.user_id == user_id, Submission.problem_id == problem_id
    )
    return int(await db.scalar(query) or 0)


async def disclosure_for(
    db: AsyncSession, problem: Problem, owner_id: int, *, staff: bool
) -> Disclosure:
    """Return what a viewer sees of ``owner_id``'s submissions to ``problem``, now."""
    names = tuple(problem.test_names) if problem.test_names is not None else None
    if staff:
        return Disclosure(policy_of(problem), utcnow(), 0, staff=True, test_names=names)
    sent = await count_sent(db, owner_id, problem.id)
    return Disclosure(policy_of(problem), utcnow(), sent, test_names=names)


async def shown_outcomes(
    db: AsyncSession, submissions: Sequence[Submission], *, staff: bool
) -> dict[int, tuple[Any, Any]]:
    """Return submission id -> (verdict, score) as the viewer may see them in a list.

    The submissions' problems are loaded; each owner's count per problem is one query, each
    judging's test verdicts another.
    """
    if staff:
        return {s.id: (s.verdict, s.score) for s in submissions}
    pairs = {(s.user_id, s.problem_id) for s in submissions}
    counts: dict[tuple[int, int], int] = {}
    if pairs:
        rows = await db.execute(
            select(Submission.user_id, Submission.problem_id, func.count())
            .where(Submission.user_id.in_({user for user, _ in pairs}))
            .where(Submission.problem_id.in_({problem for _, problem in pairs}))
            .group_by(Submission.user_id, Submission.problem_id)
        )
        counts = {(user, problem): int(count) for user, problem, count in rows.all()}
    judging_ids = [s.judging_id for s in submissions if s.judging_id is not None]
    results: dict[int, list[tuple[str, str]]] = {}
    if judging_ids:
        verdicts = await db.execute(
            select(TestResult.judging_id, TestResult.name, TestResult.verdict)
            .join(Judging, Judging.id == TestResult.judging_id)
            .where(TestResult.judging_id.in_(judging_ids))
            .order_by(TestResult.judging_id, TestResult.index)
        )
        for judging_id, name, verdict in verdicts.all():
            results.setdefault(judging_id, []).append((name, verdict))
    now = utcnow()
    shown: dict[int, tuple[Any, Any]] = {}
    for submission in submissions:
        problem = submission.problem
        names = tuple(problem.test_names) if problem.test_names is not None else None
        sent = counts.get((submission.user_id, submission.problem_id), 0)
        disclosure = Disclosure(policy_of(problem), now, sent, test_names=names)
        tests = results.get(submission.judging_id or 0, [])
        shown[submission.id] = disclosure.outcome(submission.verdict, submission.score, tests)
    return shown
