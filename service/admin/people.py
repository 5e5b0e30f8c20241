"""The people list for staff: search, submission counts and pages, in two queries."""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import Submission, User

PAGE_SIZE = 50


@dataclass(frozen=True)
class PersonLine:
    """One user as the people page shows them."""

    user: User
    submissions: int


@dataclass(frozen=True)
class PeoplePage:
    """One page of the people list and where it sits among all pages."""

    people: tuple[PersonLine, ...]
    page: int
    pages: int
    total: int
    search: str


def like_pattern(text: str) -> str:
    """Return a LIKE pattern matching ``text`` anywhere, its wildcards taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


async def list_people(
    db: AsyncSession, search: str = "", page: int = 1, page_size: int = PAGE_SIZE
) -> PeoplePage:
    """Return page ``page`` of the users whose e-mail or name contains ``search``."""
    search = search.strip()
    condition = None
    if search:
        pattern = like_pattern(search)
        condition = or_(
            func.lower(User.email).like(pattern, escape="\\"),
            func.lower(User.name).like(pattern, escape="\\"),
        )
    count_query = select(func.count(User.id))
    if condition is not None:
        count_query = count_query.where(condition)
    total = (await db.execute(count_query)).scalar_one()
    pages = max(1, math.ceil(total / page_size))
    page = min(max(1, page), pages)

    submissions = (
        select(Submission.user_id, func.count(Submission.id).label("count"))
        .group_by(Submission.user_id)
        .subquery("submission_counts")
    )
    query = (
        select(User, func.coalesce(submissions.c.count, 0))
        .outerjoin(submissions, submissions.c.user_id == User.id)
        .order_by(func.lower(User.email), User.id)
        .limit(page_size)
        .offset((page - 1) * page_size)
    )
    if condition is not None:
        query = query.where(condition)
    people = tuple(
        PersonLine(user=user, submissions=count) for user, count in (await db.execute(query)).all()
    )
    return PeoplePage(people=people, page=page, pages=pages, total=total, search=search)
