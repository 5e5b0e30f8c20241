"""Fixtures for sign-in tests: the shared factory fixtures, plus a respx fake Google."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import respx
from quart import Quart
from quart.testing import QuartClient
from sqlalchemy import func, select

from service.db import get_db
from service.models import LoginSession
from tests.auth.fakes import CLIENT_ID, CLIENT_SECRET, GOOGLE, FakeProvider
from tests.conftest import TEST_PUBLIC_URL, AppFactory
from tests.factories import csrf_token

__all__ = ["AppFactory", "csrf_token"]

PUBLIC_URL = TEST_PUBLIC_URL
REDIRECT_URI = PUBLIC_URL + "/login/callback"


@pytest.fixture
def make_app(make_app: AppFactory) -> AppFactory:
    """Build apps whose OAuth client is the one the fake provider expects."""

    def build(setup: Callable[[Quart], None] | None = None, **overrides: Any) -> Any:
        settings = {
            "google_client_id": CLIENT_ID,
            "google_client_secret": CLIENT_SECRET,
            "oidc_issuer": GOOGLE,
        }
        return make_app(setup, **(settings | overrides))

    return build


@pytest.fixture
def provider() -> Iterator[FakeProvider]:
    """Fake Google with respx; any other outgoing request fails the test."""
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as router:
        yield FakeProvider(router)


async def begin_sign_in(
    client: QuartClient, next_url: str | None = None, **kwargs: Any
) -> dict[str, str]:
    """GET /login and return the query of the provider URL it redirects to."""
    response = await client.get(
        "/login", query_string={"next": next_url} if next_url else None, **kwargs
    )
    assert response.status_code == 302, await response.get_data(as_text=True)
    location = response.headers["Location"]
    assert location.startswith("https://accounts.google.com/o/oauth2/v2/auth?")
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


async def sign_in(
    client: QuartClient, provider: FakeProvider, next_url: str | None = None, **kwargs: Any
) -> Any:
    """Run a whole sign-in through the fake provider and return the callback's response."""
    params = await begin_sign_in(client, next_url, **kwargs)
    provider.nonce = params["nonce"]
    return await client.get(
        "/login/callback",
        query_string={"state": params["state"], "code": "auth-code-1"},
        **kwargs,
    )


def auth_cookie(response: Any) -> str | None:
    """Return the Set-Cookie header of the sign-in cookie in ``response``, if any."""
    headers = [h for h in response.headers.get_all("Set-Cookie") if "verdict_auth=" in h]
    return headers[0] if headers else None


def cookie_value(response: Any) -> str:
    """Return the value of the sign-in cookie set by ``response``."""
    header = auth_cookie(response)
    assert header is not None
    return header.split(";", 1)[0].split("=", 1)[1]


async def count_sessions(app: Quart, *, live_only: bool = False) -> int:
    """Return how many login sessions are stored (or how many are not revoked)."""
    query = select(func.count()).select_from(LoginSession)
    if live_only:
        query = query.where(LoginSession.revoked_at.is_(None))
    async with get_db(app).session() as db:
        return int((await db.execute(query)).scalar_one())
