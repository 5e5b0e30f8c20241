"""Every /api path answers JSON errors; the OpenAPI document and the docs page are served."""

from __future__ import annotations

from pathlib import Path

import pytest
from quart import Quart
from quart.testing import QuartClient

from service.api import openapi
from service.api.openapi import SWAGGER_DIST, swagger_served_here
from tests.factories import user_with_token
from tests.helpers import require_or_skip


async def test_unknown_api_paths_get_json_404(app: Quart, client: QuartClient) -> None:
    _, headers = await user_with_token(app)
    for path in ("/api/v1/nothing", "/api/v2/me", "/api", "/api/"):
        response = await client.get(path, headers=headers)
        assert response.status_code == 404, path
        assert response.mimetype == "application/json", path
        assert (await response.get_json())["error"] == "not_found", path


async def test_wrong_method_gets_json_405(app: Quart, client: QuartClient) -> None:
    _, headers = await user_with_token(app)
    response = await client.delete("/api/v1/me", headers=headers)
    assert response.status_code == 405
    assert (await response.get_json())["error"] == "method_not_allowed"
    assert "GET" in response.headers["Allow"]


async def test_too_large_request_gets_json_413(app: Quart, client: QuartClient) -> None:
    _, headers = await user_with_token(app)
    body = b"x" * (16 * 1024 * 1024 + 1)
    response = await client.post(
        "/api/v1/submissions",
        data=body,
        headers={**headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert (await response.get_json())["error"] == "request_entity_too_large"


async def test_openapi_document_describes_the_api_only(client: QuartClient) -> None:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    document = await response.get_json()
    assert document["openapi"].startswith("3.1")
    assert document["info"]["title"] == "Verdict"
    assert all(path.startswith("/api/v1/") for path in document["paths"])
    assert {
        "/api/v1/languages",
        "/api/v1/me",
        "/api/v1/problems",
        "/api/v1/problems/{slug}",
        "/api/v1/problems/{slug}/feedback",
        "/api/v1/runs",
        "/api/v1/submissions",
        "/api/v1/submissions/batch",
        "/api/v1/submissions/{submission_id}",
        "/api/v1/submissions/{submission_id}/events",
        "/api/v1/submissions/{submission_id}/rejudge",
        "/api/v1/courses",
        "/api/v1/courses/join",
        "/api/v1/courses/{course_id}",
        "/api/v1/courses/{course_id}/enrol",
        "/api/v1/courses/{course_id}/roster",
        "/api/v1/courses/{course_id}/roster/{email}",
        "/api/v1/courses/{course_id}/assignments",
        "/api/v1/courses/{course_id}/gradebook.csv",
        "/api/v1/courses/{course_id}/canvas.csv",
        "/api/v1/courses/{course_id}/audit",
        "/api/v1/assignments/{assignment_id}",
        "/api/v1/assignments/{assignment_id}/extensions",
        "/api/v1/assignments/{assignment_id}/overrides",
        "/api/v1/assignments/{assignment_id}/grades",
    } == set(document["paths"])
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert document["security"] == [{"bearerAuth": []}]
    upload = document["paths"]["/api/v1/problems"]["post"]["requestBody"]["content"]
    assert upload["multipart/form-data"]["schema"]["required"] == ["package"]
    events = document["paths"]["/api/v1/submissions/{submission_id}/events"]["get"]
    assert "text/event-stream" in events["responses"]["200"]["content"]


@pytest.fixture
def swagger_fetched() -> None:
    """Require Swagger UI fetched at setup (CI fetches it; without npm this skips)."""
    require_or_skip(swagger_served_here(), f"{SWAGGER_DIST} missing: run `make web-deps`")


async def test_docs_page_loads_its_script_under_a_strict_policy(
    client: QuartClient, swagger_fetched: None
) -> None:
    page = await client.get("/docs")
    assert page.status_code == 200
    html = await page.get_data(as_text=True)
    assert "/openapi.json" in html and "/docs/start.js" in html
    assert "<script>" not in html  # no inline script
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy  # Swagger UI is served here: no CDN
    assert "cdnjs" not in html
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    for asset, kind in (
        ("swagger-ui-bundle.js", "text/javascript"),
        ("swagger-ui.css", "text/css"),
    ):
        assert f"/docs/assets/{asset}" in html
        served = await client.get(f"/docs/assets/{asset}")
        assert served.status_code == 200 and served.mimetype == kind
    assert (await client.get("/docs/assets/package.json")).status_code == 404
    script = await client.get("/docs/start.js")
    assert script.status_code == 200 and "SwaggerUIBundle" in await script.get_data(as_text=True)
    for retired in ("/redocs", "/scalar"):
        assert (await client.get(retired)).status_code == 404


async def test_a_body_that_is_not_utf8_gets_json_400(app: Quart, client: QuartClient) -> None:
    _, headers = await user_with_token(app)
    for body in (b'{"problem": "hello", "source": "\xff\xfe"}', b"\xc3\x28", b"\x80"):
        response = await client.post(
            "/api/v1/submissions",
            data=body,
            headers={**headers, "Content-Type": "application/json"},
        )
        assert response.status_code == 400, body
        error = await response.get_json()
        assert error["error"] == "invalid_request", error
        assert "UTF-8" in error["message"], error


async def test_docs_page_without_swagger_fetched_loads_it_from_the_cdn(
    client: QuartClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(openapi, "SWAGGER_DIST", tmp_path / "nothing")

    page = await client.get("/docs")

    html = await page.get_data(as_text=True)
    assert "https://cdnjs.cloudflare.com/ajax/libs/swagger-ui/" in html
    assert (
        "script-src 'self' https://cdnjs.cloudflare.com" in page.headers["Content-Security-Policy"]
    )
    missing = await client.get("/docs/assets/swagger-ui-bundle.js")
    assert missing.status_code == 404
    assert "make web-deps" in await missing.get_data(as_text=True)
