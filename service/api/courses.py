"""The API's courses: create, roster import, assignments, extensions, grades, exports, audit."""

from __future__ import annotations

from quart import Response, current_app, request, url_for
from quart_auth import login_required
from quart_schema import validate_querystring, validate_request, validate_response

from service.api.course_models import (
    AssignmentIn,
    AssignmentList,
    AssignmentOut,
    AuditList,
    AuditOut,
    CourseChangeIn,
    CourseIn,
    CourseList,
    CourseOut,
    ExtensionIn,
    ExtensionOut,
    GradeList,
    GradeOut,
    JoinIn,
    MemberList,
    MemberOut,
    OverrideIn,
    OverrideOut,
    RosterOut,
    RosterQuery,
    TimelineIn,
)
from service.api.errors import ApiError
from service.api.views import ID, bp, errors
from service.auth.current import Surface, require_account, staff_required
from service.config import get_settings
from service.courses import queries
from service.courses.export import canvas_csv, gradebook_csv
from service.courses.rules import CourseInputError, parse_roster
from service.courses.service import (
    AssignmentInput,
    CourseInvalid,
    CourseSettings,
    assignment_access,
    change_settings,
    course_access,
    create_assignment,
    create_course,
    gradebook,
    grant_extensions,
    import_roster,
    join_course,
    late_steps,
    move_deadline,
    parse_times,
    remove_member,
    set_override,
)
from service.db import get_db
from service.models.base import utcnow

#: Content types a roster upload may carry.
CSV_TYPES = ("text/csv", "text/plain", "application/csv", "application/vnd.ms-excel")


@bp.post("/courses")
@staff_required
@errors(401, 403, 422)
@validate_request(CourseIn)
@validate_response(CourseOut, 201)
async def new_course(data: CourseIn) -> tuple[CourseOut, int, dict[str, str]]:
    """Create a course you teach (global staff and admins): 201 with its id."""
    account = await require_account(Surface.API)
    async with get_db().session() as db:
        course = await create_course(db, account, data.name, data.term, data.timezone)
        course.late_days, course.ta_may_extend = data.late_days, data.ta_may_extend
        await db.commit()
        access = await course_access(db, course.id, account)
    location = url_for("api.get_course", course_id=course.id)
    return CourseOut.of(course, access.member, staff=True), 201, {"Location": location}


@bp.get("/courses")
@login_required
@errors(401)
@validate_response(CourseList)
async def list_courses() -> CourseList:
    """List the courses you are in (admins: every course)."""
    account = await require_account(Surface.API)
    async with get_db().session() as db:
        found = await queries.courses_of(db, account)
    items = []
    for course, member in found:
        staff = account.is_admin or (member is not None and member.role.value != "student")
        items.append(CourseOut.of(course, member, staff=staff))
    return CourseList(items=items)


@bp.get(f"/courses/<{ID}:course_id>")
@login_required
@errors(401, 404)
@validate_response(CourseOut)
async def get_course(course_id: int) -> CourseOut:
    """Return a course you are in."""
    account = await require_account(Surface.API)
    async with get_db().session() as db:
        access = await course_access(db, course_id, account)
    return CourseOut.of(access.course, access.member, staff=access.staff)


@bp.patch(f"/courses/<{ID}:course_id>")
@login_required
@errors(401, 403, 404, 422)
@validate_request(CourseChangeIn)
@validate_response(CourseOut)
async def change_course(course_id: int, data: CourseChangeIn) -> CourseOut:
    """Change a course's late days, TA extension rights or open enrolment (teachers)."""
    account = await require_account(Surface.API)
    async with get_db().session() as db:
        access = await course_access(db, course_id, account)
        course = await change_settings(
            db,
            access,
            CourseSettings(data.late_days, data.ta_may_extend, data.self_enrol),
        )
        await db.commit()
    return CourseOut.of(course, access.member, staff=True)


@bp.post("/courses/join")
@login_required
@errors(401, 422)
@validate_request(JoinIn)
@validate_response(CourseOut)
async def join_by_code(data: JoinIn) -> CourseOut:
    """Join a course as a student with the join code its teacher gave you."""
    account = await require_account(Surface.API)
    async with get_db().session() as db:
        member = await join_course(db, account, code=data.code)
        await db.commit()
        access = await course_access(db, member.course_id, account)
    return CourseOut.of(access.course, access.member, staff=access.staff)


@bp.post(f"/courses/<{ID}:course_id>/enrol")
@login_required
@errors(401, 403, 404)
@validate_response(CourseOut)
async def enrol(course_id: int) -> CourseOut:
    """Enrol yourself in a course open to your domain (``self_enrol``, ALLOWED_DOMAINS)."""
    account = await require_account(Surface.API)
    domains = get_settings(current_app).allowed_domains
    async with get_db().session() as db:
        await join_course(db, account, course_id=course_id, allowed_domains=domains)
        await db.commit()
        access = await course_access(db, course_id, account)
    return CourseOut.of(access.course, access.member, staff=access.staff)


@bp.delete(f"/courses/<{ID}:course_id>/roster/<email>")
@login_required
@errors(401, 403, 404, 422)
@validate_response(MemberOut)
async def remove_from_roster(course_id: int, email: str) -> MemberOut:
    """Take someone off the roster (teachers); their submissions and past grades stay."""
    account = await require_account(Surface.API)
    async with get_db().session() as db:
        access = await course_access(db, course_id, account)
        member = await remove_member(db, access, email)
        await db.commit()
    return MemberOut(
        email=member.email,
        name=member.name,
        role=member.role.value,
        section=None,
        pending=member.user_id is None,
    )


@bp.post(f"/courses/<{ID}:course_id>/roster")
@login_required
@errors(401, 403, 404, 415, 422)
@validate_querystring(RosterQuery)
@validate_response(RosterOut)
async def post_roster(course_id: int, query_args: RosterQuery) -> RosterOut:
    """Import a roster CSV (``email,name,section``; teachers) and say what changed.

    Header spellings of spreadsheet and LMS exports are understood; a line with a malformed
    e-mail refuses the whole file, naming the line. ``?preview=true`` changes nothing.
    """
    account = await require_account(Surface.API)
    mimetype = request.mimetype
    if mimetype not in CSV_TYPES:
        raise ApiError(415, "unsupported_media_type", "Send the roster as text/csv.")
    body = await request.get_data()
    try:
        text = body.decode("utf-8-sig") if isinstance(body, bytes) else body
    except UnicodeDecodeError:
        raise CourseInvalid("the roster is not UTF-8 text; export it as CSV UTF-8") from None
    async with get_db().session() as db:
        access = await course_access(db, course_id, account)
        access.require_teacher()
        try:
            roster = parse_roster(text)
        except CourseInputError as error:
            raise CourseInvalid(str(error)) from None
        changes = await import_roster(db, access, roster, apply=not query_args.preview)
        await db.commit()
    return RosterOut.of(changes, applied=not query_args.preview)


@bp.get(f"/courses/<{ID}:course_id>/roster")
@login_required
@errors(401, 403, 404)
@validate_response(MemberList)
async def get_roster(course_id: int) -> MemberList:
    """List the course's members (the course's staff)."""
    account = await require_account(Surface.API)
    async with get_db().session() as db:
        access = await course_access(db, course_id, account)
        access.require_staff()
        members = await queries.roster(db, course_id)
    return MemberList(
        items=[
            MemberOut(
                email=m.email,
                name=m.name,
                role=m.role.value,
                section=None if m.section is None else m.section.name,
                pending=m.user_id is None,
            )
            for m in members
        ]
    )


@bp.post(f"/courses/<{ID}:course_id>/assignments")
@login_required
@errors(401, 403, 404, 422)
@validate_request(AssignmentIn)
@validate_response(AssignmentOut, 201)
async def new_assignment(
    course_id: int, data: AssignmentIn
) -> tuple[AssignmentOut, int, dict[str, str]]:
    """Add an assignment (teachers): problems, release and due times, a late timeline."""
    account = await require_account(Surface.API)
    times = parse_times(release_at=data.release_at, due_at=data.due_at)
    release_at = times["release_at"]
    assert release_at is not None
    steps = late_steps([(step.until, step.credit) for step in data.late])
    problems = [
        (item, 1.0) if isinstance(item, str) else (item.slug, item.weight) for item in data.problems
    ]
    async with get_db().session() as db:
        access = await course_access(db, course_id, account)
        created = await create_assignment(
            db,
            access,
            AssignmentInput(
                name=data.name,
                problems=problems,
                release_at=release_at,
                due_at=times["due_at"],
                late=steps,
                max_submissions=data.max_submissions,
                weight=data.weight,
            ),
        )
        await db.commit()
        assignment = await queries.get_assignment(db, created.id)
    assert assignment is not None
    location = url_for("api.get_assignment", assignment_id=assignment.id)
    return AssignmentOut.of(assignment), 201, {"Location": location}


@bp.get(f"/courses/<{ID}:course_id>/assignments")
@login_required
@errors(401, 404)
@validate_response(AssignmentList)
async def list_assignments(course_id: int) -> AssignmentList:
    """List the course's assignments (students see the released ones)."""
    account = await require_account(Surface.API)
    now = utcnow()
    async with get_db().session() as db:
        access = await course_access(db, course_id, account)
        assignments = await queries.assignments_of(db, course_id)
    if not access.staff:
        assignments = [a for a in assignments if a.release_at <= now]
    return AssignmentList(items=[AssignmentOut.of(a) for a in assignments])


@bp.get(f"/assignments/<{ID}:assignment_id>")
@login_required
@errors(401, 404)
@validate_response(AssignmentOut)
async def get_assignment(assignment_id: int) -> AssignmentOut:
    """Return an assignment of one of your courses (students: once released)."""
    account = await require_account(Surface.API)
    async with get_db().session() as db:
        assignment, _ = await assignment_access(db, assignment_id, account, utcnow())
    return AssignmentOut.of(assignment)


@bp.patch(f"/assignments/<{ID}:assignment_id>")
@login_required
@errors(401, 403, 404, 422)
@validate_request(TimelineIn)
@validate_response(AssignmentOut)
async def change_timeline(assignment_id: int, data: TimelineIn) -> AssignmentOut:
    """Move an assignment's release, due time or late steps (teachers); grades follow."""
    account = await require_account(Surface.API)
    times = parse_times(release_at=data.release_at, due_at=data.due_at)
    steps = None if data.late is None else late_steps([(s.until, s.credit) for s in data.late])
    async with get_db().session() as db:
        assignment, access = await assignment_access(db, assignment_id, account, utcnow())
        await move_deadline(
            db,
            access,
            assignment,
            release_at=times["release_at"],
            due_at=times["due_at"],
            late=steps,
            clear_due=data.no_due_time,
        )
        await db.commit()
        moved = await queries.get_assignment(db, assignment_id)
    assert moved is not None
    return AssignmentOut.of(moved)


@bp.post(f"/assignments/<{ID}:assignment_id>/extensions")
@login_required
@errors(401, 403, 404, 422)
@validate_request(ExtensionIn)
@validate_response(ExtensionOut, 201)
async def new_extensions(assignment_id: int, data: ExtensionIn) -> tuple[ExtensionOut, int]:
    """Extend the due time for many students (by e-mail) or sections at once, with a reason."""
    account = await require_account(Surface.API)
    due_at = parse_times(due_at=data.due_at)["due_at"]
    assert due_at is not None
    async with get_db().session() as db:
        assignment, access = await assignment_access(db, assignment_id, account, utcnow())
        granted = await grant_extensions(
            db,
            access,
            assignment,
            emails=data.students,
            sections=data.sections,
            due_at=due_at,
            reason=data.reason,
        )
        await db.commit()
    return ExtensionOut(granted=len(granted), due_at=due_at), 201


@bp.post(f"/assignments/<{ID}:assignment_id>/overrides")
@login_required
@errors(401, 403, 404, 422)
@validate_request(OverrideIn)
@validate_response(OverrideOut, 201)
async def new_override(assignment_id: int, data: OverrideIn) -> tuple[OverrideOut, int]:
    """Set one student's grade on the assignment by hand (teachers), with the reason."""
    account = await require_account(Surface.API)
    async with get_db().session() as db:
        assignment, access = await assignment_access(db, assignment_id, account, utcnow())
        override = await set_override(
            db, access, assignment, email=data.email, credit=data.credit, reason=data.reason
        )
        await db.commit()
    return OverrideOut(id=override.id, credit=override.credit), 201


@bp.get(f"/assignments/<{ID}:assignment_id>/grades")
@login_required
@errors(401, 404)
@validate_response(GradeList)
async def assignment_grades(assignment_id: int) -> GradeList:
    """Return each student's grade (staff: their students; a student: their own), computed now."""
    account = await require_account(Surface.API)
    now = utcnow()
    async with get_db().session() as db:
        assignment, access = await assignment_access(db, assignment_id, account, now)
        _, rows = await gradebook(db, access, now)
    return GradeList([GradeOut.of(row, row.of(assignment.id)) for row in rows])


@bp.get(f"/courses/<{ID}:course_id>/gradebook.csv")
@login_required
@errors(401, 403, 404)
async def gradebook_export(course_id: int) -> Response:
    """Download the gradebook as CSV: e-mail, name, section, each assignment, total."""
    return await _export(course_id, "gradebook")


@bp.get(f"/courses/<{ID}:course_id>/canvas.csv")
@login_required
@errors(401, 403, 404)
async def canvas_export(course_id: int) -> Response:
    """Download the gradebook in Canvas's import layout ("Points Possible" row, SIS columns)."""
    return await _export(course_id, "canvas")


async def _export(course_id: int, kind: str) -> Response:
    account = await require_account(Surface.API)
    now = utcnow()
    async with get_db().session() as db:
        access = await course_access(db, course_id, account)
        access.require_staff()
        assignments, rows = await gradebook(db, access, now)
    render = canvas_csv if kind == "canvas" else gradebook_csv
    return csv_response(render(assignments, rows), f"course-{course_id}-{kind}.csv")


def csv_response(text: str, filename: str) -> Response:
    """Return ``text`` as a CSV download."""
    return Response(
        text,
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.get(f"/courses/<{ID}:course_id>/audit")
@login_required
@errors(401, 403, 404)
@validate_response(AuditList)
async def audit_log(course_id: int) -> AuditList:
    """Return the course's audit log, newest first (teachers and admins)."""
    account = await require_account(Surface.API)
    async with get_db().session() as db:
        access = await course_access(db, course_id, account)
        access.require_teacher()
        entries = await queries.audit_entries(db, course_id)
    return AuditList(items=[AuditOut.of(entry) for entry in entries])
