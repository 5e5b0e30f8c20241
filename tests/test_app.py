"""The app factory's own branches: testing or not, routes, refusals, a lazy database, asgi.py."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path

import pytest
from quart import Quart

from service.app import create_app
from service.config import DEFAULT_SECRET_KEY, ConfigError, Environment, get_settings
from service.db import get_db
from tests.factories import AppFactory


def test_testing_app_is_marked_testing(clean_environment: None, database_url: str) -> None:
    app = create_app({"env": Environment.TESTING, "database_url": database_url})
    assert app.testing
    assert get_settings(app).env is Environment.TESTING


def test_development_app_is_not_testing(clean_environment: None) -> None:
    app = create_app()
    assert not app.testing
    assert get_settings(app).env is Environment.DEVELOPMENT
    assert app.secret_key == DEFAULT_SECRET_KEY


def test_factory_builds_independent_apps(clean_environment: None) -> None:
    first, second = create_app(), create_app({"public_url": "http://other.test"})
    assert first is not second
    assert get_settings(second).public_url == "http://other.test"
    assert get_settings(first).public_url == "http://127.0.0.1:8000"


def test_factory_registers_routes(clean_environment: None) -> None:
    rules = {rule.rule for rule in create_app().url_map.iter_rules()}
    assert {"/", "/healthz", "/readyz", "/login", "/login/callback", "/logout"} <= rules


def test_factory_refuses_unsafe_production(clean_environment: None) -> None:
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app({"env": Environment.PRODUCTION})


def test_factory_rejects_unknown_override(clean_environment: None) -> None:
    with pytest.raises(ConfigError, match="databse_url"):
        create_app({"databse_url": "sqlite://"})


def test_factory_reads_the_environment(
    clean_environment: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'env.db'}")
    monkeypatch.setenv("PUBLIC_URL", "http://judge.lan:8000")
    app = create_app()
    assert get_db(app).url == f"sqlite+aiosqlite:///{tmp_path / 'env.db'}"
    assert get_settings(app).redirect_uri == "http://judge.lan:8000/login/callback"


async def test_database_lives_only_while_serving(make_app: AppFactory) -> None:
    async with make_app() as app:
        database = get_db(app)
        assert database.engine is not None
    assert database.engine is None


def test_creating_app_opens_no_database(clean_environment: None, tmp_path: Path) -> None:
    create_app({"database_url": f"sqlite:///{tmp_path / 'lazy.db'}"})
    assert not (tmp_path / "lazy.db").exists()


def test_asgi_module_builds_the_app(
    clean_environment: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delitem(sys.modules, "asgi", raising=False)
    asgi = importlib.import_module("asgi")
    assert isinstance(asgi.app, Quart)


def test_httpx2_is_not_installed_in_the_app_environment() -> None:
    # Authlib prefers httpx2 when importable, and respx only intercepts httpx (see STACK.md).
    assert importlib.util.find_spec("httpx2") is None
