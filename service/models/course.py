"""Courses: members with course roles, sections, assignments, extensions, overrides, audit log.

Grades are never stored: ``service.courses.grading`` computes them from the submission log and
these rows every time. Only a staff member's override (with its reason) is a stored grade.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.models.base import Base, UTCDateTime, utcnow
from service.models.problem import Problem
from service.models.user import User


class CourseRole(enum.StrEnum):
    """What a member does in one course: teaches it, assists in sections, or takes it."""

    TEACHER = "teacher"
    TA = "ta"
    STUDENT = "student"


class Course(Base):
    """A course: a name, a term and the IANA timezone its deadlines are read in."""

    __tablename__ = "courses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    term: Mapped[str] = mapped_column(String(100), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    # Late-day tokens each student may spend (0: none); see service.courses.grading.
    late_days: Mapped[int] = mapped_column(Integer, default=0)
    # Whether TAs may grant extensions to the students of their sections.
    ta_may_extend: Mapped[bool] = mapped_column(Boolean, default=False)
    # A code anyone signed in may join with (None: joining by code is off), and whether
    # people of ALLOWED_DOMAINS may enrol themselves.
    join_code: Mapped[str | None] = mapped_column(String(32), unique=True, nullable=True)
    self_enrol: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    sections: Mapped[list[Section]] = relationship(
        back_populates="course", cascade="all, delete-orphan", order_by="Section.name"
    )


class Section(Base):
    """A group of a course's students (a lab group, a class period)."""

    __tablename__ = "course_sections"
    __table_args__ = (UniqueConstraint("course_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))

    course: Mapped[Course] = relationship(back_populates="sections")


class Member(Base):
    """Someone on a course's roster; ``user_id`` is empty until they first sign in.

    A pending member is matched by e-mail at their first sign-in, then stays tied to the user
    (keyed by subject) even if the address changes. A removed member keeps their row (and
    their submissions) with ``removed_at`` set.
    """

    __tablename__ = "course_members"
    __table_args__ = (
        UniqueConstraint("course_id", "email"),
        Index("ix_course_members_user_course", "user_id", "course_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    email: Mapped[str] = mapped_column(String(320))  # lower case
    name: Mapped[str] = mapped_column(String(255), default="")
    role: Mapped[CourseRole] = mapped_column(
        Enum(
            CourseRole,
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=CourseRole.STUDENT,
    )
    section_id: Mapped[int | None] = mapped_column(
        ForeignKey("course_sections.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    user: Mapped[User | None] = relationship()
    section: Mapped[Section | None] = relationship()


class Assignment(Base):
    """Problems due together: released at ``release_at``, full credit until ``due_at``.

    ``late`` is the credit timeline after the due time, a list of ``{"until": ISO time,
    "credit": 0..1}`` steps, ``until`` rising and ``credit`` never rising; after the last step
    a submission gets no credit. ``max_submissions`` caps the submissions per problem that
    count (None: no cap).
    """

    __tablename__ = "assignments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    release_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    late: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    max_submissions: Mapped[int | None] = mapped_column(Integer, nullable=True)
    weight: Mapped[float] = mapped_column(Float, default=1.0)  # in the course grade
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    problems: Mapped[list[AssignmentProblem]] = relationship(
        back_populates="assignment",
        cascade="all, delete-orphan",
        order_by="AssignmentProblem.position",
    )


class AssignmentProblem(Base):
    """One problem of an assignment, with its weight in the assignment's grade."""

    __tablename__ = "assignment_problems"
    __table_args__ = (UniqueConstraint("assignment_id", "problem_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"))
    problem_id: Mapped[int] = mapped_column(
        ForeignKey("problems.id", ondelete="CASCADE"), index=True
    )
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    position: Mapped[int] = mapped_column(Integer, default=0)

    assignment: Mapped[Assignment] = relationship(back_populates="problems")
    problem: Mapped[Problem] = relationship()


class Extension(Base):
    """A later due time for one student or one section; the late timeline shifts with it."""

    __tablename__ = "extensions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assignment_id: Mapped[int] = mapped_column(
        ForeignKey("assignments.id", ondelete="CASCADE"), index=True
    )
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("course_members.id", ondelete="CASCADE"), nullable=True
    )
    section_id: Mapped[int | None] = mapped_column(
        ForeignKey("course_sections.id", ondelete="CASCADE"), nullable=True
    )
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(Text, default="")
    granted_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class GradeOverride(Base):
    """A grade set by hand for one student's assignment (the newest one counts)."""

    __tablename__ = "grade_overrides"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assignment_id: Mapped[int] = mapped_column(
        ForeignKey("assignments.id", ondelete="CASCADE"), index=True
    )
    member_id: Mapped[int] = mapped_column(ForeignKey("course_members.id", ondelete="CASCADE"))
    credit: Mapped[float] = mapped_column(Float)  # 0..1 of the assignment
    reason: Mapped[str] = mapped_column(Text)
    set_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AuditEntry(Base):
    """One staff action in a course: who did what, when, with the details."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_course_created", "course_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_id: Mapped[int | None] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), nullable=True
    )
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    action: Mapped[str] = mapped_column(String(64))
    summary: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    actor: Mapped[User | None] = relationship()
