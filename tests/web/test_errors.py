"""Error pages for people, JSON errors for the API, and never a traceback."""

from __future__ import annotations

import asyncio

import pytest
from quart import Quart, abort
from quart.testing import WebsocketResponseError

from service.config import Environment
from service.models import Role
from tests.factories import AppFactory, create_user, sign_in_as


def add_failing_routes(app: Quart) -> None:
    """Add views that fail in each way an error page must handle."""

    async def crash() -> str:
        raise RuntimeError("secret detail: database password is hunter2")

    async def refuse(code: int) -> str:
        abort(code)

    async def explain() -> str:
        abort(403, "Only the problem's author can do this.")

    for prefix in ("", "/api/v1"):
        app.add_url_rule(f"{prefix}/crash", f"crash{prefix}", crash)
        app.add_url_rule(f"{prefix}/refuse/<int:code>", f"refuse{prefix}", refuse)
    app.add_url_rule("/explain", "explain", explain)


@pytest.mark.parametrize(
    ("path", "status", "heading"),
    [
        ("/no/such/page", 404, "Page not found"),
        ("/refuse/400", 400, "Bad request"),
        ("/refuse/401", 401, "Sign-in required"),
        ("/refuse/403", 403, "Not allowed"),
        ("/refuse/404", 404, "Page not found"),
    ],
)
async def test_error_pages(make_app: AppFactory, path: str, status: int, heading: str) -> None:
    async with make_app(add_failing_routes) as app:
        response = await app.test_client().get(path)
    page = await response.get_data(as_text=True)
    assert response.status_code == status
    assert response.mimetype == "text/html"
    assert f"<h1>{heading}</h1>" in page
    assert 'class="site-header"' in page  # the styled layout, not Werkzeug's bare page
    assert "Content-Security-Policy" in response.headers


async def test_405_page_names_allowed_methods(make_app: AppFactory) -> None:
    async with make_app() as app:
        response = await app.test_client().delete("/healthz")
    assert response.status_code == 405
    assert "<h1>Method not allowed</h1>" in await response.get_data(as_text=True)
    assert "GET" in response.headers["Allow"]


async def test_view_description_is_shown(make_app: AppFactory) -> None:
    async with make_app(add_failing_routes) as app:
        response = await app.test_client().get("/explain")
    assert response.status_code == 403
    assert "Only the problem&#39;s author can do this." in await response.get_data(as_text=True)


async def test_unhandled_error_gives_500_page_without_traceback(
    make_app: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    # Development (not testing) behaves like production: the error is handled, not propagated.
    async with make_app(add_failing_routes, env=Environment.DEVELOPMENT) as app:
        response = await app.test_client().get("/crash")
    page = await response.get_data(as_text=True)
    assert response.status_code == 500
    assert "<h1>Something went wrong</h1>" in page
    assert "hunter2" not in page
    assert "Traceback" not in page
    assert "RuntimeError" not in page
    assert any("hunter2" in (r.exc_text or "") or r.exc_info for r in caplog.records)


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/api/v1/nothing-here", 404, "not_found"),
        ("GET", "/api/v1/refuse/400", 400, "bad_request"),
        ("GET", "/api/v1/refuse/401", 401, "unauthorized"),
        ("GET", "/api/v1/refuse/403", 403, "forbidden"),
        ("POST", "/api/v1/crash", 405, "method_not_allowed"),
        ("GET", "/api/v1/crash", 500, "internal_error"),
    ],
)
async def test_api_errors_are_json(
    make_app: AppFactory, method: str, path: str, status: int, code: str
) -> None:
    async with make_app(add_failing_routes, env=Environment.DEVELOPMENT) as app:
        response = await app.test_client().open(path, method=method)
    assert response.status_code == status
    assert response.mimetype == "application/json"
    body = await response.get_json()
    assert body["error"] == code
    assert body["message"]
    assert "hunter2" not in body["message"]


async def test_500_page_survives_a_failing_layout(make_app: AppFactory) -> None:
    def break_layout(app: Quart) -> None:
        add_failing_routes(app)

        async def broken_context() -> dict[str, object]:
            raise RuntimeError("the layout cannot be rendered")

        app.context_processor(broken_context)

    async with make_app(break_layout, env=Environment.DEVELOPMENT) as app:
        response = await app.test_client().get("/crash")
    page = await response.get_data(as_text=True)
    assert response.status_code == 500
    assert "<h1>500 Internal Server Error</h1>" in page
    assert "Traceback" not in page


async def test_other_statuses_get_the_generic_page(make_app: AppFactory) -> None:
    async with make_app(add_failing_routes) as app:
        response = await app.test_client().get("/refuse/429")
    assert response.status_code == 429
    assert "<h1>Too Many Requests</h1>" in await response.get_data(as_text=True)


@pytest.mark.parametrize(
    "path", ["/submissions/99999999999999999999", "/api/v1/submissions/2147483648"]
)
async def test_an_id_too_big_for_the_database_is_not_found(make_app: AppFactory, path: str) -> None:
    async with make_app() as app:
        client = app.test_client()
        await sign_in_as(client, await create_user(app, role=Role.STAFF))
        response = await client.get(path)
    assert response.status_code == 404


async def test_a_websocket_refused_with_an_http_error_gets_that_status(
    make_app: AppFactory,
) -> None:
    def add_refusing_websocket(app: Quart) -> None:
        async def refuse() -> None:
            abort(403, "Not your submission.")

        app.add_websocket("/ws/refuse", "ws_refuse", refuse)

    async with make_app(add_refusing_websocket) as app, asyncio.timeout(10):
        with pytest.raises(WebsocketResponseError) as refused:
            async with app.test_client().websocket("/ws/refuse") as socket:
                await socket.receive()
    assert refused.value.response.status_code == 403
    assert (await refused.value.response.get_json())["error"] == "forbidden"
