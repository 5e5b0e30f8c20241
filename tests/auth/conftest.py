"""Fixtures for sign-in tests: apps whose OAuth client the fake Google expects, and that Google."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import respx
from quart import Quart

from tests.factories import AppFactory
from tests.fakes import CLIENT_ID, CLIENT_SECRET, GOOGLE, FakeProvider


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
