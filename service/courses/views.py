"""The course pages: the student's course page, and staff's gradebook, submissions,
extensions, roster import (preview, then apply), new assignment and audit log.

Times typed into a form are read in the course's timezone (the form says which); times are
shown in the course's timezone with the offset, and the browser rewrites them into the
viewer's own zone (service/static/course.js) and runs the countdowns.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from quart import (
    Blueprint,
    Response,
    ResponseReturnValue,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.datastructures import MultiDict

from service.auth import Surface, require_account, staff_required
from service.courses import grading, queries
from service.courses.export import canvas_csv, gradebook_csv
from service.courses.rules import CourseInputError, LateStep, check_timezone, parse_roster
from service.courses.service import (
    AssignmentInput,
    CourseInvalid,
    assignment_access,
    course_access,
    create_assignment,
    create_course,
    gradebook,
    grant_extensions,
    import_roster,
    join_course,
)
from service.db import get_db
from service.models import CourseRole
from service.models.base import utcnow

bp = Blueprint("courses", __name__)

#: Characters of a pasted roster or e-mail list a form accepts.
MAX_FORM_TEXT = 1_000_000


def local_time(value: str, zone: str, name: str) -> datetime:
    """Return a form's ``YYYY-MM-DDTHH:MM`` (or with an offset) read in the course's zone."""
    text = value.strip()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise CourseInvalid(
            f"{name}: {text!r} is not a date and time like 2026-10-24T23:59"
        ) from None
    if moment.tzinfo is not None:
        return moment
    tz = ZoneInfo(zone)
    placed = moment.replace(tzinfo=tz)
    if placed.astimezone(ZoneInfo("UTC")).astimezone(tz).replace(tzinfo=None) != moment:
        raise CourseInvalid(
            f"{name}: {text} does not exist in {zone} (the clocks skip it); pick another time"
        )
    return placed


def shown(moment: datetime | None, zone: str) -> str:
    """Return ``moment`` in the course's zone, e.g. "Sat 24 Oct 2026 23:59 CEST"."""
    if moment is None:
        return "no due time"
    return moment.astimezone(ZoneInfo(zone)).strftime("%a %d %b %Y %H:%M %Z")


def _form_text(value: str) -> str:
    if len(value) > MAX_FORM_TEXT:
        raise CourseInvalid(f"the text is longer than {MAX_FORM_TEXT} characters")
    return value


# -- course list and page -----------------------------------------------------------------


@bp.get("/courses")
async def course_list() -> ResponseReturnValue:
    """List your courses; staff also get the form to create one."""
    account = await require_account(Surface.PAGE)
    async with get_db().session() as db:
        found = await queries.courses_of(db, account)
    return await render_template("courses/list.html", courses=found)


@bp.post("/courses")
@staff_required
async def course_create() -> ResponseReturnValue:
    """Create a course you teach (staff)."""
    account = await require_account(Surface.PAGE)
    form = await request.form
    try:
        zone = check_timezone(form.get("timezone", "UTC"))
    except CourseInputError as error:
        raise CourseInvalid(str(error)) from None
    async with get_db().session() as db:
        course = await create_course(db, account, form.get("name", ""), form.get("term", ""), zone)
        late_days = form.get("late_days", "0").strip() or "0"
        if not late_days.isdigit() or int(late_days) > 100:
            raise CourseInvalid("late days: a whole number from 0 to 100")
        course.late_days = int(late_days)
        course.ta_may_extend = form.get("ta_may_extend") == "1"
        await db.commit()
    await flash(f"Course {course.name!r} created.", "info")
    return redirect(url_for("courses.course_page", course_id=course.id), 303)


@bp.post("/courses/join")
async def join_page() -> ResponseReturnValue:
    """Join a course as a student with its join code."""
    account = await require_account(Surface.PAGE)
    form = await request.form
    async with get_db().session() as db:
        member = await join_course(db, account, code=form.get("code", "")[:32])
        await db.commit()
    await flash("You joined the course.", "info")
    return redirect(url_for("courses.course_page", course_id=member.course_id), 303)


@bp.get("/courses/<int:course_id>")
async def course_page(course_id: int) -> ResponseReturnValue:
    """Show the course: a student's assignments, due times, credit now and grades."""
    account = await require_account(Surface.PAGE)
    now = utcnow()
    async with get_db().session() as db:
        access = await course_access(db, course_id, account)
        assignments, rows = await gradebook(db, access, now)
    mine = rows[0] if rows and not access.staff else None
    return await render_template(
        "courses/course.html",
        access=access,
        course=access.course,
        assignments=assignments,
        mine=mine,
        now=now,
        shown=shown,
        credit_now=grading.credit_now,
        percent=grading.percent,
    )


# -- staff pages --------------------------------------------------------------------------


@bp.get("/courses/<int:course_id>/gradebook")
async def gradebook_page(course_id: int) -> ResponseReturnValue:
    """Show students by assignments, by section, with late and extended marks (staff)."""
    account = await require_account(Surface.PAGE)
    now = utcnow()
    async with get_db().session() as db:
        access = await course_access(db, course_id, account)
        access.require_staff()
        sections = await queries.sections_by_name(db, course_id)
        chosen = request.args.get("section", "")
        section = sections.get(chosen)
        if chosen and section is None:
            raise CourseInvalid(f"There is no section {chosen!r}.")
        assignments, rows = await gradebook(
            db, access, now, section_id=None if section is None else section.id
        )
    order = request.args.get("sort", "name")
    if order == "total":
        rows.sort(key=lambda row: -row.grade.credit)
    else:
        rows.sort(key=lambda row: (row.member.name or row.member.email).lower())
    return await render_template(
        "courses/gradebook.html",
        access=access,
        course=access.course,
        assignments=assignments,
        rows=rows,
        sections=sorted(sections),
        chosen=chosen,
        order=order,
        percent=grading.percent,
    )


@bp.get("/courses/<int:course_id>/gradebook.csv")
async def gradebook_download(course_id: int) -> ResponseReturnValue:
    """Download the gradebook CSV (staff)."""
    return await _download(course_id, canvas=False)


@bp.get("/courses/<int:course_id>/canvas.csv")
async def canvas_download(course_id: int) -> ResponseReturnValue:
    """Download the gradebook in Canvas's import layout (staff)."""
    return await _download(course_id, canvas=True)


async def _download(course_id: int, *, canvas: bool) -> ResponseReturnValue:
    account = await require_account(Surface.PAGE)
    async with get_db().session() as db:
        access = await course_access(db, course_id, account)
        access.require_staff()
        assignments, rows = await gradebook(db, access, utcnow())
    text = (canvas_csv if canvas else gradebook_csv)(assignments, rows)
    name = f"course-{course_id}-{'canvas' if canvas else 'gradebook'}.csv"
    return Response(
        text,
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.route("/courses/<int:course_id>/roster", methods=["GET", "POST"])
async def roster_page(course_id: int) -> ResponseReturnValue:
    """Import a roster: paste or upload a CSV, see what will change, then apply (teachers)."""
    account = await require_account(Surface.PAGE)
    async with get_db().session() as db:
        access = await course_access(db, course_id, account)
        access.require_staff()
        if request.method == "GET":
            members = await queries.roster(db, course_id)
            return await render_template(
                "courses/roster.html", course=access.course, access=access, members=members
            )
        access.require_teacher()
        form = await request.form
        text = _form_text(form.get("roster", ""))
        upload = (await request.files).get("file")
        if upload is not None and upload.filename:
            try:
                text = _form_text(upload.read(MAX_FORM_TEXT + 1).decode("utf-8-sig"))
            except UnicodeDecodeError:
                raise CourseInvalid("the file is not UTF-8 text; export it as CSV UTF-8") from None
        try:
            roster = parse_roster(text)
        except CourseInputError as error:
            raise CourseInvalid(str(error)) from None
        apply = form.get("action") == "apply"
        changes = await import_roster(db, access, roster, apply=apply)
        await db.commit()
    if apply:
        await flash(
            f"Roster imported: {len(changes.added)} added, {len(changes.updated)} updated.", "info"
        )
        return redirect(url_for("courses.roster_page", course_id=course_id), 303)
    return await render_template(
        "courses/roster_preview.html", course=access.course, changes=changes, text=text
    )


@bp.route("/courses/<int:course_id>/assignments/new", methods=["GET", "POST"])
async def new_assignment_page(course_id: int) -> ResponseReturnValue:
    """Publish an assignment: problems, release and due time, late steps (teachers)."""
    account = await require_account(Surface.PAGE)
    async with get_db().session() as db:
        access = await course_access(db, course_id, account)
        access.require_teacher()
        if request.method == "GET":
            return await render_template("courses/new_assignment.html", course=access.course)
        form = await request.form
        zone = access.course.timezone
        created = await create_assignment(db, access, _assignment_input(form, zone))
        await db.commit()
    await flash(f"Assignment {created.name!r} published.", "info")
    return redirect(url_for("courses.course_page", course_id=course_id), 303)


def _assignment_input(form: MultiDict[str, str], zone: str) -> AssignmentInput:
    get = form.get
    problems = []
    for part in _form_text(get("problems", "")).replace("\n", ",").split(","):
        slug, _, weight = part.strip().partition(":")
        if slug:
            try:
                problems.append((slug.strip(), float(weight) if weight else 1.0))
            except ValueError:
                raise CourseInvalid(f"problems: weight {weight!r} is not a number") from None
    steps = []
    for number, line in enumerate(_form_text(get("late", "")).splitlines(), start=1):
        if not line.strip():
            continue
        until, _, credit = line.strip().rpartition(" ")
        try:
            value = float(credit.rstrip("%")) / (100 if credit.endswith("%") else 1)
        except ValueError:
            raise CourseInvalid(
                f"late line {number}: write a time and a credit, e.g. 2026-10-26T23:59 50%"
            ) from None
        steps.append(LateStep(local_time(until, zone, f"late line {number}"), value))
    due_text = get("due_at", "").strip()
    cap = get("max_submissions", "").strip()
    if cap and not cap.isdigit():
        raise CourseInvalid("submission cap: a whole number, or empty for none")
    return AssignmentInput(
        name=get("name", ""),
        problems=problems,
        release_at=local_time(get("release_at", ""), zone, "release"),
        due_at=local_time(due_text, zone, "due") if due_text else None,
        late=steps,
        max_submissions=int(cap) if cap else None,
    )


@bp.get("/assignments/<int:assignment_id>/submissions")
async def assignment_submissions(assignment_id: int) -> ResponseReturnValue:
    """List the submissions to an assignment's problems by the students you see (staff)."""
    account = await require_account(Surface.PAGE)
    async with get_db().session() as db:
        assignment, access = await assignment_access(db, assignment_id, account, utcnow())
        access.require_staff()
        students = await queries.students(db, access.course.id, access.section_id)
        listed = await queries.assignment_submissions(
            db,
            [m.user_id for m in students if m.user_id is not None],
            [link.problem_id for link in assignment.problems],
        )
    return await render_template(
        "courses/submissions.html",
        course=access.course,
        assignment=assignment,
        submissions=listed,
        shown=shown,
    )


@bp.route("/assignments/<int:assignment_id>/extensions", methods=["GET", "POST"])
async def extensions_page(assignment_id: int) -> ResponseReturnValue:
    """Grant an extension to students picked or pasted, or to sections, with a reason."""
    account = await require_account(Surface.PAGE)
    async with get_db().session() as db:
        assignment, access = await assignment_access(db, assignment_id, account, utcnow())
        access.require_staff()
        if request.method == "POST":
            form = await request.form
            pasted = _form_text(form.get("emails", ""))
            emails = [e for e in pasted.replace(",", "\n").replace(";", "\n").split() if e]
            emails += form.getlist("student")
            due_at = local_time(form.get("due_at", ""), access.course.timezone, "new due time")
            granted = await grant_extensions(
                db,
                access,
                assignment,
                emails=emails,
                sections=form.getlist("section"),
                due_at=due_at,
                reason=form.get("reason", ""),
            )
            await db.commit()
            await flash(f"Extension granted to {len(granted)}.", "info")
            return redirect(url_for("courses.extensions_page", assignment_id=assignment_id), 303)
        students = await queries.students(db, access.course.id, access.section_id)
        extensions = await queries.extensions_of(db, [assignment.id])
        sections = await queries.sections_by_name(db, access.course.id)
    by_member = {m.id: m for m in students}
    by_section = {s.id: name for name, s in sections.items()}
    return await render_template(
        "courses/extensions.html",
        course=access.course,
        assignment=assignment,
        students=students,
        extensions=extensions,
        by_member=by_member,
        by_section=by_section,
        sections=sorted(sections) if access.teaches else [],
        may_grant=access.teaches or (access.role is CourseRole.TA and access.course.ta_may_extend),
        shown=shown,
    )


@bp.get("/courses/<int:course_id>/audit")
async def audit_page(course_id: int) -> ResponseReturnValue:
    """Show the course's audit log, newest first (teachers and admins)."""
    account = await require_account(Surface.PAGE)
    async with get_db().session() as db:
        access = await course_access(db, course_id, account)
        access.require_teacher()
        entries = await queries.audit_entries(db, course_id)
    return await render_template(
        "courses/audit.html", course=access.course, entries=entries, shown=shown
    )
