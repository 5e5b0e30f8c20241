"""The people page: staff see everyone, only admins change roles and disable accounts."""

from __future__ import annotations

import re

import pytest
from quart import Quart
from quart.testing import QuartClient

from service.db import get_db
from service.models import LoginSession, Role, User
from tests.factories import (
    add_problem,
    add_submission,
    count_rows,
    create_user,
    csrf_token,
    get_user,
    minutes,
    sign_in_as,
    signed_in,
)


async def live_sessions(app: Quart, user: User) -> int:
    """Count the user's sessions that are not revoked."""
    return await count_rows(
        app, LoginSession, LoginSession.user_id == user.id, LoginSession.revoked_at.is_(None)
    )


async def test_admin_changes_a_role(app: Quart, client: QuartClient) -> None:
    await signed_in(client, Role.ADMIN)
    token = await csrf_token(client)
    student = await create_user(app, email="sam@school.example")

    response = await client.post(
        f"/admin/users/{student.id}/role", form={"role": "staff", "csrf_token": token}
    )

    assert response.status_code == 302
    assert response.location.startswith("/admin/users")
    assert (await get_user(app, student.id)).role is Role.STAFF
    page = await (await client.get(response.location)).get_data(as_text=True)
    assert "sam@school.example is now staff" in page


async def test_role_change_keeps_the_search(app: Quart, client: QuartClient) -> None:
    await signed_in(client, Role.ADMIN)
    token = await csrf_token(client)
    student = await create_user(app)
    response = await client.post(
        f"/admin/users/{student.id}/role?q=sam", form={"role": "admin", "csrf_token": token}
    )
    assert response.location == "/admin/users?q=sam"
    assert (await get_user(app, student.id)).role is Role.ADMIN


@pytest.mark.parametrize("role", [Role.STUDENT, Role.STAFF])
async def test_only_admins_may_change_roles(app: Quart, client: QuartClient, role: Role) -> None:
    await signed_in(client, role)
    token = await csrf_token(client)
    other = await create_user(app)
    response = await client.post(
        f"/admin/users/{other.id}/role", form={"role": "admin", "csrf_token": token}
    )
    assert response.status_code == 403
    assert (await get_user(app, other.id)).role is Role.STUDENT
    for action in ("disable", "enable"):
        response = await client.post(
            f"/admin/users/{other.id}/{action}", form={"csrf_token": token}
        )
        assert response.status_code == 403
    assert not (await get_user(app, other.id)).disabled


async def test_anonymous_people_are_sent_to_sign_in(app: Quart, client: QuartClient) -> None:
    other = await create_user(app)
    response = await client.get("/admin/users")
    assert response.status_code == 302
    assert response.location.startswith("/login")
    response = await client.post(f"/admin/users/{other.id}/role", form={"role": "admin"})
    assert response.status_code == 400  # no CSRF token: refused before anything else
    assert (await get_user(app, other.id)).role is Role.STUDENT


async def test_role_change_needs_the_csrf_token(app: Quart, client: QuartClient) -> None:
    await signed_in(client, Role.ADMIN)
    other = await create_user(app)
    response = await client.post(f"/admin/users/{other.id}/role", form={"role": "staff"})
    assert response.status_code == 400
    assert (await get_user(app, other.id)).role is Role.STUDENT


async def test_student_cannot_see_people(client: QuartClient) -> None:
    await signed_in(client, Role.STUDENT)
    assert (await client.get("/admin/users")).status_code == 403


async def test_staff_see_people_without_change_forms(app: Quart, client: QuartClient) -> None:
    await signed_in(client, Role.STAFF, email="teacher@school.example")
    student = await create_user(app, email="sam@school.example", name="Sam Student")
    async with get_db(app).session() as db:
        row = await db.get(User, student.id)
        assert row is not None
        row.last_login_at = minutes(0)
        await db.commit()
    problem = await add_problem(app, "alpha")
    for minute in (1, 2, 3):
        await add_submission(app, student, problem, minutes(minute), "WA", 0.0)

    response = await client.get("/admin/users")

    page = await response.get_data(as_text=True)
    assert response.status_code == 200
    row_html = re.search(rf'<tr id="user-{student.id}">(.*?)</tr>', page, re.S)
    assert row_html is not None
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row_html.group(1), re.S)
    assert cells[:3] == [
        "sam@school.example",
        "Sam Student",
        '<span class="badge badge-student">student</span>',
    ]
    assert "active" in cells[3]
    assert "2026-03-02 09:00 UTC" in cells[4]
    assert cells[5] == "3"
    assert "Set role" not in page and "/disable" not in page


async def test_admin_sees_change_forms_but_not_for_themselves(
    app: Quart, client: QuartClient
) -> None:
    admin = await signed_in(client, Role.ADMIN)
    other = await create_user(app, disabled=True)
    page = await (await client.get("/admin/users")).get_data(as_text=True)
    assert f"/admin/users/{other.id}/role" in page
    assert f"/admin/users/{other.id}/enable" in page  # disabled: offered to enable
    assert f"/admin/users/{admin.id}/role" not in page
    assert "never" in page  # the other user never signed in


async def test_search_by_email_or_name_takes_wildcards_literally(
    app: Quart, client: QuartClient
) -> None:
    await signed_in(client, Role.STAFF, email="teacher@school.example")
    await create_user(app, email="ann@school.example", name="Ann Lee")
    await create_user(app, email="bob@school.example", name="Bob Ann-Marie")
    await create_user(app, email="cat_100%@school.example", name="Cat")

    async def listed(query: str) -> list[str]:
        page = await (await client.get("/admin/users", query_string={"q": query})).get_data(
            as_text=True
        )
        return re.findall(r"<td>([^<@]+@school\.example)</td>", page)

    assert await listed("ANN") == ["ann@school.example", "bob@school.example"]
    assert await listed("lee") == ["ann@school.example"]
    assert await listed("%") == ["cat_100%@school.example"]
    assert await listed("_") == ["cat_100%@school.example"]
    assert await listed("nobody") == []


async def test_people_are_paginated(app: Quart, client: QuartClient) -> None:
    await signed_in(client, Role.STAFF, email="aaa-teacher@school.example")
    async with get_db(app).session() as db:
        for number in range(60):
            db.add(User(sub=f"bulk-{number}", email=f"bulk{number:02d}@school.example"))
        await db.commit()

    first = await (await client.get("/admin/users")).get_data(as_text=True)
    second = await (await client.get("/admin/users?page=2")).get_data(as_text=True)
    beyond = await (await client.get("/admin/users?page=99")).get_data(as_text=True)
    junk = await (await client.get("/admin/users?page=x")).get_data(as_text=True)

    assert "61 people" in first and "Page 1 of 2" in first
    assert first.count('<tr id="user-') == 50
    assert second.count('<tr id="user-') == 11 and "Page 2 of 2" in second
    assert 'rel="prev"' in second and 'rel="next"' not in second
    assert "Page 2 of 2" in beyond
    assert "Page 1 of 2" in junk


async def test_odd_page_numbers_mean_the_first_page(app: Quart, client: QuartClient) -> None:
    await signed_in(client, Role.STAFF, email="aaa-teacher@school.example")
    async with get_db(app).session() as db:
        for number in range(60):
            db.add(User(sub=f"bulk-{number}", email=f"bulk{number:02d}@school.example"))
        await db.commit()
    # "²" passes str.isdigit() but not int(); 5000 digits pass neither int() nor any page.
    for page in ("%C2%B2", "%D9%A3", "9" * 5000, "0", "-1"):
        response = await client.get(f"/admin/users?page={page}")
        assert response.status_code == 200, page
        assert "Page 1 of 2" in await response.get_data(as_text=True), page
    last = await (await client.get("/admin/users?page=0002")).get_data(as_text=True)
    assert "Page 2 of 2" in last


async def test_admin_cannot_demote_themselves(app: Quart, client: QuartClient) -> None:
    admin = await signed_in(client, Role.ADMIN, email="root@school.example")
    token = await csrf_token(client)
    twin = await create_user(app, email="ROOT@school.example", role=Role.ADMIN)
    for target in (admin, twin):  # another account with the same address is oneself too
        response = await client.post(
            f"/admin/users/{target.id}/role", form={"role": "staff", "csrf_token": token}
        )
        assert response.status_code == 400
        assert "cannot remove your own admin role" in await response.get_data(as_text=True)
        assert (await get_user(app, target.id)).role is Role.ADMIN
    response = await client.post(
        f"/admin/users/{admin.id}/role", form={"role": "admin", "csrf_token": token}
    )
    assert response.status_code == 302  # keeping one's own admin role is allowed


async def test_unknown_role_and_unknown_user_are_refused(app: Quart, client: QuartClient) -> None:
    await signed_in(client, Role.ADMIN)
    token = await csrf_token(client)
    other = await create_user(app)
    response = await client.post(
        f"/admin/users/{other.id}/role", form={"role": "owner", "csrf_token": token}
    )
    assert response.status_code == 400
    assert "student, staff, admin" in await response.get_data(as_text=True)
    assert (await get_user(app, other.id)).role is Role.STUDENT
    response = await client.post(
        "/admin/users/99999/role", form={"role": "staff", "csrf_token": token}
    )
    assert response.status_code == 404
    response = await client.post("/admin/users/99999/disable", form={"csrf_token": token})
    assert response.status_code == 404


async def test_disabling_signs_the_person_out_and_enabling_lets_them_back(
    app: Quart, client: QuartClient
) -> None:
    await signed_in(client, Role.ADMIN)
    token = await csrf_token(client)
    staff = await create_user(app, role=Role.STAFF, email="tess@school.example")
    their_client = app.test_client()
    await sign_in_as(their_client, staff)
    assert (await their_client.get("/admin/users")).status_code == 200

    response = await client.post(f"/admin/users/{staff.id}/disable", form={"csrf_token": token})

    assert response.status_code == 302
    assert (await get_user(app, staff.id)).disabled
    assert await live_sessions(app, staff) == 0
    assert (await their_client.get("/admin/users")).status_code == 302  # signed out
    page = await (await client.get("/admin/users")).get_data(as_text=True)
    assert "tess@school.example is disabled and signed out" in page

    response = await client.post(f"/admin/users/{staff.id}/enable", form={"csrf_token": token})
    assert response.status_code == 302
    assert not (await get_user(app, staff.id)).disabled


async def test_admin_cannot_disable_themselves(app: Quart, client: QuartClient) -> None:
    admin = await signed_in(client, Role.ADMIN)
    token = await csrf_token(client)
    for action in ("disable", "enable"):
        response = await client.post(
            f"/admin/users/{admin.id}/{action}", form={"csrf_token": token}
        )
        assert response.status_code == 400
    assert not (await get_user(app, admin.id)).disabled
    assert await live_sessions(app, admin) == 1
