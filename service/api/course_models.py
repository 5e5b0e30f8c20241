"""Pydantic models of the course API: courses, rosters, assignments, extensions, grades.

Times are ISO 8601 strings with an offset; they are parsed by ``service.courses.rules`` so a
time without an offset is refused with a message saying so, not silently read as UTC.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, RootModel

from service.courses.grading import AssignmentGrade
from service.courses.service import RosterChanges, StudentGrades
from service.models import Assignment, AuditEntry, Course, Member

NAME = Field(max_length=200)
TIME = Field(max_length=64, description="ISO 8601 with an offset, e.g. 2026-10-24T23:59:00+02:00")


class CourseIn(BaseModel):
    """A new course."""

    model_config = ConfigDict(extra="forbid")

    name: str = NAME
    term: str = Field("", max_length=100)
    timezone: str = Field("UTC", max_length=64, description="IANA name, e.g. Europe/Berlin.")
    late_days: int = Field(0, ge=0, le=100, description="Late-day tokens per student.")
    ta_may_extend: bool = Field(False, description="Whether TAs may grant extensions.")


class CourseChangeIn(BaseModel):
    """Course settings to change; fields left out stay as they are."""

    model_config = ConfigDict(extra="forbid")

    late_days: int | None = Field(None, ge=0, le=100)
    ta_may_extend: bool | None = None
    self_enrol: bool | None = Field(
        None, description="Whether people of ALLOWED_DOMAINS may enrol themselves."
    )


class JoinIn(BaseModel):
    """A course's join code."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(max_length=32)


class CourseOut(BaseModel):
    """A course, and your role in it (null: an admin who is not a member)."""

    id: int
    name: str
    term: str
    timezone: str
    late_days: int
    ta_may_extend: bool
    self_enrol: bool
    role: str | None
    join_code: str | None = Field(description="Shown to the course's staff only.")

    @classmethod
    def of(cls, course: Course, member: Member | None, *, staff: bool) -> CourseOut:
        """Describe ``course`` for someone with ``member``'s role."""
        return cls(
            id=course.id,
            name=course.name,
            term=course.term,
            timezone=course.timezone,
            late_days=course.late_days,
            ta_may_extend=course.ta_may_extend,
            self_enrol=course.self_enrol,
            role=None if member is None else member.role.value,
            join_code=course.join_code if staff else None,
        )


class CourseList(BaseModel):
    """Your courses."""

    items: list[CourseOut]


class RosterQuery(BaseModel):
    """Whether to only preview a roster import."""

    preview: bool = Field(False, description="true: report what would change, change nothing.")


class DuplicateOut(BaseModel):
    """A roster line left out because its e-mail came earlier in the file."""

    line: int
    email: str


class RosterOut(BaseModel):
    """What a roster import changed (or would change, as a preview)."""

    applied: bool
    added: list[str]
    updated: list[str]
    unchanged: list[str]
    duplicates: list[DuplicateOut]
    sections_created: list[str]

    @classmethod
    def of(cls, changes: RosterChanges, *, applied: bool) -> RosterOut:
        """Describe ``changes``."""
        return cls(
            applied=applied,
            added=changes.added,
            updated=changes.updated,
            unchanged=changes.unchanged,
            duplicates=[DuplicateOut(line=n, email=e) for n, e in changes.duplicates],
            sections_created=changes.sections_created,
        )


class MemberOut(BaseModel):
    """Someone on the roster; ``pending`` until they first sign in."""

    email: str
    name: str
    role: str
    section: str | None
    pending: bool


class MemberList(BaseModel):
    """A course's roster."""

    items: list[MemberOut]


class LateStepIn(BaseModel):
    """A step of the late timeline."""

    model_config = ConfigDict(extra="forbid")

    until: str = TIME
    credit: float = Field(description="0 to 1; never more than the step before.")


class ProblemWeightIn(BaseModel):
    """A problem with its weight in the assignment."""

    model_config = ConfigDict(extra="forbid")

    slug: str = Field(max_length=64)
    weight: float = 1.0


class AssignmentIn(BaseModel):
    """A new assignment: problems by slug (or with weights), release, due and late steps."""

    model_config = ConfigDict(extra="forbid")

    name: str = NAME
    problems: list[str | ProblemWeightIn] = Field(max_length=100)
    release_at: str = TIME
    due_at: str | None = Field(
        None, max_length=64, description="ISO 8601 with an offset; null: no due time."
    )
    late: list[LateStepIn] = Field(default_factory=list, max_length=20)
    max_submissions: int | None = Field(None, ge=1, le=10_000)
    weight: float = Field(1.0, ge=0, le=1_000, description="Weight in the course grade.")


class TimelineIn(BaseModel):
    """A moved timeline: any of release, due time and late steps; the rest stays."""

    model_config = ConfigDict(extra="forbid")

    release_at: str | None = Field(None, max_length=64)
    due_at: str | None = Field(None, max_length=64)
    no_due_time: bool = Field(False, description="true: remove the due time and late steps.")
    late: list[LateStepIn] | None = Field(None, max_length=20)


class LateStepOut(BaseModel):
    """A step of the late timeline."""

    until: datetime
    credit: float


class AssignmentProblemOut(BaseModel):
    """A problem of an assignment."""

    slug: str
    name: str
    weight: float


class AssignmentOut(BaseModel):
    """An assignment."""

    id: int
    course: int
    name: str
    problems: list[AssignmentProblemOut]
    release_at: datetime
    due_at: datetime | None
    late: list[LateStepOut]
    max_submissions: int | None
    weight: float

    @classmethod
    def of(cls, assignment: Assignment) -> AssignmentOut:
        """Describe ``assignment`` (its problems loaded)."""
        return cls(
            id=assignment.id,
            course=assignment.course_id,
            name=assignment.name,
            problems=[
                AssignmentProblemOut(
                    slug=link.problem.slug, name=link.problem.name, weight=link.weight
                )
                for link in assignment.problems
            ],
            release_at=assignment.release_at,
            due_at=assignment.due_at,
            late=[
                LateStepOut(until=datetime.fromisoformat(step["until"]), credit=step["credit"])
                for step in assignment.late
            ],
            max_submissions=assignment.max_submissions,
            weight=assignment.weight,
        )


class AssignmentList(BaseModel):
    """A course's assignments (students: the released ones)."""

    items: list[AssignmentOut]


class ExtensionIn(BaseModel):
    """An extension for many students (by e-mail) and/or whole sections at once."""

    model_config = ConfigDict(extra="forbid")

    students: list[str] = Field(default_factory=list, max_length=2_000)
    sections: list[str] = Field(default_factory=list, max_length=100)
    due_at: str = TIME
    reason: str = Field(max_length=1_000)


class ExtensionOut(BaseModel):
    """What an extension request granted."""

    granted: int
    due_at: datetime


class OverrideIn(BaseModel):
    """A grade set by hand for one student."""

    model_config = ConfigDict(extra="forbid")

    email: str = Field(max_length=320)
    credit: float = Field(description="0 to 1 of the assignment.")
    reason: str = Field(max_length=1_000)


class OverrideOut(BaseModel):
    """A stored override."""

    id: int
    credit: float


class GradeOut(BaseModel):
    """One student's grade on an assignment, computed from the log and the policy now."""

    email: str
    name: str
    section: str | None
    score: float = Field(description="Points earned (the problems' weights are the points).")
    points_possible: float
    credit: float = Field(description="The grade as a share 0-1 of the points possible.")
    late_days_used: int
    late: bool
    extended: bool
    overridden: bool
    due_at: datetime | None = Field(description="The student's effective due time.")
    explanation: str

    @classmethod
    def of(cls, row: StudentGrades, grade: AssignmentGrade) -> GradeOut:
        """Describe one student's grade."""
        member = row.member
        return cls(
            email=member.email,
            name=member.name,
            section=None if member.section is None else member.section.name,
            score=grade.points,
            points_possible=grade.possible,
            credit=grade.credit,
            late_days_used=grade.late_days_used,
            late=grade.late,
            extended=grade.extended,
            overridden=grade.override is not None,
            due_at=grade.timeline.due_at,
            explanation=grade.explanation,
        )


class GradeList(RootModel[list[GradeOut]]):
    """Every visible student's grade on one assignment."""


class AuditOut(BaseModel):
    """One staff action."""

    id: int
    at: datetime
    actor: str | None
    action: str
    summary: str

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditOut:
        """Describe ``entry`` (its actor loaded)."""
        return cls(
            id=entry.id,
            at=entry.created_at,
            actor=None if entry.actor is None else entry.actor.email,
            action=entry.action,
            summary=entry.summary,
        )


class AuditList(BaseModel):
    """A course's audit log, newest first."""

    items: list[AuditOut]
