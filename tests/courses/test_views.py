"""The course pages, as a teacher and a student use them: create a course, preview and apply
a roster, publish an assignment with a late policy, extend it for three students at once, see
the gradebook fill in, download the CSVs; the student's course page with its explanation."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from quart import Quart
from quart.testing import QuartClient
from sqlalchemy import select

from service.db import get_db
from service.models import Assignment, Course, Extension, Member, Role
from service.models.base import utcnow
from tests.factories import (
    add_problem,
    add_submission,
    count_rows,
    create_user,
    csrf_token,
    sign_in_as,
)

BERLIN = ZoneInfo("Europe/Berlin")
ROSTER = "Email,Name,Section\nana@school.edu,Ana Lima,Lab A\nben@school.edu,Ben Okafor,Lab A\n"
ROSTER += "cleo@school.edu,Cleo Park,Lab B\ndan@school.edu,Dan Roy,Lab B\n"


async def teacher_client(app: Quart) -> tuple[QuartClient, str]:
    """Return a client signed in as a staff member, and its CSRF token."""
    client = app.test_client()
    await sign_in_as(client, await create_user(app, role=Role.STAFF, email="t@school.edu"))
    return client, await csrf_token(client, "/courses")


async def make_course(app: Quart, client: QuartClient, token: str, **fields: str) -> int:
    """Create a course through its form; return its id."""
    form = {"csrf_token": token, "name": "Programming 1", "timezone": "Europe/Berlin"} | fields
    response = await client.post("/courses", form=form)
    assert response.status_code == 303
    async with get_db(app).session() as db:
        return int(
            (await db.execute(select(Course.id).order_by(Course.id.desc()))).scalars().first() or 0
        )


async def test_a_teacher_runs_a_course_from_the_pages(app: Quart) -> None:
    p1 = await add_problem(app, "p1")
    client, token = await teacher_client(app)
    course = await make_course(app, client, token, late_days="1")
    page = await client.get(f"/courses/{course}")
    assert "Programming 1" in await page.get_data(as_text=True)

    preview = await client.post(
        f"/courses/{course}/roster",
        form={"csrf_token": token, "action": "preview", "roster": ROSTER},
    )
    text = await preview.get_data(as_text=True)
    assert "4 to add, 0 to update" in text
    assert await count_rows(app, Member) == 1
    applied = await client.post(
        f"/courses/{course}/roster", form={"csrf_token": token, "action": "apply", "roster": ROSTER}
    )
    assert applied.status_code == 303
    assert await count_rows(app, Member) == 5

    due = (utcnow() + timedelta(days=2)).astimezone(UTC)
    local = due.astimezone(BERLIN).strftime("%Y-%m-%dT%H:%M")
    late = (due + timedelta(days=2)).astimezone(BERLIN)
    published = await client.post(
        f"/courses/{course}/assignments/new",
        form={
            "csrf_token": token,
            "name": "Week 1",
            "problems": "p1:2",
            "release_at": "2026-01-01T00:00",
            "due_at": local,
            "late": f"{late.strftime('%Y-%m-%dT%H:%M')} 50%",
        },
    )
    assert published.status_code == 303, await published.get_data(as_text=True)
    async with get_db(app).session() as db:
        assignment = (await db.execute(select(Assignment))).scalar_one()
    assert assignment.late[0]["credit"] == 0.5

    new_due = (due + timedelta(days=3)).astimezone(BERLIN)
    granted = await client.post(
        f"/assignments/{assignment.id}/extensions",
        form={
            "csrf_token": token,
            "emails": "ana@school.edu, ben@school.edu\ncleo@school.edu",
            "due_at": new_due.strftime("%Y-%m-%dT%H:%M"),
            "reason": "field trip",
        },
    )
    assert granted.status_code == 303
    assert await count_rows(app, Extension) == 3
    extensions = await (await client.get(f"/assignments/{assignment.id}/extensions")).get_data(
        as_text=True
    )
    assert extensions.count("field trip") == 3

    ana = await create_user(app, email="ana@school.edu", name="Ana Lima")
    async with get_db(app).session() as db:  # her first sign-in claims the roster entry
        member = (
            await db.execute(select(Member).where(Member.email == "ana@school.edu"))
        ).scalar_one()
        member.user_id = ana.id
        await db.commit()
    await add_submission(app, ana, p1, utcnow(), "WA", 0.8)
    book = await (await client.get(f"/courses/{course}/gradebook")).get_data(as_text=True)
    assert "80%" in book and "ext" in book
    lab_b = await (await client.get(f"/courses/{course}/gradebook?section=Lab+B")).get_data(
        as_text=True
    )
    assert "cleo@school.edu" in lab_b and "ana@school.edu" not in lab_b
    missing = await client.get(f"/courses/{course}/gradebook?section=Nope")
    assert missing.status_code == 422

    canvas = await client.get(f"/courses/{course}/canvas.csv")
    table = list(csv.reader(io.StringIO(await canvas.get_data(as_text=True))))
    assert table[0][:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    assert table[1] == ["Points Possible", "", "", "", "", "2"]
    plain = await client.get(f"/courses/{course}/gradebook.csv")
    assert "ana@school.edu" in await plain.get_data(as_text=True)
    submissions = await client.get(f"/assignments/{assignment.id}/submissions")
    assert "ana@school.edu" in await submissions.get_data(as_text=True)
    audit = await (await client.get(f"/courses/{course}/audit")).get_data(as_text=True)
    assert "extension.grant" in audit and "roster.import" in audit

    student = app.test_client()
    await sign_in_as(student, ana)
    mine = await (await student.get(f"/courses/{course}")).get_data(as_text=True)
    assert "best 80% at 100% credit" in mine
    assert "Late days: 1 of 1 left" in mine
    assert "extended" in mine
    assert 'class="countdown"' in mine
    refused = await student.get(f"/courses/{course}/gradebook")
    assert refused.status_code == 403


async def test_a_bad_roster_shows_the_line_and_changes_nothing(app: Quart) -> None:
    client, token = await teacher_client(app)
    course = await make_course(app, client, token)
    response = await client.post(
        f"/courses/{course}/roster",
        form={"csrf_token": token, "action": "apply", "roster": "email\nok@school.edu\nnope\n"},
    )
    assert response.status_code == 422
    assert "line 3: &#39;nope&#39; is not an e-mail address" in await response.get_data(
        as_text=True
    )
    assert await count_rows(app, Member) == 1


async def test_form_times_are_read_in_the_course_timezone(app: Quart) -> None:
    await add_problem(app, "p1")
    client, token = await teacher_client(app)
    course = await make_course(app, client, token)
    base = {"csrf_token": token, "name": "W", "problems": "p1", "release_at": "2026-03-01T00:00"}
    gap = await client.post(
        f"/courses/{course}/assignments/new", form=base | {"due_at": "2026-03-29T02:30"}
    )
    assert gap.status_code == 422
    assert "does not exist in Europe/Berlin" in await gap.get_data(as_text=True)
    made = await client.post(
        f"/courses/{course}/assignments/new", form=base | {"due_at": "2026-10-24T23:59"}
    )
    assert made.status_code == 303
    async with get_db(app).session() as db:
        assignment = (await db.execute(select(Assignment))).scalar_one()
    assert assignment.due_at == datetime(2026, 10, 24, 21, 59, tzinfo=UTC)


async def test_students_cannot_create_courses_from_the_page(app: Quart) -> None:
    client = app.test_client()
    await sign_in_as(client, await create_user(app))
    token = await csrf_token(client, "/courses")
    response = await client.post("/courses", form={"csrf_token": token, "name": "x"})
    assert response.status_code == 403
    assert await count_rows(app, Course) == 0
