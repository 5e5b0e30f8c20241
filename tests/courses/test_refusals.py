"""Every refusal of the course service, through the API and the forms: the status, a message
naming what to change, and nothing stored."""

from __future__ import annotations

import io
from typing import Any

import pytest
from quart import Quart
from quart.testing import QuartClient
from werkzeug.datastructures import FileStorage

from service.models import Assignment, Course, Extension, GradeOverride, Member, Role
from tests.factories import (
    add_problem,
    bearer,
    count_rows,
    create_user,
    csrf_token,
    sign_in_as,
    token_for,
    user_with_token,
)

ROSTER = (
    "email,section,role\nana@school.edu,A,student\nta@school.edu,A,ta\nteach2@school.edu,,teacher\n"
)


async def setup_course(app: Quart, client: QuartClient) -> dict[str, Any]:
    """Make a course with a roster, problem p1, and two assignments (one without a due time)."""
    await add_problem(app, "p1")
    teacher, headers = await user_with_token(app, Role.STAFF)
    ta = bearer(await token_for(app, await create_user(app, email="ta@school.edu")))
    made = await client.post(
        "/api/v1/courses", json={"name": "C", "ta_may_extend": True}, headers=headers
    )
    course = (await made.get_json())["id"]
    await client.post(
        f"/api/v1/courses/{course}/roster",
        data=ROSTER.encode(),
        headers={**headers, "Content-Type": "text/csv"},
    )
    ids = {}
    for name, due in (("due", "2026-02-01T00:00:00+00:00"), ("open", None)):
        body = {"name": name, "problems": ["p1"], "release_at": "2026-01-01T00:00:00+00:00"}
        response = await client.post(
            f"/api/v1/courses/{course}/assignments", json=body | {"due_at": due}, headers=headers
        )
        ids[name] = (await response.get_json())["id"]
    return {"course": course, "headers": headers, "teacher": teacher, "ta": ta, **ids}


async def expect(response: Any, status: int, message: str) -> None:
    """Assert the refusal's status and that its message says ``message``."""
    assert response.status_code == status, await response.get_data(as_text=True)
    assert message in (await response.get_json())["message"]


async def test_unknown_courses_and_assignments_are_not_found(
    app: Quart, client: QuartClient
) -> None:
    _, headers = await user_with_token(app, Role.ADMIN)
    await expect(await client.get("/api/v1/courses/4242", headers=headers), 404, "no course")
    await expect(
        await client.get("/api/v1/assignments/4242", headers=headers), 404, "no assignment"
    )


async def test_admins_list_every_course(app: Quart, client: QuartClient) -> None:
    world = await setup_course(app, client)
    _, headers = await user_with_token(app, Role.ADMIN)
    listed = await (await client.get("/api/v1/courses", headers=headers)).get_json()
    assert [(c["id"], c["role"]) for c in listed["items"]] == [(world["course"], None)]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": " "}, "give the assignment a name"),
        ({"problems": [{"slug": "p1", "weight": 0}]}, "a weight must be positive"),
    ],
)
async def test_more_bad_assignments(
    app: Quart, client: QuartClient, fields: dict[str, Any], message: str
) -> None:
    world = await setup_course(app, client)
    body = {"name": "x", "problems": ["p1"], "release_at": "2026-01-01T00:00:00+00:00"} | fields
    response = await client.post(
        f"/api/v1/courses/{world['course']}/assignments", json=body, headers=world["headers"]
    )
    await expect(response, 422, message)
    assert await count_rows(app, Assignment) == 2


async def test_extensions_need_a_due_time_and_tas_cannot_extend_sections(
    app: Quart, client: QuartClient
) -> None:
    world = await setup_course(app, client)
    body = {"students": ["ana@school.edu"], "due_at": "2026-03-01T00:00:00+00:00", "reason": "r"}
    response = await client.post(
        f"/api/v1/assignments/{world['open']}/extensions", json=body, headers=world["headers"]
    )
    await expect(response, 422, "has no due time to extend")
    response = await client.post(
        f"/api/v1/assignments/{world['due']}/extensions",
        json={"sections": ["A"], "due_at": "2026-03-01T00:00:00+00:00", "reason": "r"},
        headers=world["ta"],
    )
    await expect(response, 403, "not to whole sections")
    response = await client.post(
        f"/api/v1/assignments/{world['due']}/extensions",
        json=body | {"students": ["teach2@school.edu"]},
        headers=world["headers"],
    )
    await expect(response, 422, "not a student of this course: teach2@school.edu")
    assert await count_rows(app, Extension) == 0


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"email": "ana@school.edu", "credit": 1.2, "reason": "r"}, "credit: 1.2 is outside 0-1"),
        ({"email": "ana@school.edu", "credit": 0.5, "reason": ""}, "reason: say why"),
        ({"email": "zed@school.edu", "credit": 0.5, "reason": "r"}, "is not a student"),
    ],
)
async def test_bad_overrides(
    app: Quart, client: QuartClient, body: dict[str, Any], message: str
) -> None:
    world = await setup_course(app, client)
    response = await client.post(
        f"/api/v1/assignments/{world['due']}/overrides", json=body, headers=world["headers"]
    )
    await expect(response, 422, message)
    assert await count_rows(app, GradeOverride) == 0


async def test_a_roster_has_a_row_limit(app: Quart, client: QuartClient) -> None:
    world = await setup_course(app, client)
    text = "email\n" + "".join(f"p{n}@school.edu\n" for n in range(5_001))
    response = await client.post(
        f"/api/v1/courses/{world['course']}/roster",
        data=text.encode(),
        headers={**world["headers"], "Content-Type": "text/csv"},
    )
    await expect(response, 422, "at most 5000")
    assert await count_rows(app, Member) == 4


# ---------------------------------------------------------------- the forms


async def page_client(app: Quart, teacher: Any) -> tuple[QuartClient, str]:
    """Return a page client signed in as ``teacher`` and its CSRF token."""
    client = app.test_client()
    await sign_in_as(client, teacher)
    return client, await csrf_token(client, "/courses")


async def test_course_form_refusals(app: Quart) -> None:
    client, token = await page_client(app, await create_user(app, role=Role.STAFF))
    bad_zone = await client.post(
        "/courses", form={"csrf_token": token, "name": "x", "timezone": "Nowhere"}
    )
    assert bad_zone.status_code == 422
    assert "is not an IANA timezone" in await bad_zone.get_data(as_text=True)
    bad_days = await client.post(
        "/courses", form={"csrf_token": token, "name": "x", "late_days": "lots"}
    )
    assert bad_days.status_code == 422
    assert "late days: a whole number" in await bad_days.get_data(as_text=True)
    assert await count_rows(app, Course) == 0


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"due_at": "soon"}, "is not a date and time"),
        ({"problems": "p1:heavy"}, "weight &#39;heavy&#39; is not a number"),
        ({"late": "2026-02-03T00:00 half"}, "late line 1: write a time and a credit"),
        ({"max_submissions": "many"}, "submission cap: a whole number"),
        ({"problems": ",".join(f"x{n}" for n in range(101))}, "at most 100"),
        (
            {"late": "\n".join(f"2026-02-{n + 2:02d}T00:00 0" for n in range(21))},
            "at most 20 steps",
        ),
    ],
)
async def test_assignment_form_refusals(app: Quart, fields: dict[str, str], message: str) -> None:
    client_api = app.test_client()
    world = await setup_course(app, client_api)
    client, token = await page_client(app, world["teacher"])
    form = {
        "csrf_token": token,
        "name": "W",
        "problems": "p1",
        "release_at": "2026-01-01T00:00",
        "due_at": "2026-02-01T00:00+00:00",
    } | fields
    response = await client.post(f"/courses/{world['course']}/assignments/new", form=form)
    assert response.status_code == 422
    assert message in await response.get_data(as_text=True)
    assert await count_rows(app, Assignment) == 2


async def test_assignment_form_with_blank_late_lines_and_an_offset(app: Quart) -> None:
    world = await setup_course(app, app.test_client())
    client, token = await page_client(app, world["teacher"])
    page = await client.get(f"/courses/{world['course']}/assignments/new")
    assert "Europe" not in await page.get_data(as_text=True)  # the course is in UTC
    form = {
        "csrf_token": token,
        "name": "W",
        "problems": "p1",
        "release_at": "2026-01-01T00:00",
        "due_at": "2026-02-01T00:00+05:00",
        "late": "\n2026-02-03T00:00 0.5\n\n",
        "max_submissions": "3",
    }
    response = await client.post(f"/courses/{world['course']}/assignments/new", form=form)
    assert response.status_code == 303
    course_page = await (await client.get(f"/courses/{world['course']}")).get_data(as_text=True)
    assert "no due time" in course_page


async def test_roster_form_upload_and_limits(app: Quart) -> None:
    world = await setup_course(app, app.test_client())
    client, token = await page_client(app, world["teacher"])
    upload = FileStorage(io.BytesIO(b"email\nnew@school.edu\n"), filename="r.csv")
    response = await client.post(
        f"/courses/{world['course']}/roster",
        form={"csrf_token": token, "action": "preview"},
        files={"file": upload},
    )
    assert "1 to add" in await response.get_data(as_text=True)
    binary = FileStorage(io.BytesIO(b"email\n\xff\n"), filename="r.csv")
    response = await client.post(
        f"/courses/{world['course']}/roster",
        form={"csrf_token": token, "action": "preview"},
        files={"file": binary},
    )
    assert response.status_code == 422
    huge = await client.post(
        f"/courses/{world['course']}/roster",
        form={"csrf_token": token, "action": "preview", "roster": "x" * (2 * 1024 * 1024)},
    )
    assert huge.status_code == 413
    long = await client.post(
        f"/courses/{world['course']}/roster",
        form={"csrf_token": token, "action": "preview", "roster": "x" * 1_200_000},
    )
    assert long.status_code == 422
    assert "longer than 1000000 characters" in await long.get_data(as_text=True)
    roster = await (await client.get(f"/courses/{world['course']}/roster")).get_data(as_text=True)
    assert "ana@school.edu" in roster and "no (pending)" in roster
    ranked = await client.get(f"/courses/{world['course']}/gradebook?sort=total")
    assert ranked.status_code == 200
    # Nobody on this roster has signed in yet: no submissions to list.
    listed = await client.get(f"/assignments/{world['due']}/submissions")
    assert "No submissions yet" in await listed.get_data(as_text=True)
    open_ended = await client.get(f"/assignments/{world['open']}/extensions")
    assert "has no due time: there is nothing to extend" in await open_ended.get_data(as_text=True)
