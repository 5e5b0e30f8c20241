"""Shared fixtures: an app built by the real factory on a migrated temporary SQLite database.

The migrations run once per session into a template file; each test gets its own copy, so
every test starts from the real schema without paying for Alembic again. Helpers, fakes and
constants live in ``tests/factories.py``, ``tests/fakes.py`` and ``tests/waiting.py``.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from quart import Quart
from quart.testing import QuartClient
from quart.testing.app import TestApp
from sqlalchemy import create_engine, text

from service import migrations
from service.app import create_app
from service.evaluator import BwrapSandbox
from service.jobs import LocalDispatcher
from tests.factories import (
    LIFESPAN_SECONDS,
    POSTGRES_URL,
    SETTINGS_VARIABLES,
    AppFactory,
    LiveServer,
    app_settings,
    postgres_reachable,
    postgres_url,
    serve,
    sqlite_url,
)
from tests.fakes import FakeApp, FakeSandbox, hello_program, judge_on
from tests.helpers import require_or_skip


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark ``sandbox`` every test that asks for the real sandbox by fixture ``sandbox``."""
    real_sandbox_fixtures = {"sandbox", "_bwrap_sandbox"}
    for item in items:
        if real_sandbox_fixtures & set(getattr(item, "fixturenames", ())):
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
def postgres_database() -> Iterator[str]:
    """Create a uniquely named PostgreSQL database; yield its URL; drop it afterwards."""
    require_or_skip(postgres_reachable(), f"PostgreSQL not reachable at {POSTGRES_URL}")
    name = f"verdict_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")

    def run(statement: str) -> None:
        with admin.connect() as connection:
            connection.execute(text(statement))

    run(f'CREATE DATABASE "{name}"')
    try:
        yield postgres_url(name)
    finally:
        run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Remove the settings variables from the environment for this test."""
    for name in SETTINGS_VARIABLES:
        monkeypatch.delenv(name, raising=False)


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


@pytest.fixture
def fake_app(make_app: AppFactory) -> FakeApp:
    """Return ``fake_app(sandbox=None, configure=None, **settings)``: an app judging on a fake.

    ``configure(dispatcher)`` runs before the app starts serving.

    Retries after an infrastructure failure wait no time, so JE tests stay fast.
    """

    @asynccontextmanager
    async def build(
        sandbox: FakeSandbox | None = None,
        configure: Callable[[LocalDispatcher], None] | None = None,
        **overrides: Any,
    ) -> AsyncIterator[Quart]:
        box = sandbox if sandbox is not None else FakeSandbox(program=hello_program)
        setup = judge_on(box, retry_delay=0.0, configure=configure)
        settings: dict[str, Any] = {"evaluator_concurrency": 4} | overrides
        async with make_app(setup=setup, **settings) as app:
            yield app

    return build


@pytest.fixture
def server(database_url: str, tmp_path: Path, clean_environment: None) -> Iterator[LiveServer]:
    """Serve ``asgi:app`` with Hypercorn on 127.0.0.1 (a free port) on this test's database."""
    with serve(database_url, tmp_path / "served", tmp_path / "server.log") as served:
        yield served
