"""Shared fixtures: an app built by the real factory on a migrated temporary SQLite database.

The migrations run once per session into a template file; each test gets its own copy, so
every test starts from the real schema without paying for Alembic again.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from quart import Quart
from quart.testing import QuartClient
from quart.testing.app import TestApp

from service import migrations
from service.app import create_app
from service.config import Environment
from service.evaluator.sandbox import BwrapSandbox

# Every variable the settings loader reads: the developer's shell must not leak into tests.
SETTINGS_VARIABLES = (
    "VERDICT_ENV",
    "SECRET_KEY",
    "DATABASE_URL",
    "GOOGLE_CLIENT_ID",
    "GOOGLE_CLIENT_SECRET",
    "OIDC_ISSUER",
    "PUBLIC_URL",
    "ALLOWED_DOMAINS",
    "ADMIN_EMAILS",
    "SESSION_LIFETIME_DAYS",
    "QUEUE",
    "EVALUATOR_CONCURRENCY",
    "VERDICT_DATA_DIR",
    "MAX_SOURCE_BYTES",
    "MAX_PACKAGE_BYTES",
    "SUBMISSION_RATE_LIMIT",
    "SANDBOX",
)
TEST_PUBLIC_URL = "http://verdict.test"
TEST_SECRET_KEY = "test-secret-key-that-is-long-enough-0123456789"

LIFESPAN_SECONDS = 60
AppFactory = Callable[..., AbstractAsyncContextManager[Quart]]
#: Fixtures that hand a test the real bubblewrap sandbox: their tests are marked ``sandbox``.
SANDBOX_FIXTURES = frozenset({"sandbox", "_bwrap_sandbox"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that asks for the real sandbox by fixture ``sandbox``."""
    for item in items:
        if SANDBOX_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.sandbox)


@pytest.fixture(autouse=True)
def _no_real_sandbox_in_fast_runs(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """Under ``make test-fast``, fail a test that starts bubblewrap without the mark saying so."""
    if os.environ.get("VERDICT_TEST_FAST") != "1" or request.node.get_closest_marker("sandbox"):
        yield
        return

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(
            f"{request.node.nodeid} starts the real sandbox: mark it @pytest.mark.sandbox"
        )

    monkeypatch.setattr(BwrapSandbox, "__init__", refuse)
    yield


def sqlite_url(path: Path) -> str:
    """Return the async SQLAlchemy URL of a SQLite file."""
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a SQLite file migrated to the newest revision (built once per session)."""
    path = tmp_path_factory.mktemp("template") / "verdict.db"
    migrations.upgrade(sqlite_url(path), quiet=True)
    return path


@pytest.fixture
def database_url(tmp_path: Path, migrated_template: Path) -> str:
    """Return the URL of this test's own copy of the migrated database."""
    path = tmp_path / "verdict.db"
    shutil.copyfile(migrated_template, path)
    return sqlite_url(path)


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Remove the settings variables from the environment for this test."""
    for name in SETTINGS_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def app_settings(**overrides: Any) -> dict[str, Any]:
    """Return the settings overrides of a test app (fake Google client, http public URL)."""
    settings: dict[str, Any] = {
        "env": Environment.TESTING,
        "secret_key": TEST_SECRET_KEY,
        "google_client_id": "test-client-id",
        "google_client_secret": "test-client-secret",
        "oidc_issuer": "https://accounts.google.com",
        "public_url": TEST_PUBLIC_URL,
        "allowed_domains": frozenset(),
        "admin_emails": frozenset(),
        "sandbox": "bwrap",
    }
    settings.update(overrides)
    return settings


@pytest.fixture
def make_app(database_url: str, tmp_path: Path, clean_environment: None) -> AppFactory:
    """Return ``make_app(setup=None, **overrides)``: build an app and serve it (lifespan run)."""

    @asynccontextmanager
    async def build(
        setup: Callable[[Quart], None] | None = None, **overrides: Any
    ) -> AsyncIterator[Quart]:
        settings = app_settings(database_url=database_url, data_dir=tmp_path / "data")
        app = create_app(settings | overrides)
        if setup is not None:
            setup(app)
        # Quart's test lifespan allows 6 s to start and stop; a loaded CI machine (sandboxes,
        # compilers and the suite sharing two cores) can take longer to cancel running judgings.
        async with TestApp(
            app, startup_timeout=LIFESPAN_SECONDS, shutdown_timeout=LIFESPAN_SECONDS
        ):
            yield app

    return build


@pytest.fixture
async def app(make_app: AppFactory) -> AsyncIterator[Quart]:
    """Serve an app with the test settings on a fresh migrated database."""
    async with make_app() as served:
        yield served


@pytest.fixture
def client(app: Quart) -> QuartClient:
    """Return a test client of ``app`` (cookies kept between requests)."""
    return app.test_client()
