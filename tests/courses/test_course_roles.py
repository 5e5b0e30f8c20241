"""The course-role matrix: every course route against outsider, student, TA, teacher, admin.

The global matrix (tests/test_permissions.py) covers anonymous/student/staff/admin; this
table covers the roles inside one course. The outsider is global staff who teaches another
course: being staff elsewhere gives nothing here. TAs see their own section's students only,
and grant extensions only where the teacher allows it.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from quart import Quart
from quart.testing import QuartClient

from service.db import get_db
from service.models import Course, Role
from service.models.base import utcnow
from tests.factories import add_problem, bearer, create_user, token_for

ROLES = ("outsider", "student", "ta", "teacher", "admin")
NUMBERS = itertools.count(1)


@dataclass(frozen=True)
class Row:
    """A course route with the status each course role gets."""

    method: str
    path: str
    expected: tuple[int, int, int, int, int]
    body: Callable[[str], dict[str, Any]] | None = None


def later(days: int) -> str:
    """Return the ISO time ``days`` from now."""
    return (utcnow() + timedelta(days=days)).isoformat()


def roster(role: str) -> dict[str, Any]:
    """Return a roster upload adding a new person."""
    text = f"email,section\nnew-{role}-{next(NUMBERS)}@school.edu,A\n"
    return {"data": text.encode(), "headers": {"Content-Type": "text/csv"}}


def assignment(role: str) -> dict[str, Any]:
    """Return a new assignment of p1."""
    body = {"name": f"A {role}", "problems": ["p1"], "release_at": later(-1), "due_at": later(1)}
    return {"json": body}


def extension_for(email: str) -> Callable[[str], dict[str, Any]]:
    """Return an extension for ``email``."""
    return lambda role: {
        "json": {"students": [email], "due_at": later(9), "reason": f"asked by {role}"}
    }


def override(role: str) -> dict[str, Any]:
    """Return an override for the section-A student."""
    return {"json": {"email": "a1@school.edu", "credit": 0.5, "reason": role}}


def settings(role: str) -> dict[str, Any]:
    """Return a settings change."""
    return {"json": {"late_days": 2}}


def timeline(role: str) -> dict[str, Any]:
    """Return a timeline change (the same due time, no late steps)."""
    return {"json": {"late": []}}


ROWS = (
    Row("GET", "/api/v1/courses/{course}", (404, 200, 200, 200, 200)),
    Row("POST", "/api/v1/courses/{course}/roster", (404, 403, 403, 200, 200), roster),
    Row("GET", "/api/v1/courses/{course}/roster", (404, 403, 200, 200, 200)),
    Row("POST", "/api/v1/courses/{course}/assignments", (404, 403, 403, 201, 201), assignment),
    Row("GET", "/api/v1/courses/{course}/assignments", (404, 200, 200, 200, 200)),
    Row("GET", "/api/v1/assignments/{assignment}", (404, 200, 200, 200, 200)),
    Row("GET", "/api/v1/assignments/{unreleased}", (404, 404, 200, 200, 200)),
    # The course lets TAs extend, for the students of their own section (A).
    Row(
        "POST",
        "/api/v1/assignments/{assignment}/extensions",
        (404, 403, 201, 201, 201),
        extension_for("a1@school.edu"),
    ),
    Row(
        "POST",
        "/api/v1/assignments/{assignment}/extensions",
        (404, 403, 403, 201, 201),
        extension_for("b1@school.edu"),
    ),
    Row(
        "POST",
        "/api/v1/assignments/{assignment}/overrides",
        (404, 403, 403, 201, 201),
        override,
    ),
    Row("GET", "/api/v1/assignments/{assignment}/grades", (404, 200, 200, 200, 200)),
    Row("GET", "/api/v1/courses/{course}/gradebook.csv", (404, 403, 200, 200, 200)),
    Row("GET", "/api/v1/courses/{course}/canvas.csv", (404, 403, 200, 200, 200)),
    Row("GET", "/api/v1/courses/{course}/audit", (404, 403, 403, 200, 200)),
    Row("PATCH", "/api/v1/courses/{course}", (404, 403, 403, 200, 200), settings),
    Row("PATCH", "/api/v1/assignments/{assignment}", (404, 403, 403, 200, 200), timeline),
    Row(
        "DELETE",
        "/api/v1/courses/{course}/roster/gone-{role}@school.edu",
        (404, 403, 403, 200, 200),
    ),
    # Open enrolment last: it makes the outsider a student.
    Row("POST", "/api/v1/courses/{course}/enrol", (200, 200, 200, 200, 200)),
)


async def build(
    app: Quart, client: QuartClient
) -> tuple[dict[str, dict[str, str]], dict[str, int]]:
    """Make the course, its people (one TA of section A) and two assignments."""
    await add_problem(app, "p1")
    users = {
        "outsider": await create_user(app, role=Role.STAFF),
        "teacher": await create_user(app, role=Role.STAFF, email="teach@school.edu"),
        "admin": await create_user(app, role=Role.ADMIN),
        "student": await create_user(app, email="a1@school.edu"),
        "ta": await create_user(app, email="ta@school.edu"),
    }
    headers = {role: bearer(await token_for(app, user)) for role, user in users.items()}
    created = await client.post(
        "/api/v1/courses", json={"name": "C", "ta_may_extend": True}, headers=headers["teacher"]
    )
    course = (await created.get_json())["id"]
    await client.patch(
        f"/api/v1/courses/{course}", json={"self_enrol": True}, headers=headers["teacher"]
    )
    await client.post("/api/v1/courses", json={"name": "Elsewhere"}, headers=headers["outsider"])
    text = (
        "email,section,role\na1@school.edu,A,student\nb1@school.edu,B,student\nta@school.edu,A,ta\n"
        + "".join(f"gone-{role}@school.edu,B,student\n" for role in ROLES)
    )
    response = await client.post(
        f"/api/v1/courses/{course}/roster",
        data=text.encode(),
        headers={**headers["teacher"], "Content-Type": "text/csv"},
    )
    assert response.status_code == 200
    ids = {"course": course}
    for name, release in (("assignment", -1), ("unreleased", 5)):
        body = {"name": name, "problems": ["p1"], "release_at": later(release), "due_at": later(6)}
        made = await client.post(
            f"/api/v1/courses/{course}/assignments", json=body, headers=headers["teacher"]
        )
        ids[name] = (await made.get_json())["id"]
    return headers, ids


async def test_course_role_matrix(app: Quart, client: QuartClient) -> None:
    headers, ids = await build(app, client)
    mismatches = []
    for row in ROWS:
        for role, expected in zip(ROLES, row.expected, strict=True):
            kwargs = row.body(role) if row.body is not None else {}
            extra = kwargs.pop("headers", {})
            response = await client.open(
                row.path.format(**ids, role=role),
                method=row.method,
                headers={**headers[role], **extra},
                **kwargs,
            )
            if response.status_code != expected:
                body = await response.get_data(as_text=True)
                mismatches.append(
                    f"{row.method} {row.path} as {role}: expected {expected}, "
                    f"got {response.status_code} {body[:120]}"
                )
    assert not mismatches, "\n".join(mismatches)


async def test_a_ta_sees_only_their_sections_grades(app: Quart, client: QuartClient) -> None:
    headers, ids = await build(app, client)
    response = await client.get(
        f"/api/v1/assignments/{ids['assignment']}/grades", headers=headers["ta"]
    )
    assert [row["email"] for row in await response.get_json()] == ["a1@school.edu"]
    exported = await client.get(
        f"/api/v1/courses/{ids['course']}/gradebook.csv", headers=headers["ta"]
    )
    rows = list(csv.DictReader(io.StringIO(await exported.get_data(as_text=True))))
    assert [row["email"] for row in rows] == ["a1@school.edu"]
    teacher = await client.get(
        f"/api/v1/assignments/{ids['assignment']}/grades", headers=headers["teacher"]
    )
    everyone = [row["email"] for row in await teacher.get_json()]
    assert everyone[:2] == ["a1@school.edu", "b1@school.edu"]
    assert len(everyone) == 2 + len(ROLES)


async def test_tas_extend_nothing_unless_the_teacher_allows_it(
    app: Quart, client: QuartClient
) -> None:
    headers, ids = await build(app, client)
    async with get_db(app).session() as db:
        course = await db.get(Course, ids["course"])
        assert course is not None
        course.ta_may_extend = False
        await db.commit()
    response = await client.post(
        f"/api/v1/assignments/{ids['assignment']}/extensions",
        **extension_for("a1@school.edu")("ta"),
        headers=headers["ta"],
    )
    assert response.status_code == 403
    assert "teachers" in (await response.get_json())["message"]
