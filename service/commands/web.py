"""Commands that need the web app's settings and database: `db` and `users`.

Each command reads the same settings as the app (``DATABASE_URL`` and the rest) and runs its
database work with ``asyncio.run``; migrations run outside any event loop (Alembic's env.py
starts its own).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

import click
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service import migrations
from service.auth.users import UnknownUser, set_disabled, set_role
from service.config import ConfigError, Settings, load_settings
from service.db import create_engine
from service.models import Role, User


def settings_or_exit() -> Settings:
    """Load the settings, turning a refused setting into a clean command-line error."""
    try:
        return load_settings()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def run_with_session[T](work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run ``work`` in a session on the configured database, commit, and return its result."""
    url = settings_or_exit().database_url

    async def main() -> T:
        engine = create_engine(url)
        try:
            async with async_sessionmaker(engine, expire_on_commit=False)() as session:
                result = await work(session)
                await session.commit()
                return result
        finally:
            await engine.dispose()

    try:
        return asyncio.run(main())
    except DBAPIError as exc:
        raise click.ClickException(
            f"the database refused: {exc.orig}; is it migrated (`verdict db upgrade`)?"
        ) from None


@click.group("db")
def db_group() -> None:
    """Manage the database schema."""


@db_group.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Migrate the database to REVISION (default: the newest)."""
    url = settings_or_exit().database_url
    migrations.upgrade(url, revision)
    click.echo(f"database at {revision}")


@db_group.command("current")
def db_current() -> None:
    """Print the revision the database is at."""
    url = settings_or_exit().database_url

    async def main() -> str | None:
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(migrations.current_revision)
        finally:
            await engine.dispose()

    current = asyncio.run(main())
    head = migrations.head_revision()
    if current is None:
        click.echo(f"not migrated (newest revision: {head}); run `verdict db upgrade`")
    elif current == head:
        click.echo(f"{current} (head)")
    else:
        click.echo(f"{current} (newest revision: {head}; run `verdict db upgrade`)")


@click.group("users")
def users_group() -> None:
    """Manage the people who have signed in."""


async def _change_users(
    session: AsyncSession, change: Callable[[AsyncSession], Awaitable[list[User]]], email: str
) -> list[User]:
    """Apply ``change`` and turn an unknown e-mail into a command-line error."""
    try:
        return await change(session)
    except UnknownUser:
        raise click.ClickException(
            f"no user with e-mail {email!r}: they must sign in once before they can be changed"
        ) from None


@users_group.command("promote")
@click.argument("email")
@click.option(
    "--role",
    type=click.Choice([role.value for role in Role]),
    default=Role.STAFF.value,
    show_default=True,
    help="The role to give.",
)
def users_promote(email: str, role: str) -> None:
    """Give the user with EMAIL a role (student, staff or admin)."""

    async def work(session: AsyncSession) -> Sequence[User]:
        return await _change_users(session, lambda db: set_role(db, email, Role(role)), email)

    for user in run_with_session(work):
        click.echo(f"{user.email} (id {user.id}) is now {role}")


@users_group.command("disable")
@click.argument("email")
def users_disable(email: str) -> None:
    """Disable the user with EMAIL and end their sessions at once."""

    async def work(session: AsyncSession) -> Sequence[User]:
        return await _change_users(session, lambda db: set_disabled(db, email), email)

    for user in run_with_session(work):
        click.echo(f"{user.email} (id {user.id}) is disabled and signed out everywhere")


@users_group.command("enable")
@click.argument("email")
def users_enable(email: str) -> None:
    """Allow the user with EMAIL to sign in again."""

    async def work(session: AsyncSession) -> Sequence[User]:
        return await _change_users(
            session, lambda db: set_disabled(db, email, disabled=False), email
        )

    for user in run_with_session(work):
        click.echo(f"{user.email} (id {user.id}) is enabled")


@users_group.command("list")
def users_list() -> None:
    """List every user: id, e-mail, role, state and name."""

    async def work(session: AsyncSession) -> Sequence[User]:
        return (await session.execute(select(User).order_by(User.id))).scalars().all()

    users = run_with_session(work)
    if not users:
        click.echo("no users yet: people appear here after their first sign-in")
        return
    for user in users:
        state = "disabled" if user.disabled else "active"
        click.echo(f"{user.id}\t{user.email}\t{user.role.value}\t{state}\t{user.name}")


COMMANDS: list[click.Command] = [db_group, users_group]
