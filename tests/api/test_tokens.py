"""Personal access tokens: created on the account page (shown once), stored hashed, revoked."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

from quart import Quart
from quart.testing import QuartClient
from sqlalchemy import select, update

from service.auth.api_tokens import MAX_LIVE_TOKENS, NAME_MAX
from service.db import get_db
from service.models import ApiToken, User
from service.models.base import utcnow
from tests.factories import bearer, count_rows, create_user, csrf_token, sign_in_as, token_for

TOKEN = re.compile(r"vdt_[A-Za-z0-9_-]{43}")


async def stored_tokens(app: Quart, user: User) -> list[ApiToken]:
    """Return every token row of ``user``."""
    async with get_db(app).session() as db:
        rows = await db.execute(select(ApiToken).where(ApiToken.user_id == user.id))
        return list(rows.scalars())


async def create_on_page(client: QuartClient, name: str) -> tuple[int, str]:
    """Submit the create form; return the status and the page."""
    token = await csrf_token(client, "/account")
    response = await client.post("/account/tokens", form={"name": name, "csrf_token": token})
    return response.status_code, await response.get_data(as_text=True)


async def test_a_create_form_sent_twice_makes_one_token(app: Quart, client: QuartClient) -> None:
    user = await create_user(app)
    await sign_in_as(client, user)
    page = await (await client.get("/account")).get_data(as_text=True)
    found = re.search(r'name="form_id" value="([^"]+)"', page)
    assert found is not None
    form = {"name": "grader", "form_id": found.group(1), "csrf_token": await csrf_token(client)}

    first = await client.post("/account/tokens", form=form)
    reloaded = await client.post("/account/tokens", form=form)  # what a reload sends

    assert first.status_code == 201
    assert reloaded.status_code == 200
    again = await reloaded.get_data(as_text=True)
    assert "no second token was created" in again
    assert TOKEN.findall(again) == []
    assert len(await stored_tokens(app, user)) == 1
    fresh = re.search(r'name="form_id" value="([^"]+)"', again)
    assert fresh is not None and fresh.group(1) != found.group(1)


async def test_account_page_needs_sign_in(client: QuartClient) -> None:
    response = await client.get("/account")
    assert response.status_code in (302, 303)
    assert "/login" in response.headers["Location"]


async def test_token_is_shown_once_and_stored_hashed(app: Quart, client: QuartClient) -> None:
    user = await create_user(app, name="Ada", email="ada@example.org")
    await sign_in_as(client, user)
    page = await (await client.get("/account")).get_data(as_text=True)
    assert "ada@example.org" in page and "no access tokens" in page

    csrf = await csrf_token(client, "/account")
    response = await client.post("/account/tokens", form={"name": "grader", "csrf_token": csrf})
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    shown = TOKEN.findall(await response.get_data(as_text=True))
    assert len(shown) == 1
    plaintext = shown[0]
    # Never put into a cookie (no flash), never stored in clear.
    assert all(plaintext not in cookie for cookie in response.headers.get_all("Set-Cookie"))
    [row] = await stored_tokens(app, user)
    assert row.name == "grader"
    assert row.token_hash == hashlib.sha256(plaintext.encode()).hexdigest()
    assert row.prefix == plaintext[:8]
    assert row.last_used_at is None and row.revoked_at is None

    again = await (await client.get("/account")).get_data(as_text=True)
    assert plaintext not in again
    assert "grader" in again and row.prefix in again and "never" in again


async def test_token_authenticates_and_records_last_use(app: Quart, client: QuartClient) -> None:
    user = await create_user(app, email="bob@example.org")
    plaintext = await token_for(app, user)

    response = await client.get("/api/v1/me", headers=bearer(plaintext))
    assert response.status_code == 200
    assert (await response.get_json())["email"] == "bob@example.org"
    [row] = await stored_tokens(app, user)
    first_use = row.last_used_at
    assert first_use is not None

    await client.get("/api/v1/me", headers=bearer(plaintext))
    [row] = await stored_tokens(app, user)
    assert row.last_used_at == first_use  # touched at most once a minute

    async with get_db(app).session() as db:
        earlier = utcnow() - timedelta(minutes=2)
        await db.execute(update(ApiToken).where(ApiToken.id == row.id).values(last_used_at=earlier))
        await db.commit()
    await client.get("/api/v1/me", headers=bearer(plaintext))
    [row] = await stored_tokens(app, user)
    assert row.last_used_at is not None and row.last_used_at > earlier


async def test_revoked_token_gets_401_with_challenge(app: Quart, client: QuartClient) -> None:
    user = await create_user(app)
    await sign_in_as(client, user)
    _, page = await create_on_page(client, "laptop")
    plaintext = TOKEN.findall(page)[0]
    [row] = await stored_tokens(app, user)
    assert (await client.get("/api/v1/me", headers=bearer(plaintext))).status_code == 200

    csrf = await csrf_token(client, "/account")
    refused = await client.post(f"/account/tokens/{row.id}/revoke")  # no CSRF token
    assert refused.status_code == 400
    assert (await client.get("/api/v1/me", headers=bearer(plaintext))).status_code == 200

    revoked = await client.post(f"/account/tokens/{row.id}/revoke", form={"csrf_token": csrf})
    assert revoked.status_code == 303
    listing = await (await client.get("/account")).get_data(as_text=True)
    assert "revoked" in listing and "no access tokens" in listing

    response = await client.get("/api/v1/me", headers=bearer(plaintext))
    assert response.status_code == 401
    assert await response.get_json() == {
        "error": "invalid_token",
        "message": response_message(await response.get_json()),
    }
    assert response.headers["WWW-Authenticate"].lower().startswith("bearer")
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    again = await client.post(f"/account/tokens/{row.id}/revoke", form={"csrf_token": csrf})
    assert again.status_code == 404


def response_message(body: dict[str, str]) -> str:
    """Return the message of an error body, checking it says what to do."""
    assert "Bearer" in body["message"]
    return body["message"]


async def test_someone_elses_token_cannot_be_revoked(app: Quart, client: QuartClient) -> None:
    owner = await create_user(app)
    plaintext = await token_for(app, owner)
    [row] = await stored_tokens(app, owner)
    await sign_in_as(client, await create_user(app))
    csrf = await csrf_token(client, "/account")
    response = await client.post(f"/account/tokens/{row.id}/revoke", form={"csrf_token": csrf})
    assert response.status_code == 404
    assert (await client.get("/api/v1/me", headers=bearer(plaintext))).status_code == 200
    big = await client.post(
        "/account/tokens/99999999999999999999/revoke", form={"csrf_token": csrf}
    )
    assert big.status_code == 404


async def test_create_needs_csrf_and_a_good_name(app: Quart, client: QuartClient) -> None:
    await sign_in_as(client, await create_user(app))
    refused = await client.post("/account/tokens", form={"name": "x"})
    assert refused.status_code == 400
    for name in ("", "   ", "n" * (NAME_MAX + 1)):
        status, page = await create_on_page(client, name)
        assert status == 422, name
        assert "flash-error" in page and not TOKEN.search(page)
    assert await count_rows(app, ApiToken) == 0
    status, page = await create_on_page(client, "n" * NAME_MAX)
    assert status == 201


async def test_at_most_twenty_live_tokens(app: Quart, client: QuartClient) -> None:
    user = await create_user(app)
    for number in range(MAX_LIVE_TOKENS):
        await token_for(app, user, f"token {number}")
    await sign_in_as(client, user)
    page = await (await client.get("/account")).get_data(as_text=True)
    assert "the most allowed" in page and 'name="name"' not in page
    status, page = await create_on_page(client, "one too many")
    assert status == 422 and "revoke one" in page
    assert await count_rows(app, ApiToken) == MAX_LIVE_TOKENS

    oldest = min((await stored_tokens(app, user)), key=lambda row: row.id)
    csrf = await csrf_token(client, "/account")
    await client.post(f"/account/tokens/{oldest.id}/revoke", form={"csrf_token": csrf})
    status, _ = await create_on_page(client, "replacement")
    assert status == 201


async def test_disabled_users_token_is_refused(app: Quart, client: QuartClient) -> None:
    user = await create_user(app)
    plaintext = await token_for(app, user)
    async with get_db(app).session() as db:
        await db.execute(update(User).where(User.id == user.id).values(disabled=True))
        await db.commit()
    response = await client.get("/api/v1/me", headers=bearer(plaintext))
    assert response.status_code == 401
    assert (await response.get_json())["error"] == "invalid_token"


async def test_malformed_tokens_are_refused(client: QuartClient) -> None:
    for header in ("Bearer", "Bearer ", "bearer nonsense", "Bearer vdt_unknown", "BEARER x y"):
        response = await client.get("/api/v1/me", headers={"Authorization": header})
        assert response.status_code == 401, header
        assert (await response.get_json())["error"] == "invalid_token", header
