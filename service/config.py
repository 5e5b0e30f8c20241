"""Settings read once from the environment (Flask-era variable names) into a frozen object.

The factory calls :func:`load_settings`; nothing else reads ``os.environ``. In production the
loader refuses unsafe values and names the setting to change.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from quart import Quart

DEFAULT_SECRET_KEY = "dev-only-insecure-secret-key-change-me"  # noqa: S105 - refused in production
GOOGLE_ISSUER = "https://accounts.google.com"
MIN_SECRET_KEY_LENGTH = 32
#: Where the factory keeps the app's Settings in ``app.config``.
SETTINGS_KEY = "VERDICT_SETTINGS"


class ConfigError(ValueError):
    """A setting is missing or has a value the app refuses; the message names it."""


class Environment(enum.StrEnum):
    """Where the app runs; production turns on every safety check."""

    DEVELOPMENT = "development"
    PRODUCTION = "production"
    TESTING = "testing"


def default_database_url() -> str:
    """Return the SQLite database under ``var/`` of the working directory."""
    return f"sqlite+aiosqlite:///{Path.cwd() / 'var' / 'verdict.db'}"


def default_data_dir() -> Path:
    """Return ``var/`` of the working directory (package store, scratch space)."""
    return Path.cwd() / "var"


@dataclass(frozen=True)
class RateLimit:
    """At most ``count`` actions per ``seconds`` for one user."""

    count: int
    seconds: int

    def __str__(self) -> str:
        return f"{self.count}/{self.seconds}"


@dataclass(frozen=True)
class Settings:
    """Typed, frozen configuration of one app instance."""

    env: Environment = Environment.DEVELOPMENT
    secret_key: str = DEFAULT_SECRET_KEY
    database_url: str = field(default_factory=default_database_url)
    google_client_id: str = ""
    google_client_secret: str = ""
    oidc_issuer: str = GOOGLE_ISSUER
    public_url: str = "http://127.0.0.1:8000"
    allowed_domains: frozenset[str] = frozenset()
    admin_emails: frozenset[str] = frozenset()
    sandbox: str = "bwrap"
    evaluator_concurrency: int = field(default_factory=lambda: os.cpu_count() or 1)
    queue: str = "local"
    session_lifetime_days: int = 14
    http_timeout: float = 10.0
    data_dir: Path = field(default_factory=default_data_dir)
    max_source_bytes: int = 64 * 1024
    max_package_bytes: int = 256 * 1024 * 1024
    submission_rate_limit: RateLimit = RateLimit(20, 60)
    run_rate_limit: RateLimit = RateLimit(30, 60)  # "run on my input", per person
    max_judgings_per_user: int = 2
    wall_budget_factor: float = 2.0
    start_evaluator: bool = True

    @property
    def package_dir(self) -> Path:
        """Return the content-addressed package store (``<sha256>.zip`` files)."""
        return self.data_dir / "packages"

    @property
    def production(self) -> bool:
        """Return whether this is a production deployment."""
        return self.env is Environment.PRODUCTION

    @property
    def secure_cookies(self) -> bool:
        """Return whether cookies must carry the Secure flag (https public URL)."""
        return self.public_url.startswith("https://")

    @property
    def redirect_uri(self) -> str:
        """Return the OAuth redirect URI registered at the provider."""
        return self.public_url.rstrip("/") + "/login/callback"


def _split_list(value: str) -> frozenset[str]:
    return frozenset(
        item.strip().lower() for item in value.replace(";", ",").split(",") if item.strip()
    )


def _parse_float(name: str, value: str, minimum: float) -> float:
    try:
        number = float(value)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {value!r}") from None
    if not minimum <= number < float("inf"):  # also refuses nan
        raise ConfigError(f"{name} must be a number of at least {minimum:g}, got {value.strip()}")
    return number


def _parse_int(name: str, value: str, minimum: int) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {value!r}") from None
    if number < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {number}")
    return number


_CHOICES = {
    "SANDBOX": ("bwrap", "unsafe-rlimit"),
    "QUEUE": ("local", "procrastinate"),
}


def load_settings(
    environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None
) -> Settings:
    """Build settings from environment variables, then apply ``overrides`` (field names)."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}

    raw_env = env.get("VERDICT_ENV", "development").strip().lower()
    try:
        values["env"] = Environment(raw_env)
    except ValueError:
        choices = ", ".join(e.value for e in Environment)
        raise ConfigError(f"VERDICT_ENV must be one of {choices}, got {raw_env!r}") from None

    for name, attr in (
        ("SECRET_KEY", "secret_key"),
        ("DATABASE_URL", "database_url"),
        ("GOOGLE_CLIENT_ID", "google_client_id"),
        ("GOOGLE_CLIENT_SECRET", "google_client_secret"),
        ("OIDC_ISSUER", "oidc_issuer"),
        ("PUBLIC_URL", "public_url"),
    ):
        if env.get(name, "").strip():
            values[attr] = env[name].strip()
    for name, attr in (("ALLOWED_DOMAINS", "allowed_domains"), ("ADMIN_EMAILS", "admin_emails")):
        if name in env:
            values[attr] = _split_list(env[name])
    for name, attr in (("SANDBOX", "sandbox"), ("QUEUE", "queue")):
        if env.get(name, "").strip():
            value = env[name].strip().lower()
            if value not in _CHOICES[name]:
                raise ConfigError(
                    f"{name} must be one of {', '.join(_CHOICES[name])}, got {value!r}"
                )
            values[attr] = value
    if env.get("EVALUATOR_CONCURRENCY", "").strip():
        values["evaluator_concurrency"] = _parse_int(
            "EVALUATOR_CONCURRENCY", env["EVALUATOR_CONCURRENCY"], 1
        )
    if env.get("VERDICT_DATA_DIR", "").strip():
        values["data_dir"] = Path(env["VERDICT_DATA_DIR"].strip()).absolute()
    for name, attr, minimum in (
        ("MAX_SOURCE_BYTES", "max_source_bytes", 1),
        ("MAX_PACKAGE_BYTES", "max_package_bytes", 1024),
        ("MAX_JUDGINGS_PER_USER", "max_judgings_per_user", 1),
    ):
        if env.get(name, "").strip():
            values[attr] = _parse_int(name, env[name], minimum)
    if env.get("SUBMISSION_RATE_LIMIT", "").strip():
        values["submission_rate_limit"] = parse_rate_limit(
            "SUBMISSION_RATE_LIMIT", env["SUBMISSION_RATE_LIMIT"]
        )
    if env.get("RUN_RATE_LIMIT", "").strip():
        values["run_rate_limit"] = parse_rate_limit("RUN_RATE_LIMIT", env["RUN_RATE_LIMIT"])
    if env.get("WALL_BUDGET_FACTOR", "").strip():
        values["wall_budget_factor"] = _parse_float(
            "WALL_BUDGET_FACTOR", env["WALL_BUDGET_FACTOR"], 1.0
        )
    if env.get("SESSION_LIFETIME_DAYS", "").strip():
        values["session_lifetime_days"] = _parse_int(
            "SESSION_LIFETIME_DAYS", env["SESSION_LIFETIME_DAYS"], 1
        )

    settings = Settings(**values)
    if overrides:
        known = {f.name for f in fields(Settings)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ConfigError(f"unknown setting override(s): {', '.join(unknown)}")
        settings = replace(settings, **dict(overrides))
    settings = replace(settings, database_url=normalise_database_url(settings.database_url))
    check_settings(settings)
    return settings


def parse_rate_limit(name: str, value: str) -> RateLimit:
    """Parse ``COUNT/SECONDS`` (e.g. ``20/60``: twenty per minute)."""
    count, slash, seconds = value.strip().partition("/")
    if not slash:
        raise ConfigError(f"{name} must look like COUNT/SECONDS (e.g. 20/60), got {value!r}")
    return RateLimit(_parse_int(name, count.strip(), 1), _parse_int(name, seconds.strip(), 1))


def normalise_database_url(url: str) -> str:
    """Pick the async driver for plain ``sqlite:`` and ``postgres(ql):`` URLs."""
    for plain, driver in (
        ("sqlite://", "sqlite+aiosqlite://"),
        ("postgres://", "postgresql+psycopg://"),
        ("postgresql://", "postgresql+psycopg://"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain) :]
    return url


def check_settings(settings: Settings) -> None:
    """Raise ConfigError naming the first setting that production must not run with."""
    if (
        not settings.public_url.startswith(("http://", "https://"))
        or not urlsplit(settings.public_url).netloc
    ):
        raise ConfigError(
            f"PUBLIC_URL must be an absolute http(s) URL, got {settings.public_url!r}"
        )
    if not settings.production:
        return
    if settings.secret_key == DEFAULT_SECRET_KEY:
        raise ConfigError(
            "SECRET_KEY is missing or left at its development default; set a random value"
        )
    if len(settings.secret_key) < MIN_SECRET_KEY_LENGTH:
        raise ConfigError(
            f"SECRET_KEY is too short ({len(settings.secret_key)} characters); "
            f"use at least {MIN_SECRET_KEY_LENGTH} random characters"
        )
    if not settings.public_url.startswith("https://"):
        raise ConfigError(f"PUBLIC_URL must use https in production, got {settings.public_url!r}")
    if not settings.google_client_id:
        raise ConfigError("GOOGLE_CLIENT_ID is missing; register an OAuth client and set it")
    if not settings.google_client_secret:
        raise ConfigError("GOOGLE_CLIENT_SECRET is missing; set the OAuth client's secret")
    if settings.queue != "local":
        raise ConfigError(
            f"QUEUE={settings.queue} is not available yet; production requires QUEUE=local "
            "(the evaluator runs in the web process)"
        )
    if settings.sandbox != "bwrap":
        raise ConfigError(
            f"SANDBOX={settings.sandbox} is unsafe; production requires SANDBOX=bwrap"
        )


def get_settings(app: Quart) -> Settings:
    """Return the settings the app was built with (every part reads them from here)."""
    settings: Settings = app.config[SETTINGS_KEY]
    return settings
