"""Server-side sessions seen from the browser: dead cookies, disabled users, guards, flags."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

from quart import Quart, websocket
from quart.testing import QuartClient
from sqlalchemy import select, update

from service.auth import (
    current_account,
    get_auth_state,
    init_app,
    login_required,
    staff_required,
)
from service.config import SETTINGS_KEY
from service.db import get_db
from service.models import LoginSession, Role, User
from service.models.base import utcnow
from tests.factories import AppFactory, auth_cookie, cookie_value, count_sessions, csrf_token
from tests.fakes import FakeProvider, sign_in

NAME = "Ada Lovelace"


async def page(client: QuartClient, cookie: str | None = None, path: str = "/") -> tuple[str, str]:
    """GET ``path`` (optionally with a raw sign-in cookie); return body and Set-Cookie header."""
    headers = {"Cookie": f"verdict_auth={cookie}"} if cookie is not None else None
    response = await client.get(path, headers=headers)
    return await response.get_data(as_text=True), auth_cookie(response) or ""


async def change(app: Quart, *statements: object) -> None:
    """Run update statements against the app's database."""
    async with get_db(app).session() as db:
        for statement in statements:
            await db.execute(statement)  # type: ignore[call-overload]
        await db.commit()


async def test_cookie_replayed_by_another_client_is_the_same_session(
    app: Quart, client: QuartClient, provider: FakeProvider
) -> None:
    cookie = cookie_value(await sign_in(client, provider))
    body, set_cookie = await page(app.test_client(use_cookies=False), cookie)
    assert NAME in body
    assert set_cookie == ""


async def test_tampered_cookie_is_anonymous_and_deleted(
    app: Quart, client: QuartClient, provider: FakeProvider
) -> None:
    cookie = cookie_value(await sign_in(client, provider))
    tampered = cookie[:-2] + ("A" if cookie[-2] != "A" else "B") + cookie[-1]
    body, set_cookie = await page(app.test_client(use_cookies=False), tampered)
    assert NAME not in body
    assert "Max-Age=0" in set_cookie


async def test_forged_cookie_with_a_guessed_id_is_anonymous(
    app: Quart, client: QuartClient, provider: FakeProvider
) -> None:
    await sign_in(client, provider)
    extension = app.extensions["QUART_AUTH"][0]
    forged = extension.dump_token("guessed-session-id", app=app)
    body, set_cookie = await page(app.test_client(use_cookies=False), forged)
    assert NAME not in body
    assert "Max-Age=0" in set_cookie


async def test_revoked_session_cookie_reused_is_anonymous(
    app: Quart, client: QuartClient, provider: FakeProvider
) -> None:
    cookie = cookie_value(await sign_in(client, provider))
    await client.post("/logout", form={"csrf_token": await csrf_token(client)})
    body, set_cookie = await page(app.test_client(use_cookies=False), cookie)
    assert NAME not in body
    assert "Max-Age=0" in set_cookie


async def test_expired_session_is_anonymous(
    app: Quart, client: QuartClient, provider: FakeProvider
) -> None:
    await sign_in(client, provider)
    await change(app, update(LoginSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    body, set_cookie = await page(client)
    assert NAME not in body
    assert "Max-Age=0" in set_cookie


async def test_disabled_user_is_signed_out_at_the_next_request(
    app: Quart, client: QuartClient, provider: FakeProvider
) -> None:
    await sign_in(client, provider)
    assert NAME in (await page(client))[0]
    await change(app, update(User).values(disabled=True))
    body, set_cookie = await page(client)
    assert NAME not in body
    assert "Max-Age=0" in set_cookie


async def test_disabled_user_cannot_sign_in_again(
    app: Quart, client: QuartClient, provider: FakeProvider
) -> None:
    await sign_in(client, provider)
    await client.post("/logout", form={"csrf_token": await csrf_token(client)})
    await change(app, update(User).values(disabled=True))
    response = await sign_in(client, provider)
    assert response.status_code == 403
    assert "disabled" in await response.get_data(as_text=True)
    assert await count_sessions(app) == 1
    assert auth_cookie(response) is None


async def test_same_subject_from_another_issuer_is_refused(
    app: Quart, client: QuartClient, provider: FakeProvider
) -> None:
    await sign_in(client, provider)
    await client.post("/logout", form={"csrf_token": await csrf_token(client)})
    await change(app, update(User).values(issuer="https://other-idp.example"))
    response = await sign_in(client, provider)
    assert response.status_code == 403
    assert await count_sessions(app) == 1


async def test_logout_without_csrf_token_is_refused_and_session_stays(
    app: Quart, client: QuartClient, provider: FakeProvider
) -> None:
    await sign_in(client, provider)
    response = await client.post("/logout")
    assert response.status_code == 400
    assert await count_sessions(app, live_only=True) == 1
    assert NAME in (await page(client))[0]


async def test_last_seen_is_refreshed_at_most_every_few_minutes(
    app: Quart, client: QuartClient, provider: FakeProvider
) -> None:
    await sign_in(client, provider)
    recent = utcnow() - timedelta(minutes=1)
    await change(app, update(LoginSession).values(last_seen_at=recent))
    await page(client)
    async with get_db(app).session() as db:
        seen = (await db.execute(select(LoginSession.last_seen_at))).scalar_one()
    assert seen == recent

    stale = utcnow() - timedelta(minutes=10)
    await change(app, update(LoginSession).values(last_seen_at=stale))
    await page(client)
    async with get_db(app).session() as db:
        seen = (await db.execute(select(LoginSession.last_seen_at))).scalar_one()
    assert seen > utcnow() - timedelta(minutes=1)


async def test_user_agent_is_recorded(
    app: Quart, client: QuartClient, provider: FakeProvider
) -> None:
    await sign_in(client, provider, headers={"User-Agent": "Firefox/140 " + "x" * 600})
    async with get_db(app).session() as db:
        agent = (await db.execute(select(LoginSession.user_agent))).scalar_one()
    assert agent.startswith("Firefox/140 ")
    assert len(agent) == 512


def _guarded_routes(app: Quart) -> None:
    @login_required
    async def private() -> str:
        return "private page"

    @staff_required
    async def staff_only() -> str:
        return "staff page"

    app.add_url_rule("/private", "private", private)
    app.add_url_rule("/staff", "staff", staff_only)
    app.add_url_rule("/api/v1/private", "api_private", private)


Setup = Callable[[Quart], None]


async def test_signed_out_browser_is_sent_to_login_with_next(make_app: AppFactory) -> None:
    async with make_app(setup=_guarded_routes) as app:
        response = await app.test_client().get("/private", query_string={"tab": "2"})
        assert response.status_code == 302
        assert response.headers["Location"] == "/login?next=/private?tab%3D2"


async def test_signed_out_api_call_gets_json_401(make_app: AppFactory) -> None:
    async with make_app(setup=_guarded_routes) as app:
        response = await app.test_client().get("/api/v1/private")
        assert response.status_code == 401
        assert (await response.get_json())["error"] == "unauthorized"


async def test_staff_only_pages(make_app: AppFactory, provider: FakeProvider) -> None:
    async with make_app(setup=_guarded_routes) as app:
        client = app.test_client()
        assert (await client.get("/staff")).status_code == 302
        await sign_in(client, provider)
        assert (await client.get("/private")).status_code == 200
        assert (await client.get("/staff")).status_code == 403
        await change(app, update(User).values(role=Role.STAFF))
        response = await client.get("/staff")
        assert response.status_code == 200
        assert await response.get_data(as_text=True) == "staff page"


async def test_https_deployment_sets_secure_host_only_cookies(
    make_app: AppFactory, provider: FakeProvider
) -> None:
    async with make_app(public_url="https://verdict.example") as app:
        client = app.test_client()
        response = await sign_in(client, provider, scheme="https")
        assert response.status_code == 302
        cookie = auth_cookie(response)
        assert cookie is not None
        assert cookie.startswith("__Host-verdict_auth=")
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
        assert "Domain" not in cookie
        flow_cookie = next(
            h for h in response.headers.get_all("Set-Cookie") if h.startswith("session=")
        )
        assert "Secure" in flow_cookie and "SameSite=Lax" in flow_cookie
        form = provider.form(provider.token.calls.last.request)
        assert form["redirect_uri"] == "https://verdict.example/login/callback"


def _live_route(app: Quart) -> None:
    async def live() -> None:
        account = await current_account()
        await websocket.send(account.name if account else "anonymous")

    app.websocket("/live")(live)


async def test_websocket_sees_the_session_and_ignores_a_dead_one(
    make_app: AppFactory, provider: FakeProvider
) -> None:
    async with make_app(setup=_live_route) as app:
        client = app.test_client()
        cookie = cookie_value(await sign_in(client, provider))
        raw = app.test_client(use_cookies=False)
        headers = {"Cookie": f"verdict_auth={cookie}"}
        async with raw.websocket("/live", headers=headers) as socket:
            assert await socket.receive() == NAME
        await client.post("/logout", form={"csrf_token": await csrf_token(client)})
        async with raw.websocket("/live", headers=headers) as socket:
            assert await socket.receive() == "anonymous"


async def test_static_files_skip_the_session_lookup(
    app: Quart, client: QuartClient, provider: FakeProvider
) -> None:
    cookie = cookie_value(await sign_in(client, provider))
    await client.post("/logout", form={"csrf_token": await csrf_token(client)})
    raw = app.test_client(use_cookies=False)
    response = await raw.get("/static/verdict.css", headers={"Cookie": f"verdict_auth={cookie}"})
    assert response.status_code == 200
    assert auth_cookie(response) is None
    _body, set_cookie = await page(raw, cookie)
    assert "Max-Age=0" in set_cookie


async def test_init_app_accepts_explicit_settings(make_app: AppFactory) -> None:
    async with make_app() as app:
        settings = get_auth_state(app).settings
    fresh = Quart(__name__)
    fresh.config[SETTINGS_KEY] = replace(settings, public_url="https://judge.example")
    state = init_app(fresh)
    assert state.settings.redirect_uri == "https://judge.example/login/callback"
    assert fresh.extensions["QUART_AUTH"][0].cookie_name == "__Host-verdict_auth"
    assert fresh.config["SESSION_COOKIE_SECURE"] is True
