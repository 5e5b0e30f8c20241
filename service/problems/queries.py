"""Which problems a person may see: hidden ones only for staff.

A problem whose every assignment is still unreleased is hidden from everyone but staff too,
so a course's next assignment is not read (or solved) before its release time.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from service.courses.queries import unreleased_only
from service.models import Problem, User
from service.models.base import utcnow


def shown_to_students() -> tuple[ColumnElement[bool], ...]:
    """Return the conditions of a problem students may see: not hidden, not unreleased."""
    return (Problem.hidden.is_(False), ~unreleased_only(utcnow()))


def may_see_hidden(user: User | None) -> bool:
    """Return whether ``user`` sees hidden problems (staff and admins)."""
    return user is not None and user.is_staff


async def get_visible_problem(db: AsyncSession, slug: str, user: User | None) -> Problem | None:
    """Return the problem ``slug`` if ``user`` may see it, else None."""
    query = select(Problem).where(Problem.slug == slug)
    if not may_see_hidden(user):
        query = query.where(*shown_to_students())
    return (await db.execute(query)).scalar_one_or_none()


def _listed(query: Select[Problem]) -> Select[Problem]:
    """Return ``query`` in list order, without the statements (up to a MiB each)."""
    return query.options(defer(Problem.statement_html, raiseload=True)).order_by(
        Problem.problem_set, Problem.name, Problem.slug
    )


async def list_visible_problems(
    db: AsyncSession, user: User | None, *, limit: int | None = None, offset: int = 0
) -> Sequence[Problem]:
    """Return the problems ``user`` may see, by problem set and name (statements not loaded).

    ``limit`` and ``offset`` select one page in SQL; the default is every problem.
    """
    query = _listed(select(Problem))
    if not may_see_hidden(user):
        query = query.where(*shown_to_students())
    if limit is not None:
        query = query.limit(limit)
    if offset:
        query = query.offset(offset)
    return (await db.execute(query)).scalars().all()


async def count_visible_problems(db: AsyncSession, user: User | None) -> int:
    """Return how many problems ``user`` may see."""
    query = select(func.count()).select_from(Problem)
    if not may_see_hidden(user):
        query = query.where(*shown_to_students())
    return int(await db.scalar(query) or 0)


async def list_all_problems(db: AsyncSession) -> Sequence[Problem]:
    """Return every problem, hidden ones included, by problem set and name (no statements)."""
    return (await db.execute(_listed(select(Problem)))).scalars().all()


async def set_hidden(db: AsyncSession, slug: str, hidden: bool) -> Problem | None:
    """Hide or show the problem ``slug`` (caller commits); None when there is no such problem."""
    problem = (await db.execute(select(Problem).where(Problem.slug == slug))).scalar_one_or_none()
    if problem is not None:
        problem.hidden = hidden
    return problem
