"""The factory's own branches, and the settings it reads from the environment."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path

import pytest
from quart import Quart

from service.app import create_app
from service.config import (
    DEFAULT_SECRET_KEY,
    ConfigError,
    Environment,
    RateLimit,
    Settings,
    get_settings,
    load_settings,
)
from service.db import get_db
from tests.factories import AppFactory

GOOD_PRODUCTION = {
    "VERDICT_ENV": "production",
    "SECRET_KEY": "k" * 40,
    "PUBLIC_URL": "https://judge.example.org",
    "GOOGLE_CLIENT_ID": "id.apps.googleusercontent.com",
    "GOOGLE_CLIENT_SECRET": "secret",
    "DATABASE_URL": "postgresql://verdict@db/verdict",
}


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


# Settings ------------------------------------------------------------------------------------


def test_development_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings({})
    assert settings == Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/var/verdict.db")
    assert settings.env is Environment.DEVELOPMENT
    assert settings.oidc_issuer == "https://accounts.google.com"
    assert settings.public_url == "http://127.0.0.1:8000"
    assert settings.sandbox == "bwrap"
    assert settings.queue == "local"
    assert settings.session_lifetime_days == 14
    assert not settings.secure_cookies
    assert not settings.production


def test_environment_values_are_parsed() -> None:
    settings = load_settings(
        {
            "VERDICT_ENV": "Testing",
            "ALLOWED_DOMAINS": "School.edu; example.org,,",
            "ADMIN_EMAILS": "Boss@School.edu",
            "EVALUATOR_CONCURRENCY": "3",
            "SESSION_LIFETIME_DAYS": "2",
            "SANDBOX": "unsafe-rlimit",
            "QUEUE": "procrastinate",
            "DATABASE_URL": "postgres://u@h/d",
        }
    )
    assert settings.env is Environment.TESTING
    assert settings.allowed_domains == {"school.edu", "example.org"}
    assert settings.admin_emails == {"boss@school.edu"}
    assert settings.evaluator_concurrency == 3
    assert settings.session_lifetime_days == 2
    assert settings.sandbox == "unsafe-rlimit"
    assert settings.queue == "procrastinate"
    assert settings.database_url == "postgresql+psycopg://u@h/d"


@pytest.mark.parametrize(
    ("environ", "names"),
    [
        ({"VERDICT_ENV": "staging"}, "VERDICT_ENV"),
        ({"SANDBOX": "docker"}, "SANDBOX"),
        ({"QUEUE": "redis"}, "QUEUE"),
        ({"EVALUATOR_CONCURRENCY": "lots"}, "EVALUATOR_CONCURRENCY"),
        ({"EVALUATOR_CONCURRENCY": "0"}, "EVALUATOR_CONCURRENCY"),
        ({"SESSION_LIFETIME_DAYS": "0"}, "SESSION_LIFETIME_DAYS"),
        ({"PUBLIC_URL": "judge.example.org"}, "PUBLIC_URL"),
    ],
)
def test_bad_values_name_the_setting(environ: dict[str, str], names: str) -> None:
    with pytest.raises(ConfigError, match=names):
        load_settings(environ)


def test_good_production_settings_load() -> None:
    settings = load_settings(GOOD_PRODUCTION)
    assert settings.production
    assert settings.secure_cookies


@pytest.mark.parametrize(
    ("change", "setting"),
    [
        ({"SECRET_KEY": None}, "SECRET_KEY"),
        ({"SECRET_KEY": DEFAULT_SECRET_KEY}, "SECRET_KEY"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"PUBLIC_URL": "http://judge.example.org"}, "PUBLIC_URL"),
        ({"PUBLIC_URL": None}, "PUBLIC_URL"),
        ({"GOOGLE_CLIENT_ID": None}, "GOOGLE_CLIENT_ID"),
        ({"GOOGLE_CLIENT_SECRET": ""}, "GOOGLE_CLIENT_SECRET"),
        ({"SANDBOX": "unsafe-rlimit"}, "SANDBOX"),
        ({"QUEUE": "procrastinate"}, "QUEUE"),
    ],
)
def test_production_refusals_name_the_setting(change: dict[str, str | None], setting: str) -> None:
    environ = {**GOOD_PRODUCTION, **change}
    environ = {key: value for key, value in environ.items() if value is not None}
    with pytest.raises(ConfigError, match=setting):
        load_settings(environ)


def test_development_accepts_what_production_refuses() -> None:
    settings = load_settings(
        {"SANDBOX": "unsafe-rlimit", "SECRET_KEY": "short", "QUEUE": "procrastinate"}
    )
    assert settings.sandbox == "unsafe-rlimit"
    assert settings.queue == "procrastinate"  # judged in the web process, with a warning


def test_submission_and_storage_limits_come_from_the_environment(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "VERDICT_DATA_DIR": str(tmp_path / "store"),
            "MAX_SOURCE_BYTES": "1000",
            "MAX_PACKAGE_BYTES": "4096",
            "SUBMISSION_RATE_LIMIT": " 5 / 30 ",
        }
    )
    assert settings.package_dir == tmp_path / "store" / "packages"
    assert settings.max_source_bytes == 1000
    assert settings.max_package_bytes == 4096
    assert settings.submission_rate_limit == RateLimit(5, 30)
    assert str(settings.submission_rate_limit) == "5/30"


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("SUBMISSION_RATE_LIMIT", "20", "COUNT/SECONDS"),
        ("SUBMISSION_RATE_LIMIT", "0/60", "at least 1"),
        ("SUBMISSION_RATE_LIMIT", "ten/60", "whole number"),
        ("MAX_SOURCE_BYTES", "0", "at least 1"),
        ("MAX_PACKAGE_BYTES", "big", "whole number"),
    ],
)
def test_bad_limits_are_refused_naming_the_variable(name: str, value: str, says: str) -> None:
    with pytest.raises(ConfigError, match=name) as refused:
        load_settings({name: value})
    assert says in str(refused.value)
