"""The settings read from the environment: defaults, parsing, and what production refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.config import (
    DEFAULT_SECRET_KEY,
    ConfigError,
    Environment,
    RateLimit,
    Settings,
    load_settings,
)

GOOD_PRODUCTION = {
    "VERDICT_ENV": "production",
    "SECRET_KEY": "k" * 40,
    "PUBLIC_URL": "https://judge.example.org",
    "GOOGLE_CLIENT_ID": "id.apps.googleusercontent.com",
    "GOOGLE_CLIENT_SECRET": "secret",
    "DATABASE_URL": "postgresql://verdict@db/verdict",
}


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
            "RUN_RATE_LIMIT": "7/10",
        }
    )
    assert settings.run_rate_limit == RateLimit(7, 10)
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
        ("MAX_JUDGINGS_PER_USER", "0", "at least 1"),
        ("MAX_JUDGINGS_PER_USER", "two", "whole number"),
        ("WALL_BUDGET_FACTOR", "0.5", "at least 1"),
        ("WALL_BUDGET_FACTOR", "nan", "at least 1"),
        ("WALL_BUDGET_FACTOR", "inf", "at least 1"),
        ("WALL_BUDGET_FACTOR", "lots", "must be a number"),
    ],
)
def test_bad_limits_are_refused_naming_the_variable(name: str, value: str, says: str) -> None:
    with pytest.raises(ConfigError, match=name) as refused:
        load_settings({name: value})
    assert says in str(refused.value)


def test_judging_shares_come_from_the_environment() -> None:
    defaults = load_settings({})
    assert (defaults.max_judgings_per_user, defaults.wall_budget_factor) == (2, 2.0)
    settings = load_settings({"MAX_JUDGINGS_PER_USER": "3", "WALL_BUDGET_FACTOR": " 1.5 "})
    assert (settings.max_judgings_per_user, settings.wall_budget_factor) == (3, 1.5)
