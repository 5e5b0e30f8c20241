"""Course operations: who may do what in a course, and the changes staff make, audited.

Exceptions (the API turns each into its status; pages into a friendly page)::

    CourseRefused                      status, code, message
    ├── CourseNotFound     404         no such course or assignment, or not yours to see
    ├── CourseForbidden    403         a member whose course role does not allow it
    └── CourseInvalid      422         input to fix (the message says what)

Every change is checked in full before anything is written, so a refused request changes
nothing; every staff change adds an audit entry in the same transaction.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from werkzeug.exceptions import HTTPException

from service.courses import grading, queries
from service.courses.rules import (
    MAX_ASSIGNMENT_PROBLEMS,
    MAX_EXTENSION_STUDENTS,
    CourseInputError,
    LateStep,
    Roster,
    check_email,
    check_timeline,
    check_timezone,
    parse_time,
)
from service.models import (
    Assignment,
    AssignmentProblem,
    AuditEntry,
    Course,
    CourseRole,
    Extension,
    GradeOverride,
    Member,
    Section,
    User,
)
from service.models.base import utcnow


class CourseRefused(HTTPException):
    """A refused course request: HTTP ``status``, a stable ``code`` and a ``message``.

    It is an HTTPException so a page shows it as a friendly error page with the message.
    """

    status = 400
    error_code = "refused"

    def __init__(self, message: str) -> None:
        super().__init__(description=message)
        self.code = self.status
        self.message = message


class CourseNotFound(CourseRefused):
    """Nothing to see: no such course or assignment, or the person is not in its course."""

    status = 404
    error_code = "not_found"


class CourseForbidden(CourseRefused):
    """A member whose course role does not allow this."""

    status = 403
    error_code = "forbidden"


class CourseInvalid(CourseRefused):
    """Input to fix."""

    status = 422
    error_code = "invalid_input"


@dataclass(frozen=True)
class Access:
    """What one person may do in one course."""

    course: Course
    user: User
    member: Member | None

    @property
    def role(self) -> CourseRole | None:
        """Return the person's course role (None: an admin who is not a member)."""
        return None if self.member is None else self.member.role

    @property
    def teaches(self) -> bool:
        """Return whether the person manages the course (its teachers, and admins)."""
        return self.user.is_admin or self.role is CourseRole.TEACHER

    @property
    def staff(self) -> bool:
        """Return whether the person sees other students' work (teachers, TAs, admins)."""
        return self.teaches or self.role is CourseRole.TA

    @property
    def section_id(self) -> int | None:
        """Return the only section whose students a TA sees (None: every section)."""
        if self.teaches or self.member is None or self.role is not CourseRole.TA:
            return None
        return self.member.section_id

    def require_teacher(self) -> None:
        """Refuse anyone who does not manage the course."""
        if not self.teaches:
            raise CourseForbidden("Only the course's teachers can do this.")

    def require_staff(self) -> None:
        """Refuse students."""
        if not self.staff:
            raise CourseForbidden("Only the course's teachers and TAs can do this.")


async def course_access(db: AsyncSession, course_id: int, user: User) -> Access:
    """Return ``user``'s access to the course, or raise CourseNotFound."""
    course = await queries.get_course(db, course_id)
    if course is None:
        raise CourseNotFound(f"There is no course {course_id}.")
    member = await queries.membership(db, course_id, user.id)
    if member is None and not user.is_admin:
        raise CourseNotFound(f"There is no course {course_id}.")
    return Access(course, user, member)


async def assignment_access(
    db: AsyncSession, assignment_id: int, user: User, now: datetime
) -> tuple[Assignment, Access]:
    """Return the assignment and ``user``'s access to its course (unreleased: staff only)."""
    assignment = await queries.get_assignment(db, assignment_id)
    missing = CourseNotFound(f"There is no assignment {assignment_id}.")
    if assignment is None:
        raise missing
    try:
        access = await course_access(db, assignment.course_id, user)
    except CourseNotFound:
        raise missing from None
    if not access.staff and assignment.release_at > now:
        raise missing
    return assignment, access


def audit(
    db: AsyncSession,
    course_id: int,
    actor: User,
    action: str,
    summary: str,
    **details: Any,
) -> None:
    """Add an audit entry to the session (written with the change it describes)."""
    db.add(
        AuditEntry(
            course_id=course_id,
            actor_id=actor.id,
            action=action,
            summary=summary,
            details=details,
            created_at=utcnow(),
        )
    )


async def audit_rejudge(
    db: AsyncSession, problem_id: int, actor: User | None, summary: str, **details: Any
) -> None:
    """Note a rejudge in the audit log of every course with an assignment of the problem."""
    if actor is None:  # a rejudge the system itself started
        return
    for course_id in await queries.courses_with_problem(db, problem_id):
        audit(db, course_id, actor, "rejudge", summary, problem=problem_id, **details)


def invalid(error: CourseInputError) -> CourseInvalid:
    """Return the refusal of a rule's error."""
    return CourseInvalid(str(error))


# -- courses ------------------------------------------------------------------------------


async def create_course(
    db: AsyncSession, creator: User, name: str, term: str, timezone: str
) -> Course:
    """Create a course taught by ``creator`` (global staff and admins may)."""
    if not creator.is_staff:
        raise CourseForbidden("Only staff can create courses; ask an administrator.")
    if not name.strip():
        raise CourseInvalid("name: give the course a name")
    try:
        zone = check_timezone(timezone)
    except CourseInputError as error:
        raise invalid(error) from None
    course = Course(
        name=name.strip(),
        term=term.strip(),
        timezone=zone,
        created_by_id=creator.id,
        join_code=secrets.token_urlsafe(6),
        created_at=utcnow(),
    )
    db.add(course)
    await db.flush()
    db.add(
        Member(
            course_id=course.id,
            user_id=creator.id,
            email=creator.email.strip().lower(),
            name=creator.name,
            role=CourseRole.TEACHER,
            created_at=utcnow(),
        )
    )
    audit(db, course.id, creator, "course.create", f"created the course {course.name!r}")
    await db.flush()
    return course


# -- rosters ------------------------------------------------------------------------------


@dataclass
class RosterChanges:
    """What a roster import changes (or, as a preview, would change)."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    duplicates: list[tuple[int, str]] = field(default_factory=list)
    sections_created: list[str] = field(default_factory=list)


async def import_roster(
    db: AsyncSession, access: Access, roster: Roster, *, apply: bool
) -> RosterChanges:
    """Compare ``roster`` with the course's members; with ``apply``, make the changes.

    People already on the roster get the file's name, section and role; new people are
    added, tied to their account if they signed in before, pending otherwise. Nobody is
    removed by an import.
    """
    access.require_teacher()
    course = access.course
    existing = await queries.members_by_email(db, course.id)
    sections = await queries.sections_by_name(db, course.id)
    changes = RosterChanges(duplicates=list(roster.duplicates))
    wanted_sections = sorted({row.section for row in roster.rows if row.section} - set(sections))
    changes.sections_created = wanted_sections
    if apply:
        for name in wanted_sections:
            created = Section(course_id=course.id, name=name)
            db.add(created)
            sections[name] = created
        await db.flush()
    accounts = await queries.users_by_email(
        db, [row.email for row in roster.rows if row.email not in existing]
    )
    for row in roster.rows:
        section = sections.get(row.section) if row.section else None
        role = CourseRole(row.role)
        member = existing.get(row.email)
        if member is not None and member.user_id == access.user.id:
            role = member.role  # a roster never changes its importer's own role
        if member is None:
            changes.added.append(row.email)
            if apply:
                db.add(
                    Member(
                        course_id=course.id,
                        user_id=accounts.get(row.email),
                        email=row.email,
                        name=row.name,
                        role=role,
                        section_id=None if section is None else section.id,
                        created_at=utcnow(),
                    )
                )
            continue
        new_name = row.name or member.name
        moves = bool(row.section) and (section is None or section.id != member.section_id)
        if (
            new_name == member.name
            and member.role is role
            and member.removed_at is None
            and not moves
        ):
            changes.unchanged.append(row.email)
            continue
        changes.updated.append(row.email)
        if apply:
            member.name, member.role, member.removed_at = new_name, role, None
            if section is not None:
                member.section_id = section.id
    if apply:
        audit(
            db,
            course.id,
            access.user,
            "roster.import",
            f"imported a roster: {len(changes.added)} added, {len(changes.updated)} updated",
            added=changes.added,
            updated=changes.updated,
            sections_created=changes.sections_created,
        )
        await db.flush()
    return changes


async def claim_memberships(db: AsyncSession, user: User) -> int:
    """Tie the pending memberships with ``user``'s e-mail to ``user`` (at sign-in)."""
    result = await db.execute(
        update(Member)
        .where(Member.user_id.is_(None), Member.email == user.email.strip().lower())
        .values(user_id=user.id)
    )
    return int(getattr(result, "rowcount", 0) or 0)


# -- assignments --------------------------------------------------------------------------


@dataclass(frozen=True)
class AssignmentInput:
    """An assignment as sent, times already parsed."""

    name: str
    problems: Sequence[tuple[str, float]]  # (slug, weight)
    release_at: datetime
    due_at: datetime | None
    late: Sequence[LateStep]
    max_submissions: int | None = None
    weight: float = 1.0


def late_steps(items: Sequence[tuple[str, float]]) -> list[LateStep]:
    """Return the late steps of ``(until ISO text, credit)`` pairs, checking each time."""
    try:
        return [
            LateStep(parse_time(until, f"late step {n}: until"), credit)
            for n, (until, credit) in enumerate(items, start=1)
        ]
    except CourseInputError as error:
        raise invalid(error) from None


def parse_times(**values: str | None) -> dict[str, datetime | None]:
    """Parse each named ISO time (None stays None), refusing times without an offset."""
    try:
        return {
            name: None if value is None else parse_time(value, name)
            for name, value in values.items()
        }
    except CourseInputError as error:
        raise invalid(error) from None


async def create_assignment(db: AsyncSession, access: Access, data: AssignmentInput) -> Assignment:
    """Add an assignment to the course after checking its problems and timeline."""
    access.require_teacher()
    if not data.name.strip():
        raise CourseInvalid("name: give the assignment a name")
    if not data.problems:
        raise CourseInvalid("problems: list at least one problem slug")
    if len(data.problems) > MAX_ASSIGNMENT_PROBLEMS:
        raise CourseInvalid(f"problems: at most {MAX_ASSIGNMENT_PROBLEMS}")
    slugs = [slug for slug, _ in data.problems]
    if len(set(slugs)) != len(slugs):
        raise CourseInvalid("problems: a problem is listed twice")
    found = await queries.problems_by_slug(db, slugs)
    missing = [slug for slug in slugs if slug not in found]
    if missing:
        raise CourseInvalid(f"problems: no problem {', '.join(map(repr, missing))}")
    if any(weight <= 0 for _, weight in data.problems) or data.weight < 0:
        raise CourseInvalid("weights: a weight must be positive")
    try:
        check_timeline(data.release_at, data.due_at, data.late)
    except CourseInputError as error:
        raise invalid(error) from None
    assignment = Assignment(
        course_id=access.course.id,
        name=data.name.strip(),
        release_at=data.release_at,
        due_at=data.due_at,
        late=[
            {"until": step.until.astimezone(UTC).isoformat(), "credit": step.credit}
            for step in data.late
        ],
        max_submissions=data.max_submissions,
        weight=data.weight,
        created_at=utcnow(),
        problems=[
            AssignmentProblem(problem_id=found[slug].id, weight=weight, position=n)
            for n, (slug, weight) in enumerate(data.problems)
        ],
    )
    db.add(assignment)
    await db.flush()
    audit(
        db,
        access.course.id,
        access.user,
        "assignment.create",
        f"created the assignment {assignment.name!r}",
        assignment=assignment.id,
        due_at=None if data.due_at is None else data.due_at.astimezone(UTC).isoformat(),
    )
    await db.flush()
    return assignment


# -- extensions and overrides -------------------------------------------------------------


async def grant_extensions(
    db: AsyncSession,
    access: Access,
    assignment: Assignment,
    *,
    emails: Sequence[str],
    sections: Sequence[str],
    due_at: datetime,
    reason: str,
) -> list[Extension]:
    """Grant a later due time to students and sections of the assignment's course.

    Teachers may; TAs too when the course allows it, for the students of their section.
    Everyone named must be a current student of the course, else nothing is granted.
    """
    course = access.course
    if not access.teaches:
        if access.role is not CourseRole.TA or not course.ta_may_extend:
            raise CourseForbidden("Only the course's teachers can grant extensions here.")
        if sections:
            raise CourseForbidden("TAs grant extensions to students, not to whole sections.")
    if not emails and not sections:
        raise CourseInvalid("students: name at least one student (or a section)")
    if len(emails) > MAX_EXTENSION_STUDENTS:
        raise CourseInvalid(f"students: at most {MAX_EXTENSION_STUDENTS} at once")
    if not reason.strip():
        raise CourseInvalid("reason: say why (it goes in the audit log)")
    if assignment.due_at is None:
        raise CourseInvalid("due_at: this assignment has no due time to extend")
    if due_at <= assignment.due_at:
        raise CourseInvalid("due_at: an extension must be later than the assignment's due time")
    try:
        wanted = [check_email(email, f"students[{n}]") for n, email in enumerate(emails)]
    except CourseInputError as error:
        raise invalid(error) from None
    roster = await queries.members_by_email(db, course.id)
    strangers = [
        email
        for email in wanted
        if email not in roster
        or roster[email].removed_at is not None
        or roster[email].role is not CourseRole.STUDENT
    ]
    if strangers:
        raise CourseInvalid(
            "students: not a student of this course: " + ", ".join(sorted(set(strangers)))
        )
    limit = access.section_id
    if limit is not None and any(roster[email].section_id != limit for email in wanted):
        raise CourseForbidden("A TA may extend only the students of their own section.")
    by_name = await queries.sections_by_name(db, course.id)
    unknown = [name for name in sections if name not in by_name]
    if unknown:
        raise CourseInvalid("sections: no section " + ", ".join(map(repr, unknown)))
    granted = [
        Extension(
            assignment_id=assignment.id,
            member_id=roster[email].id,
            due_at=due_at,
            reason=reason.strip(),
            granted_by_id=access.user.id,
            created_at=utcnow(),
        )
        for email in dict.fromkeys(wanted)
    ] + [
        Extension(
            assignment_id=assignment.id,
            section_id=by_name[name].id,
            due_at=due_at,
            reason=reason.strip(),
            granted_by_id=access.user.id,
            created_at=utcnow(),
        )
        for name in dict.fromkeys(sections)
    ]
    db.add_all(granted)
    audit(
        db,
        course.id,
        access.user,
        "extension.grant",
        f"extended {assignment.name!r} to {due_at.astimezone(UTC).isoformat()} for "
        f"{len(granted)} (reason: {reason.strip()})",
        assignment=assignment.id,
        students=list(dict.fromkeys(wanted)),
        sections=list(dict.fromkeys(sections)),
        due_at=due_at.astimezone(UTC).isoformat(),
        reason=reason.strip(),
    )
    await db.flush()
    return granted


async def set_override(
    db: AsyncSession,
    access: Access,
    assignment: Assignment,
    *,
    email: str,
    credit: float,
    reason: str,
) -> GradeOverride:
    """Set one student's assignment grade by hand (teachers), with the reason audited."""
    access.require_teacher()
    if not 0.0 <= credit <= 1.0:
        raise CourseInvalid(f"credit: {credit} is outside 0-1")
    if not reason.strip():
        raise CourseInvalid("reason: say why (it goes in the audit log)")
    roster = await queries.members_by_email(db, access.course.id)
    member = roster.get(email.strip().lower())
    if member is None or member.role is not CourseRole.STUDENT:
        raise CourseInvalid(f"email: {email!r} is not a student of this course")
    override = GradeOverride(
        assignment_id=assignment.id,
        member_id=member.id,
        credit=credit,
        reason=reason.strip(),
        set_by_id=access.user.id,
        created_at=utcnow(),
    )
    db.add(override)
    audit(
        db,
        access.course.id,
        access.user,
        "grade.override",
        f"set {member.email}'s grade on {assignment.name!r} to {grading.percent(credit)} "
        f"(reason: {reason.strip()})",
        assignment=assignment.id,
        student=member.email,
        credit=credit,
        reason=reason.strip(),
    )
    await db.flush()
    return override


# -- grades -------------------------------------------------------------------------------


@dataclass(frozen=True)
class StudentGrades:
    """One student's row of the gradebook."""

    member: Member
    grade: grading.CourseGrade

    def of(self, assignment_id: int) -> grading.AssignmentGrade:
        """Return the student's grade on one assignment."""
        return next(a for a in self.grade.assignments if a.assignment_id == assignment_id)


def policy_of(assignment: Assignment, extensions: Sequence[Extension]) -> grading.Policy:
    """Describe a stored assignment to the grading core."""
    timeline = grading.Timeline(
        assignment.release_at,
        assignment.due_at,
        tuple(
            grading.Step(datetime.fromisoformat(step["until"]), float(step["credit"]))
            for step in assignment.late
        ),
    )
    grants = tuple(
        grading.ExtensionGrant(e.due_at, e.id, member_id=e.member_id, section_id=e.section_id)
        for e in extensions
        if e.assignment_id == assignment.id
    )
    return grading.Policy(
        assignment.id,
        timeline,
        tuple((link.problem_id, link.weight) for link in assignment.problems),
        assignment.weight,
        assignment.max_submissions,
        grants,
    )


async def gradebook(
    db: AsyncSession, access: Access, now: datetime, *, section_id: int | None = None
) -> tuple[list[Assignment], list[StudentGrades]]:
    """Return the course's assignments and each visible student's grades, computed now.

    Staff see every student (a TA: their section's); a student sees their own row.
    """
    course = access.course
    assignments = await queries.assignments_of(db, course.id)
    if not access.staff:
        assignments = [a for a in assignments if a.release_at <= now]
        assert access.member is not None
        members = [access.member]
    else:
        members = await queries.students(db, course.id, access.section_id or section_id)
    ids = [a.id for a in assignments]
    extensions = await queries.extensions_of(db, ids)
    overrides: dict[tuple[int, int], grading.Override] = {}
    for override in await queries.overrides_of(db, ids):
        key = (override.member_id, override.assignment_id)
        overrides[key] = grading.Override(override.credit, override.reason)
    policies = [policy_of(a, extensions) for a in assignments]
    problem_ids = sorted({link.problem_id for a in assignments for link in a.problems})
    log = await queries.submission_log(
        db, [m.user_id for m in members if m.user_id is not None], problem_ids
    )
    attempts: dict[int, list[grading.Attempt]] = {}
    for user_id, problem_id, at, score in log:
        attempts.setdefault(user_id, []).append(grading.Attempt(problem_id, at, score))
    rows = []
    for member in members:
        grade = grading.grade_course(
            policies,
            attempts.get(member.user_id, []) if member.user_id is not None else [],
            now=now,
            member_id=member.id,
            section_id=member.section_id,
            late_days=course.late_days,
            overrides={a: o for (m, a), o in overrides.items() if m == member.id},
        )
        rows.append(StudentGrades(member, grade))
    return assignments, rows


# -- joining, leaving, settings, moved deadlines ------------------------------------------


async def join_course(
    db: AsyncSession,
    user: User,
    *,
    code: str | None = None,
    course_id: int | None = None,
    allowed_domains: frozenset[str] = frozenset(),
) -> Member:
    """Enrol ``user`` as a student: by the course's join code, or by its open enrolment.

    Open enrolment (``self_enrol``) admits addresses of ``ALLOWED_DOMAINS`` only (anyone
    when the setting is empty). Someone already on the roster keeps their role; someone
    removed comes back as a student.
    """
    if code is not None:
        course = await queries.course_by_code(db, code.strip())
        if course is None:
            raise CourseInvalid("code: no course has this join code; check it with your teacher")
    else:
        course = None if course_id is None else await queries.get_course(db, course_id)
        if course is None:
            raise CourseNotFound(f"There is no course {course_id}.")
        domain = user.email.rpartition("@")[2].lower()
        if not course.self_enrol or (allowed_domains and domain not in allowed_domains):
            raise CourseForbidden("This course is not open for enrolment; ask for its join code.")
    email = user.email.strip().lower()
    member = (await queries.members_by_email(db, course.id)).get(email)
    if member is None:
        member = Member(
            course_id=course.id,
            user_id=user.id,
            email=email,
            name=user.name,
            role=CourseRole.STUDENT,
            created_at=utcnow(),
        )
        db.add(member)
    elif member.removed_at is not None:
        member.removed_at, member.role = None, CourseRole.STUDENT
    member.user_id = member.user_id or user.id
    await db.flush()
    return member


async def remove_member(db: AsyncSession, access: Access, email: str) -> Member:
    """Take someone off the roster (teachers); their submissions and grades stay."""
    access.require_teacher()
    member = (await queries.members_by_email(db, access.course.id)).get(email.strip().lower())
    if member is None or member.removed_at is not None:
        raise CourseNotFound(f"{email!r} is not on this course's roster.")
    if member.user_id == access.user.id:
        raise CourseInvalid("You cannot remove yourself; ask another teacher.")
    member.removed_at = utcnow()
    audit(
        db,
        access.course.id,
        access.user,
        "roster.remove",
        f"removed {member.email} ({member.role.value})",
        email=member.email,
    )
    await db.flush()
    return member


@dataclass(frozen=True)
class CourseSettings:
    """Course settings a teacher may change (None: unchanged)."""

    late_days: int | None = None
    ta_may_extend: bool | None = None
    self_enrol: bool | None = None


async def change_settings(db: AsyncSession, access: Access, wanted: CourseSettings) -> Course:
    """Change the course's late days, TA rights or open enrolment (teachers), audited."""
    access.require_teacher()
    course = access.course
    changed: dict[str, Any] = {}
    for name in ("late_days", "ta_may_extend", "self_enrol"):
        value = getattr(wanted, name)
        if value is not None and value != getattr(course, name):
            changed[name] = value
            setattr(course, name, value)
    if changed:
        summary = ", ".join(f"{name} = {value}" for name, value in changed.items())
        audit(db, course.id, access.user, "course.settings", f"changed {summary}", **changed)
    await db.flush()
    return course


async def move_deadline(
    db: AsyncSession,
    access: Access,
    assignment: Assignment,
    *,
    release_at: datetime | None,
    due_at: datetime | None,
    late: Sequence[LateStep] | None,
    clear_due: bool = False,
) -> Assignment:
    """Change an assignment's release, due time or late steps (teachers), audited.

    Grades follow at once: they are computed from the timeline every time.
    """
    access.require_teacher()
    new_release = release_at or assignment.release_at
    new_due = None if clear_due else (due_at or assignment.due_at)
    steps = (
        list(late)
        if late is not None
        else [
            LateStep(datetime.fromisoformat(s["until"]), float(s["credit"]))
            for s in assignment.late
        ]
    )
    if clear_due:
        steps = []
    try:
        check_timeline(new_release, new_due, steps)
    except CourseInputError as error:
        raise invalid(error) from None
    before = {
        "release_at": assignment.release_at.isoformat(),
        "due_at": None if assignment.due_at is None else assignment.due_at.isoformat(),
        "late": list(assignment.late),
    }
    assignment.release_at, assignment.due_at = new_release, new_due
    assignment.late = [
        {"until": step.until.astimezone(UTC).isoformat(), "credit": step.credit} for step in steps
    ]
    shown_due = "none" if new_due is None else new_due.astimezone(UTC).isoformat()
    audit(
        db,
        access.course.id,
        access.user,
        "assignment.deadline",
        f"changed the timeline of {assignment.name!r}: due {shown_due}",
        assignment=assignment.id,
        before=before,
        after={
            "release_at": new_release.astimezone(UTC).isoformat(),
            "due_at": None if new_due is None else shown_due,
            "late": assignment.late,
        },
    )
    await db.flush()
    return assignment
