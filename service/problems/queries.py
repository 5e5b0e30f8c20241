"""Which problems a person may see: hidden ones only for staff."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import Problem, User


def may_see_hidden(user: User | None) -> bool:
    """Return whether ``user`` sees hidden problems (staff and admins)."""
    return user is not None and user.is_staff


async def get_visible_problem(db: AsyncSession, slug: str, user: User | None) -> Problem | None:
    """Return the problem ``slug`` if ``user`` may see it, else None."""
    query = select(Problem).where(Problem.slug == slug)
    if not may_see_hidden(user):
        query = query.where(Problem.hidden.is_(False))
    return (await db.execute(query)).scalar_one_or_none()


async def list_visible_problems(db: AsyncSession, user: User | None) -> Sequence[Problem]:
    """Return the problems ``user`` may see, by problem set and name."""
    query = select(Problem).order_by(Problem.problem_set, Problem.name, Problem.slug)
    if not may_see_hidden(user):
        query = query.where(Problem.hidden.is_(False))
    return (await db.execute(query)).scalars().all()


async def list_all_problems(db: AsyncSession) -> Sequence[Problem]:
    """Return every problem, hidden ones included, by problem set and name."""
    query = select(Problem).order_by(Problem.problem_set, Problem.name, Problem.slug)
    return (await db.execute(query)).scalars().all()


async def set_hidden(db: AsyncSession, slug: str, hidden: bool) -> Problem | None:
    """Hide or show the problem ``slug`` (caller commits); None when there is no such problem."""
    problem = (await db.execute(select(Problem).where(Problem.slug == slug))).scalar_one_or_none()
    if problem is not None:
        problem.hidden = hidden
    return problem
