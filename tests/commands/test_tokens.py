"""`verdict tokens create|list|revoke`, run as a script would run them."""

from __future__ import annotations

import asyncio
import hashlib

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.auth.api_tokens import resolve_token
from service.cli import main
from service.db import create_engine
from service.models import ApiToken, User


@pytest.fixture
def cli(database_url: str, clean_environment: None, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """Return a runner whose commands use this test's migrated database."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    return CliRunner()


def run(cli: CliRunner, *args: str) -> Result:
    """Invoke ``verdict ARGS``."""
    return cli.invoke(main, list(args))


def add_user(url: str, email: str) -> None:
    """Store a user, as a first sign-in would."""

    async def insert() -> None:
        engine = create_engine(url)
        try:
            async with AsyncSession(engine) as db:
                db.add(User(sub=f"sub-{email}", email=email, name=email.split("@")[0]))
                await db.commit()
        finally:
            await engine.dispose()

    asyncio.run(insert())


def token_rows(url: str) -> list[ApiToken]:
    """Return every stored token."""

    async def query() -> list[ApiToken]:
        engine = create_engine(url)
        try:
            async with AsyncSession(engine) as db:
                return list((await db.execute(select(ApiToken))).scalars())
        finally:
            await engine.dispose()

    return asyncio.run(query())


def owner_of(url: str, plaintext: str) -> str | None:
    """Return the e-mail of the user the token authenticates, or None."""

    async def query() -> str | None:
        engine = create_engine(url)
        try:
            async with AsyncSession(engine) as db:
                user = await resolve_token(db, plaintext)
                return None if user is None else user.email
        finally:
            await engine.dispose()

    return asyncio.run(query())


def test_create_prints_only_the_token(cli: CliRunner, database_url: str) -> None:
    add_user(database_url, "ada@example.org")
    result = run(cli, "tokens", "create", "Ada@Example.org", "--name", "ci")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    plaintext = result.stdout.removesuffix("\n")
    assert result.stdout == plaintext + "\n" and "\n" not in plaintext
    assert plaintext.startswith("vdt_") and len(plaintext) == 47
    [row] = token_rows(database_url)
    assert row.name == "ci"
    assert row.token_hash == hashlib.sha256(plaintext.encode()).hexdigest()
    assert owner_of(database_url, plaintext) == "ada@example.org"


def test_create_for_unknown_email_fails_on_stderr(cli: CliRunner, database_url: str) -> None:
    result = run(cli, "tokens", "create", "nobody@example.org", "--name", "ci")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "no user with e-mail" in result.stderr
    assert token_rows(database_url) == []


def test_create_needs_a_name(cli: CliRunner, database_url: str) -> None:
    add_user(database_url, "ada@example.org")
    missing = run(cli, "tokens", "create", "ada@example.org")
    assert missing.exit_code == 2 and missing.stdout == ""
    blank = run(cli, "tokens", "create", "ada@example.org", "--name", "  ")
    assert blank.exit_code == 1 and blank.stdout == ""
    assert "name" in blank.stderr
    assert token_rows(database_url) == []


def test_list_and_revoke(cli: CliRunner, database_url: str) -> None:
    add_user(database_url, "ada@example.org")
    empty = run(cli, "tokens", "list", "ada@example.org")
    assert empty.exit_code == 0 and empty.stdout == "" and "no live tokens" in empty.stderr
    plaintext = run(cli, "tokens", "create", "ada@example.org", "--name", "laptop").stdout.strip()
    [row] = token_rows(database_url)

    listing = run(cli, "tokens", "list", "ada@example.org")
    assert listing.exit_code == 0
    fields = listing.stdout.strip().split("\t")
    assert fields[0] == str(row.id) and fields[1] == plaintext[:8]
    assert fields[3] == "never" and fields[4] == "laptop"
    assert plaintext not in listing.stdout

    revoked = run(cli, "tokens", "revoke", "ada@example.org", str(row.id))
    assert revoked.exit_code == 0 and "revoked" in revoked.stdout
    assert owner_of(database_url, plaintext) is None
    assert run(cli, "tokens", "list", "ada@example.org").stdout == ""

    again = run(cli, "tokens", "revoke", "ada@example.org", str(row.id))
    assert again.exit_code == 1 and "no live token" in again.stderr


def test_revoke_checks_the_owner(cli: CliRunner, database_url: str) -> None:
    add_user(database_url, "ada@example.org")
    add_user(database_url, "bob@example.org")
    plaintext = run(cli, "tokens", "create", "ada@example.org", "--name", "x").stdout.strip()
    [row] = token_rows(database_url)
    result = run(cli, "tokens", "revoke", "bob@example.org", str(row.id))
    assert result.exit_code == 1
    assert owner_of(database_url, plaintext) == "ada@example.org"
