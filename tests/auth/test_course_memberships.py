"""A roster entry made before someone's first sign-in is theirs from that sign-in on: matched
by e-mail once, then by Google subject, whatever their address becomes."""

from __future__ import annotations

from quart import Quart
from quart.testing import QuartClient
from sqlalchemy import select

from service.db import get_db
from service.models import Role, User
from tests.factories import bearer, token_for, user_with_token
from tests.fakes import FakeProvider, sign_in

SUB = "110169484474386276334"


async def roster_course(app: Quart, client: QuartClient) -> tuple[int, dict[str, str]]:
    """Make a course whose roster lists ada@school.example (pending) and another person."""
    _, teacher = await user_with_token(app, Role.STAFF)
    made = await client.post("/api/v1/courses", json={"name": "C"}, headers=teacher)
    course = int((await made.get_json())["id"])
    roster = "email,name\nADA@school.example,Ada\nbob@school.example,Bob\n"
    response = await client.post(
        f"/api/v1/courses/{course}/roster",
        data=roster.encode(),
        headers={**teacher, "Content-Type": "text/csv"},
    )
    assert response.status_code == 200
    return course, teacher


async def pending(client: QuartClient, course: int, teacher: dict[str, str]) -> dict[str, bool]:
    """Return who on the roster is still pending."""
    roster = await client.get(f"/api/v1/courses/{course}/roster", headers=teacher)
    return {
        m["email"]: m["pending"]
        for m in (await roster.get_json())["items"]
        if m["role"] == "student"
    }


async def test_the_first_sign_in_claims_the_roster_entry(
    app: Quart, client: QuartClient, provider: FakeProvider
) -> None:
    course, teacher = await roster_course(app, client)
    assert await pending(client, course, teacher) == {
        "ada@school.example": True,
        "bob@school.example": True,
    }
    response = await sign_in(app.test_client(), provider)
    assert response.status_code == 302
    assert await pending(client, course, teacher) == {
        "ada@school.example": False,
        "bob@school.example": True,
    }
    # Her address changes at Google: she is still in the course (keyed by subject now).
    provider.claims = {"email": "ada.lovelace@school.example"}
    await sign_in(app.test_client(), provider)
    async with get_db(app).session() as db:
        ada = (await db.execute(select(User).where(User.sub == SUB))).scalar_one()
    assert ada.email == "ada.lovelace@school.example"
    mine = await client.get(f"/api/v1/courses/{course}", headers=bearer(await token_for(app, ada)))
    assert (await mine.get_json())["role"] == "student"
