"""The course queries: memberships, assignments with their problems, the grading inputs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from service.models import (
    Assignment,
    AssignmentProblem,
    AuditEntry,
    Course,
    CourseRole,
    Extension,
    GradeOverride,
    Member,
    Problem,
    Section,
    Status,
    Submission,
    User,
)


async def get_course(db: AsyncSession, course_id: int) -> Course | None:
    """Return the course with its sections, or None."""
    query = select(Course).where(Course.id == course_id).options(selectinload(Course.sections))
    return (await db.execute(query)).scalar_one_or_none()


async def membership(db: AsyncSession, course_id: int, user_id: int) -> Member | None:
    """Return the user's current (not removed) membership of the course, or None."""
    query = (
        select(Member)
        .where(
            Member.course_id == course_id,
            Member.user_id == user_id,
            Member.removed_at.is_(None),
        )
        .options(selectinload(Member.section))
        .order_by(Member.id)
        .limit(1)
    )
    return (await db.execute(query)).scalar_one_or_none()


async def courses_of(db: AsyncSession, user: User) -> Sequence[tuple[Course, Member | None]]:
    """Return the courses ``user`` belongs to (admins: every course), with the membership."""
    if user.is_admin:
        courses = (await db.execute(select(Course).order_by(Course.id))).scalars().all()
        mine = {
            m.course_id: m
            for m in (
                await db.execute(
                    select(Member).where(Member.user_id == user.id, Member.removed_at.is_(None))
                )
            ).scalars()
        }
        return [(course, mine.get(course.id)) for course in courses]
    query = (
        select(Course, Member)
        .join(Member, Member.course_id == Course.id)
        .where(Member.user_id == user.id, Member.removed_at.is_(None))
        .order_by(Course.id)
    )
    return [(course, member) for course, member in (await db.execute(query)).all()]


async def members_by_email(db: AsyncSession, course_id: int) -> dict[str, Member]:
    """Return every member of the course (removed ones too) by lower-case e-mail."""
    query = select(Member).where(Member.course_id == course_id)
    return {m.email: m for m in (await db.execute(query)).scalars()}


async def students(db: AsyncSession, course_id: int, section_id: int | None = None) -> list[Member]:
    """Return the course's current students (of one section when given), by e-mail."""
    query = (
        select(Member)
        .where(
            Member.course_id == course_id,
            Member.role == CourseRole.STUDENT,
            Member.removed_at.is_(None),
        )
        .options(selectinload(Member.section))
        .order_by(Member.email)
    )
    if section_id is not None:
        query = query.where(Member.section_id == section_id)
    return list((await db.execute(query)).scalars())


async def roster(db: AsyncSession, course_id: int) -> list[Member]:
    """Return the course's current members by role and e-mail, with their sections."""
    query = (
        select(Member)
        .where(Member.course_id == course_id, Member.removed_at.is_(None))
        .options(selectinload(Member.section))
        .order_by(Member.role, Member.email)
    )
    return list((await db.execute(query)).scalars())


async def users_by_email(db: AsyncSession, emails: Sequence[str]) -> dict[str, int]:
    """Return the oldest user id for each lower-case e-mail of ``emails`` that has signed in."""
    found: dict[str, int] = {}
    if not emails:
        return found
    query = (
        select(func.lower(User.email), User.id)
        .where(func.lower(User.email).in_(list(emails)))
        .order_by(User.id)
    )
    for email, user_id in (await db.execute(query)).all():
        found.setdefault(email, user_id)
    return found


async def problems_by_slug(db: AsyncSession, slugs: Sequence[str]) -> dict[str, Problem]:
    """Return the problems named by ``slugs`` that exist."""
    query = select(Problem).where(Problem.slug.in_(list(slugs)))
    return {p.slug: p for p in (await db.execute(query)).scalars()}


async def assignments_of(db: AsyncSession, course_id: int) -> list[Assignment]:
    """Return the course's assignments with their problems, by release time."""
    query = (
        select(Assignment)
        .where(Assignment.course_id == course_id)
        .options(selectinload(Assignment.problems).selectinload(AssignmentProblem.problem))
        .order_by(Assignment.release_at, Assignment.id)
    )
    return list((await db.execute(query)).scalars())


async def get_assignment(db: AsyncSession, assignment_id: int) -> Assignment | None:
    """Return the assignment with its problems, or None."""
    query = (
        select(Assignment)
        .where(Assignment.id == assignment_id)
        .options(selectinload(Assignment.problems).selectinload(AssignmentProblem.problem))
    )
    return (await db.execute(query)).scalar_one_or_none()


async def extensions_of(db: AsyncSession, assignment_ids: Sequence[int]) -> list[Extension]:
    """Return the extensions of the assignments, in grant order."""
    query = (
        select(Extension)
        .where(Extension.assignment_id.in_(list(assignment_ids)))
        .order_by(Extension.id)
    )
    return list((await db.execute(query)).scalars())


async def overrides_of(db: AsyncSession, assignment_ids: Sequence[int]) -> list[GradeOverride]:
    """Return the grade overrides of the assignments, oldest first (the newest wins)."""
    query = (
        select(GradeOverride)
        .where(GradeOverride.assignment_id.in_(list(assignment_ids)))
        .order_by(GradeOverride.id)
    )
    return list((await db.execute(query)).scalars())


async def submission_log(
    db: AsyncSession, user_ids: Sequence[int], problem_ids: Sequence[int]
) -> list[tuple[int, int, datetime, float | None]]:
    """Return (user, problem, time, score or None if not judged) of the users' submissions."""
    if not user_ids or not problem_ids:
        return []
    query = (
        select(
            Submission.user_id,
            Submission.problem_id,
            Submission.created_at,
            Submission.score,
            Submission.status,
        )
        .where(Submission.user_id.in_(list(user_ids)), Submission.problem_id.in_(list(problem_ids)))
        .order_by(Submission.created_at, Submission.id)
    )
    return [
        (user_id, problem_id, at, score if status is Status.DONE else None)
        for user_id, problem_id, at, score, status in (await db.execute(query)).all()
    ]


async def sections_by_name(db: AsyncSession, course_id: int) -> dict[str, Section]:
    """Return the course's sections by name."""
    query = select(Section).where(Section.course_id == course_id)
    return {s.name: s for s in (await db.execute(query)).scalars()}


async def audit_entries(db: AsyncSession, course_id: int, limit: int = 500) -> list[AuditEntry]:
    """Return the course's newest audit entries, newest first."""
    query = (
        select(AuditEntry)
        .where(AuditEntry.course_id == course_id)
        .options(selectinload(AuditEntry.actor))
        .order_by(AuditEntry.id.desc())
        .limit(limit)
    )
    return list((await db.execute(query)).scalars())


def unreleased_only(now: datetime) -> ColumnElement[bool]:
    """Return a condition true for problems every assignment of which is still unreleased."""
    released = (
        select(AssignmentProblem.problem_id)
        .join(Assignment, Assignment.id == AssignmentProblem.assignment_id)
        .where(Assignment.release_at <= now)
    )
    unreleased = (
        select(AssignmentProblem.problem_id)
        .join(Assignment, Assignment.id == AssignmentProblem.assignment_id)
        .where(Assignment.release_at > now)
    )
    return Problem.id.in_(unreleased) & Problem.id.not_in(released)


async def assignment_submissions(
    db: AsyncSession, user_ids: Sequence[int], problem_ids: Sequence[int], limit: int = 1_000
) -> list[Submission]:
    """Return the newest submissions of the users to the problems (user and problem loaded)."""
    if not user_ids or not problem_ids:
        return []
    query = (
        select(Submission)
        .where(Submission.user_id.in_(list(user_ids)), Submission.problem_id.in_(list(problem_ids)))
        .options(selectinload(Submission.user), selectinload(Submission.problem))
        .order_by(Submission.created_at.desc(), Submission.id.desc())
        .limit(limit)
    )
    return list((await db.execute(query)).scalars())


async def course_by_code(db: AsyncSession, code: str) -> Course | None:
    """Return the course whose join code is ``code``, or None."""
    if not code:
        return None
    query = select(Course).where(Course.join_code == code).options(selectinload(Course.sections))
    return (await db.execute(query)).scalar_one_or_none()


async def courses_with_problem(db: AsyncSession, problem_id: int) -> list[int]:
    """Return the ids of the courses with an assignment holding the problem."""
    query = (
        select(Assignment.course_id)
        .join(AssignmentProblem, AssignmentProblem.assignment_id == Assignment.id)
        .where(AssignmentProblem.problem_id == problem_id)
        .distinct()
        .order_by(Assignment.course_id)
    )
    return list((await db.execute(query)).scalars())
