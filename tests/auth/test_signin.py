"""Sign-in through a fake Google: the happy path, the requests sent, and signing out."""

from __future__ import annotations

import base64
import time

import pytest
from quart import Quart
from quart.testing import QuartClient
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from service.auth import signin
from service.auth.id_tokens import Identity
from service.auth.sessions import revoke_all_sessions
from service.db import get_db
from service.models import LoginSession, Role, User
from tests.factories import (
    AppFactory,
    auth_cookie,
    bearer,
    count_sessions,
    create_user,
    csrf_token,
    sign_in_as,
    token_for,
)
from tests.fakes import (
    AUTHORIZE_URL,
    CLIENT_ID,
    CLIENT_SECRET,
    REDIRECT_URI,
    FakeProvider,
    begin_sign_in,
    s256,
    sign_in,
)


async def stored_sessions(app: Quart) -> list[LoginSession]:
    """Return every login session row."""
    async with get_db(app).session() as db:
        return list((await db.execute(select(LoginSession))).scalars())


async def stored_user(app: Quart, sub: str = "110169484474386276334") -> User:
    """Return the user with subject ``sub``."""
    async with get_db(app).session() as db:
        return (await db.execute(select(User).where(User.sub == sub))).scalar_one()


async def test_sign_in_creates_a_session_and_shows_the_user(
    app: Quart, client: QuartClient, provider: FakeProvider
) -> None:
    response = await sign_in(client, provider, "/problems?page=2")

    assert response.status_code == 302
    assert response.headers["Location"] == "/problems?page=2"
    assert auth_cookie(response) is not None
    rows = await stored_sessions(app)
    assert len(rows) == 1
    assert rows[0].revoked_at is None
    assert rows[0].expires_at > rows[0].created_at
    assert (rows[0].expires_at - rows[0].created_at).days == 14
    user = await stored_user(app)
    assert (user.email, user.name, user.role) == (
        "ada@school.example",
        "Ada Lovelace",
        Role.STUDENT,
    )
    assert user.picture == "https://lh3.googleusercontent.com/a/ada"
    assert rows[0].user_id == user.id
    home = await (await client.get("/")).get_data(as_text=True)
    assert "Ada Lovelace" in home


async def test_cookie_holds_an_opaque_id_whose_hash_is_stored(
    app: Quart, client: QuartClient, provider: FakeProvider
) -> None:
    response = await sign_in(client, provider)
    header = auth_cookie(response)
    assert header is not None
    assert "HttpOnly" in header
    assert "SameSite=Lax" in header
    assert "Max-Age=1209600" in header
    assert "Ada" not in header and "ada@" not in header
    token_hashes = [row.token_hash for row in await stored_sessions(app)]
    assert len(token_hashes[0]) == 64
    assert token_hashes[0] not in header


async def test_authorization_url_asks_for_code_flow_with_pkce(
    client: QuartClient, provider: FakeProvider
) -> None:
    response = await client.get("/login")
    assert response.headers["Location"].startswith(AUTHORIZE_URL + "?")
    params = await begin_sign_in(client)
    assert params["response_type"] == "code"
    assert params["client_id"] == CLIENT_ID
    assert params["redirect_uri"] == REDIRECT_URI
    assert params["scope"] == "openid email profile"
    assert params["prompt"] == "select_account"
    assert params["code_challenge_method"] == "S256"
    assert len(params["state"]) >= 32
    assert len(params["nonce"]) >= 32
    assert len(params["code_challenge"]) == 43


async def test_token_request_sends_verifier_redirect_uri_and_basic_auth(
    client: QuartClient, provider: FakeProvider
) -> None:
    params = await begin_sign_in(client)
    provider.nonce = params["nonce"]
    response = await client.get(
        "/login/callback", query_string={"state": params["state"], "code": "the-code"}
    )
    assert response.status_code == 302

    assert provider.token.call_count == 1
    request = provider.token.calls.last.request
    form = FakeProvider.form(request)
    assert form["grant_type"] == "authorization_code"
    assert form["code"] == "the-code"
    assert form["redirect_uri"] == REDIRECT_URI
    assert 43 <= len(form["code_verifier"]) <= 128
    assert s256(form["code_verifier"]) == params["code_challenge"]
    assert "client_secret" not in form
    expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    assert request.headers["Authorization"] == f"Basic {expected}"
    assert request.headers["Content-Type"].startswith("application/x-www-form-urlencoded")


async def test_each_sign_in_gets_a_new_session_id(
    app: Quart, client: QuartClient, provider: FakeProvider
) -> None:
    await sign_in(client, provider)
    await client.post("/logout", form={"csrf_token": await csrf_token(client)})
    await sign_in(client, provider)
    rows = await stored_sessions(app)
    assert len(rows) == 2
    assert rows[0].token_hash != rows[1].token_hash


async def test_two_tabs_can_sign_in_at_once(
    app: Quart, client: QuartClient, provider: FakeProvider
) -> None:
    first = await begin_sign_in(client, "/first")
    second = await begin_sign_in(client, "/second")
    provider.nonce = first["nonce"]
    response = await client.get(
        "/login/callback", query_string={"state": first["state"], "code": "c1"}
    )
    assert response.headers["Location"] == "/first"
    provider.nonce = second["nonce"]
    response = await client.get(
        "/login/callback", query_string={"state": second["state"], "code": "c2"}
    )
    assert response.headers["Location"] == "/second"
    assert await count_sessions(app) == 2


async def test_login_when_signed_in_goes_straight_to_next(
    client: QuartClient, provider: FakeProvider
) -> None:
    await sign_in(client, provider)
    response = await client.get("/login", query_string={"next": "/problems"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/problems"
    assert provider.token.call_count == 1


async def test_profile_is_refreshed_and_user_keyed_by_sub(
    app: Quart, client: QuartClient, provider: FakeProvider
) -> None:
    await sign_in(client, provider)
    await client.post("/logout", form={"csrf_token": await csrf_token(client)})
    provider.claims = {
        "email": "ada.king@school.example",
        "name": "Ada King",
        "picture": "javascript:alert(1)",
    }
    await sign_in(client, provider)
    async with get_db(app).session() as db:
        users = list((await db.execute(select(User))).scalars())
    assert len(users) == 1
    assert (users[0].email, users[0].name, users[0].picture) == (
        "ada.king@school.example",
        "Ada King",
        "",
    )
    assert users[0].last_login_at is not None


async def test_admin_emails_become_admins(make_app: AppFactory, provider: FakeProvider) -> None:
    async with make_app(admin_emails=frozenset({"ada@school.example"})) as app:
        await sign_in(app.test_client(), provider)
        assert (await stored_user(app)).role is Role.ADMIN


async def test_sign_out_revokes_the_session(
    app: Quart, client: QuartClient, provider: FakeProvider
) -> None:
    await sign_in(client, provider)
    response = await client.post("/logout", form={"csrf_token": await csrf_token(client)})

    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    cleared = auth_cookie(response)
    assert cleared is not None and "Max-Age=0" in cleared
    rows = await stored_sessions(app)
    assert rows[0].revoked_at is not None
    assert "Ada Lovelace" not in await (await client.get("/")).get_data(as_text=True)


async def test_sign_out_everywhere_revokes_every_session_of_the_user(
    app: Quart, provider: FakeProvider
) -> None:
    laptop, phone, other = app.test_client(), app.test_client(), app.test_client()
    await sign_in(laptop, provider)
    await sign_in(phone, provider)
    provider.claims = {"sub": "someone-else", "email": "bob@school.example", "name": "Bob"}
    await sign_in(other, provider)
    assert await count_sessions(app, live_only=True) == 3

    response = await laptop.post(
        "/logout/everywhere", form={"csrf_token": await csrf_token(laptop)}
    )

    assert response.status_code == 303
    assert await count_sessions(app, live_only=True) == 1
    assert "Ada Lovelace" not in await (await phone.get("/")).get_data(as_text=True)
    assert "Bob" in await (await other.get("/")).get_data(as_text=True)


async def test_sign_out_everywhere_revokes_the_api_tokens_too(app: Quart) -> None:
    ada, bob = await create_user(app, name="Ada"), await create_user(app, name="Bob")
    laptop = app.test_client()
    await sign_in_as(laptop, ada)
    script = bearer(await token_for(app, ada, "grading script"))
    others = bearer(await token_for(app, bob))
    home = await (await laptop.get("/")).get_data(as_text=True)
    assert "also revokes your API access tokens" in home  # said before anyone presses it

    response = await laptop.post(
        "/logout/everywhere", form={"csrf_token": await csrf_token(laptop)}
    )

    assert response.status_code == 303
    refused = await app.test_client().get("/api/v1/me", headers=script)
    assert refused.status_code == 401
    assert (await refused.get_json())["error"] == "invalid_token"
    assert (await app.test_client().get("/api/v1/me", headers=others)).status_code == 200
    after = await (await laptop.get("/")).get_data(as_text=True)
    assert "1 API access token revoked" in after


async def test_sign_out_of_a_session_already_revoked_just_goes_home(
    app: Quart, client: QuartClient, provider: FakeProvider
) -> None:
    await sign_in(client, provider)
    token = await csrf_token(client)
    async with get_db(app).session() as db:
        await revoke_all_sessions(db, (await stored_user(app)).id)
        await db.commit()
    response = await client.post("/logout", form={"csrf_token": token})
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    assert await count_sessions(app, live_only=True) == 0


async def test_first_sign_in_racing_another_retries_and_finds_the_user(
    app: Quart, client: QuartClient, provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = signin.sign_in_user
    calls = 0

    async def racing(db: AsyncSession, identity: Identity, admins: frozenset[str]) -> User:
        # The first attempt loses the race: another request committed the same user first.
        nonlocal calls
        calls += 1
        if calls == 1:
            async with get_db(app).session() as other:
                await real(other, identity, admins)
                await other.commit()
            raise IntegrityError("INSERT INTO users", {}, Exception("UNIQUE constraint failed"))
        return await real(db, identity, admins)

    monkeypatch.setattr(signin, "sign_in_user", racing)
    response = await sign_in(client, provider)
    assert response.status_code == 302
    assert calls == 2
    assert await count_sessions(app) == 1
    async with get_db(app).session() as db:
        assert len(list((await db.execute(select(User))).scalars())) == 1


ACCEPTED = {
    "email_verified as the string 'true'": {"email_verified": "true"},
    "several audiences with our azp": {"aud": [CLIENT_ID, "other-audience"]},
    "single audience without azp": {"azp": None},
    "issuer without https:// (Google's legacy form)": {"iss": "accounts.google.com"},
    "iat a little ahead (clock skew)": {"iat": int(time.time()) + 30},
    "no name or picture": {"name": None, "picture": None},
}


@pytest.mark.parametrize("changes", ACCEPTED.values(), ids=ACCEPTED.keys())
async def test_valid_token_variants_are_accepted(
    app: Quart, client: QuartClient, provider: FakeProvider, changes: dict[str, object]
) -> None:
    provider.claims = changes
    response = await sign_in(client, provider)
    assert response.status_code == 302, await response.get_data(as_text=True)
    user = await stored_user(app)
    assert user.issuer == "https://accounts.google.com"
    assert user.name in ("Ada Lovelace", "ada@school.example")


async def test_a_single_allowed_domain_is_hinted_to_google(
    make_app: AppFactory, provider: FakeProvider
) -> None:
    async with make_app(allowed_domains=frozenset({"school.example"})) as app:
        params = await begin_sign_in(app.test_client())
        assert params["hd"] == "school.example"
    async with make_app(allowed_domains=frozenset({"a.example", "b.example"})) as app:
        assert "hd" not in await begin_sign_in(app.test_client())
