"""The `verdict db` and `verdict users` commands, run as a person would run them."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.cli import main
from service.db import create_engine
from service.models import LoginSession, Role, User
from service.models.base import utcnow
from tests.factories import sqlite_url


@pytest.fixture
def cli(clean_environment: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.setenv("DATABASE_URL", sqlite_url(tmp_path / "cli.db"))
    return CliRunner()


def run(cli: CliRunner, *args: str) -> Result:
    """Invoke ``verdict ARGS`` and return the result."""
    return cli.invoke(main, list(args), catch_exceptions=False)


def database(tmp_path: Path) -> str:
    return sqlite_url(tmp_path / "cli.db")


def add_user(url: str, email: str) -> None:
    """Store a user with one live session, as a sign-in would."""

    async def insert() -> None:
        engine = create_engine(url)
        try:
            async with AsyncSession(engine) as session:
                user = User(sub=f"sub-{email}", email=email, name=email.split("@")[0])
                session.add(user)
                await session.flush()
                session.add(
                    LoginSession(
                        token_hash="0" * 64,
                        user_id=user.id,
                        expires_at=utcnow() + timedelta(days=1),
                    )
                )
                await session.commit()
        finally:
            await engine.dispose()

    asyncio.run(insert())


def load_user(url: str, email: str) -> tuple[User, list[LoginSession]]:
    """Read a user and their sessions back."""

    async def query() -> tuple[User, list[LoginSession]]:
        engine = create_engine(url)
        try:
            async with AsyncSession(engine) as session:
                user = (await session.execute(select(User).where(User.email == email))).scalar_one()
                logins = await session.execute(
                    select(LoginSession).where(LoginSession.user_id == user.id)
                )
                return user, list(logins.scalars())
        finally:
            await engine.dispose()

    return asyncio.run(query())


def test_db_upgrade_and_current(cli: CliRunner) -> None:
    before = run(cli, "db", "current")
    assert before.exit_code == 0
    assert "not migrated" in before.output
    upgraded = run(cli, "db", "upgrade")
    assert upgraded.exit_code == 0, upgraded.output
    after = run(cli, "db", "current")
    assert "(head)" in after.output
    again = run(cli, "db", "upgrade")  # idempotent
    assert again.exit_code == 0


def test_users_list_promote_disable_enable(cli: CliRunner, tmp_path: Path) -> None:
    url = database(tmp_path)
    run(cli, "db", "upgrade")
    assert "no users yet" in run(cli, "users", "list").output
    add_user(url, "ada@example.org")

    promoted = run(cli, "users", "promote", "ADA@example.org", "--role", "admin")
    assert promoted.exit_code == 0, promoted.output
    assert "is now admin" in promoted.output
    assert load_user(url, "ada@example.org")[0].role is Role.ADMIN

    disabled = run(cli, "users", "disable", "ada@example.org")
    assert disabled.exit_code == 0
    user, sessions = load_user(url, "ada@example.org")
    assert user.disabled
    assert len(sessions) == 1
    assert sessions[0].revoked_at is not None
    listing = run(cli, "users", "list").output
    assert "ada@example.org\tadmin\tdisabled" in listing

    assert run(cli, "users", "enable", "ada@example.org").exit_code == 0
    assert not load_user(url, "ada@example.org")[0].disabled

    assert run(cli, "users", "promote", "ada@example.org", "--role", "student").exit_code == 0
    assert load_user(url, "ada@example.org")[0].role is Role.STUDENT


def test_unknown_user_is_a_clear_error(cli: CliRunner) -> None:
    run(cli, "db", "upgrade")
    result = run(cli, "users", "disable", "nobody@example.org")
    assert result.exit_code == 1
    assert "no user with e-mail 'nobody@example.org'" in result.output


def test_unmigrated_database_is_a_clear_error(cli: CliRunner) -> None:
    result = run(cli, "users", "list")
    assert result.exit_code == 1
    assert "verdict db upgrade" in result.output


def test_invalid_role_is_refused(cli: CliRunner) -> None:
    result = run(cli, "users", "promote", "a@b.c", "--role", "king")
    assert result.exit_code == 2
    assert "student" in result.output


def test_refused_settings_are_reported(cli: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VERDICT_ENV", "production")
    result = run(cli, "db", "upgrade")
    assert result.exit_code == 1
    assert "SECRET_KEY" in result.output
