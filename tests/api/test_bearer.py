"""Bearer tokens authenticate API requests only, and never let a request ride the cookie."""

from __future__ import annotations

from quart import Quart
from quart.testing import QuartClient

from service.models import Role, Submission
from tests.factories import (
    HELLO_PY,
    bearer,
    count_rows,
    create_user,
    csrf_token,
    import_example,
    sign_in_as,
    token_for,
)

SUBMISSION = {"problem": "hello", "language": "python3", "source": HELLO_PY}


async def test_junk_bearer_does_not_ride_the_cookie(app: Quart, client: QuartClient) -> None:
    # A cross-site page can add any Authorization header; with a junk token the request skips
    # the CSRF check, so it must not fall back to the browser's session cookie.
    await import_example(app, "hello")
    await sign_in_as(client, await create_user(app))
    junk = bearer("vdt_forged")
    response = await client.post("/api/v1/submissions", json=SUBMISSION, headers=junk)
    assert response.status_code == 401
    assert (await response.get_json())["error"] == "invalid_token"
    assert await count_rows(app, Submission) == 0
    me = await client.get("/api/v1/me", headers=junk)
    assert me.status_code == 401


async def test_valid_bearer_wins_over_the_cookie(app: Quart, client: QuartClient) -> None:
    await sign_in_as(client, await create_user(app, email="cookie@example.org"))
    token_owner = await create_user(app, email="token@example.org")
    response = await client.get("/api/v1/me", headers=bearer(await token_for(app, token_owner)))
    assert (await response.get_json())["email"] == "token@example.org"
    # And the cookie is left alone for the browser.
    assert not any("verdict_auth" in c for c in response.headers.get_all("Set-Cookie"))
    assert (await (await client.get("/api/v1/me")).get_json())["email"] == "cookie@example.org"


async def test_bearer_is_ignored_outside_the_api(app: Quart, client: QuartClient) -> None:
    user = await create_user(app, name="Ada")
    plaintext = await token_for(app, user)
    page = await client.get("/account", headers=bearer(plaintext))
    assert page.status_code in (302, 303)  # not signed in by the token

    # Nor does a Bearer header excuse a form from its CSRF token.
    await sign_in_as(client, user)
    logout = await client.post("/logout", headers=bearer("whatever"))
    assert logout.status_code == 400
    assert "Ada" in await (await client.get("/")).get_data(as_text=True)
    create = await client.post("/account/tokens", form={"name": "x"}, headers=bearer(plaintext))
    assert create.status_code == 400


async def test_cookie_session_on_the_api_needs_csrf(app: Quart, client: QuartClient) -> None:
    await import_example(app, "hello")
    await sign_in_as(client, await create_user(app))
    assert (await client.get("/api/v1/me")).status_code == 200
    refused = await client.post("/api/v1/submissions", json=SUBMISSION)
    assert refused.status_code == 400
    assert (await refused.get_json())["error"] == "csrf_failed"
    assert await count_rows(app, Submission) == 0
    token = await csrf_token(client, "/account")
    accepted = await client.post(
        "/api/v1/submissions", json=SUBMISSION, headers={"X-CSRF-Token": token}
    )
    assert accepted.status_code == 202
    assert await count_rows(app, Submission) == 1


async def test_anonymous_api_calls_get_json_401(client: QuartClient) -> None:
    for path in ("/api/v1/me", "/api/v1/problems", "/api/v1/submissions", "/api/v1/submissions/1"):
        response = await client.get(path)
        assert response.status_code == 401, path
        assert await response.get_json() == {
            "error": "unauthorized",
            "message": "Sign in first, then retry.",
        }
    # Without a token or a session there is nothing a forged request could ride on: 401.
    response = await client.post("/api/v1/submissions/1/rejudge")
    assert response.status_code == 401
    assert (await response.get_json())["error"] == "unauthorized"


async def test_a_session_api_post_without_csrf_is_refused(app: Quart, client: QuartClient) -> None:
    await sign_in_as(client, await create_user(app, role=Role.STAFF))
    response = await client.post("/api/v1/submissions/1/rejudge")
    assert response.status_code == 400
    assert (await response.get_json())["error"] == "csrf_failed"


async def test_staff_routes_need_staff_tokens(app: Quart, client: QuartClient) -> None:
    student = await create_user(app, role=Role.STUDENT)
    response = await client.post(
        "/api/v1/submissions/1/rejudge", headers=bearer(await token_for(app, student))
    )
    assert response.status_code == 403
    assert (await response.get_json())["error"] == "forbidden"
    staff = await create_user(app, role=Role.STAFF)
    response = await client.post(
        "/api/v1/submissions/1/rejudge", headers=bearer(await token_for(app, staff))
    )
    assert response.status_code == 404
    assert (await response.get_json())["error"] == "no_such_submission"
