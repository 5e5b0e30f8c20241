"""CSRF tokens on state-changing requests, security headers, cookie flags."""

from __future__ import annotations

import pytest
from quart import Quart
from quart.testing import QuartClient

from service.config import Environment
from service.security import csrf_exempt
from tests.factories import AppFactory, create_user, csrf_token, sign_in_as

PRODUCTION = {
    "env": Environment.PRODUCTION,
    "public_url": "https://judge.example.org",
    "secret_key": "x" * 48,
}


def add_post_routes(app: Quart) -> None:
    """Add a protected POST view, an exempt one and an API one."""

    async def change() -> str:
        return "changed"

    @csrf_exempt
    async def webhook() -> str:
        return "accepted"

    app.add_url_rule("/change", "change", change, methods=["POST"])
    app.add_url_rule("/webhook", "webhook", webhook, methods=["POST"])
    app.add_url_rule("/api/v1/change", "api_change", change, methods=["POST", "PUT", "DELETE"])


@pytest.fixture
async def guarded(make_app: AppFactory) -> Quart:
    async with make_app(add_post_routes) as app:
        yield app


async def test_headers_on_every_response(client: QuartClient) -> None:
    for path in ("/", "/healthz", "/no/such/page", "/static/verdict.css"):
        headers = (await client.get(path)).headers
        csp = headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp
        assert "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert "base-uri 'none'" in csp
        assert "img-src 'self' https: data:" in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert "Strict-Transport-Security" not in headers


async def test_hsts_in_production(make_app: AppFactory) -> None:
    async with make_app(**PRODUCTION) as app:
        response = await app.test_client().get("/healthz")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert "includeSubDomains" in response.headers["Strict-Transport-Security"]


async def test_post_without_token_is_refused(guarded: Quart) -> None:
    client = guarded.test_client()
    response = await client.post("/change", form={"x": "1"})
    assert response.status_code == 400
    assert "CSRF token missing or wrong" in await response.get_data(as_text=True)


async def test_post_with_wrong_token_is_refused(guarded: Quart) -> None:
    client = guarded.test_client()
    await sign_in_as(client, await create_user(guarded))
    assert await csrf_token(client)  # the session has a token, but not this one
    response = await client.post("/change", form={"csrf_token": "forged"})
    assert response.status_code == 400


async def test_token_from_another_session_is_refused(guarded: Quart) -> None:
    alice, mallory = guarded.test_client(), guarded.test_client()
    for client in (alice, mallory):
        await sign_in_as(client, await create_user(guarded))
    stolen = await csrf_token(mallory)
    await csrf_token(alice)
    response = await alice.post("/change", form={"csrf_token": stolen})
    assert response.status_code == 400


async def test_post_with_form_token_passes(guarded: Quart) -> None:
    client = guarded.test_client()
    await sign_in_as(client, await create_user(guarded))
    token = await csrf_token(client)
    response = await client.post("/change", form={"csrf_token": token})
    assert response.status_code == 200
    assert await response.get_data(as_text=True) == "changed"


async def test_header_token_passes_for_every_unsafe_method(guarded: Quart) -> None:
    client = guarded.test_client()
    await sign_in_as(client, await create_user(guarded))
    token = await csrf_token(client)
    for method in ("POST", "PUT", "DELETE"):
        response = await client.open(
            "/api/v1/change", method=method, headers={"X-CSRF-Token": token}, json={}
        )
        assert response.status_code == 200, method
        refused = await client.open("/api/v1/change", method=method, json={})
        assert refused.status_code == 400, method


async def test_api_csrf_failure_is_json(guarded: Quart) -> None:
    client = guarded.test_client()
    await sign_in_as(client, await create_user(guarded))
    response = await client.post("/api/v1/change", json={"a": 1})
    assert response.status_code == 400
    body = await response.get_json()
    assert body["error"] == "csrf_failed"
    assert "CSRF token missing or wrong" in body["message"]


async def test_exempt_view_and_bearer_requests_skip_the_check(guarded: Quart) -> None:
    client = guarded.test_client()
    assert (await client.post("/webhook")).status_code == 200
    response = await client.post("/api/v1/change", headers={"Authorization": "Bearer abc"})
    assert response.status_code == 200


async def test_logout_requires_token(app: Quart, client: QuartClient) -> None:
    await sign_in_as(client, await create_user(app, name="Ada"))
    refused = await client.post("/logout")
    assert refused.status_code == 400
    assert "Ada" in await (await client.get("/")).get_data(as_text=True)  # still signed in
    done = await client.post("/logout", form={"csrf_token": await csrf_token(client)})
    assert done.status_code == 303
    assert "Sign in with Google" in await (await client.get("/")).get_data(as_text=True)


async def test_unknown_url_gets_404_not_csrf_error(client: QuartClient) -> None:
    assert (await client.post("/no/such/page")).status_code == 404


@pytest.mark.parametrize(
    ("overrides", "secure"),
    [({}, False), ({"public_url": "https://judge.example.org"}, True), (PRODUCTION, True)],
)
async def test_session_cookie_flags(
    make_app: AppFactory, overrides: dict[str, object], secure: bool
) -> None:
    async with make_app(**overrides) as app:
        client = app.test_client()
        await sign_in_as(client, await create_user(app))
        response = await client.get("/")  # renders the logout form: stores a CSRF token
    cookies = [c for c in response.headers.get_all("Set-Cookie") if c.startswith("session=")]
    assert len(cookies) == 1
    flags = [part.strip().lower() for part in cookies[0].split(";")]
    assert "httponly" in flags
    assert "samesite=lax" in flags
    assert ("secure" in flags) is secure
