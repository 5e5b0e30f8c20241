"""The `verdict tokens` commands: create, list and revoke personal access tokens.

`verdict tokens create` prints the new token and nothing else on standard output, so a script
can capture it (`TOKEN=$(verdict tokens create ada@example.org --name ci)`).
"""

from __future__ import annotations

from collections.abc import Sequence

import click
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.auth.api_tokens import TokenRefused, create_token, live_tokens, revoke_token
from service.commands.web import run_with_session
from service.models import ApiToken, User


async def _user_by_email(db: AsyncSession, email: str) -> User:
    """Return the user with ``email`` (case-insensitive) or stop with a command-line error."""
    users = (
        (await db.execute(select(User).where(func.lower(User.email) == email.strip().lower())))
        .scalars()
        .all()
    )
    if not users:
        raise click.ClickException(
            f"no user with e-mail {email!r}: they must sign in once before they get a token"
        )
    if len(users) > 1:
        raise click.ClickException(
            f"several users have e-mail {email!r} (ids {', '.join(str(u.id) for u in users)})"
        )
    return users[0]


@click.group("tokens")
def tokens_group() -> None:
    """Manage personal access tokens for the JSON API."""


@tokens_group.command("create")
@click.argument("email")
@click.option("--name", required=True, help="What the token is for (shown on the account page).")
def tokens_create(email: str, name: str) -> None:
    """Create a token for the user with EMAIL and print it (only it) on standard output."""

    async def work(db: AsyncSession) -> str:
        user = await _user_by_email(db, email)
        try:
            plaintext, _ = await create_token(db, user, name)
        except TokenRefused as refused:
            raise click.ClickException(str(refused)) from None
        return plaintext

    click.echo(run_with_session(work))


@tokens_group.command("list")
@click.argument("email")
def tokens_list(email: str) -> None:
    """List the live tokens of the user with EMAIL: id, prefix, created, last used, name."""

    async def work(db: AsyncSession) -> Sequence[ApiToken]:
        return await live_tokens(db, await _user_by_email(db, email))

    tokens = run_with_session(work)
    if not tokens:
        click.echo(f"{email} has no live tokens", err=True)
        return
    for token in tokens:
        last_used = token.last_used_at.isoformat() if token.last_used_at else "never"
        click.echo(
            f"{token.id}\t{token.prefix}\t{token.created_at.isoformat()}\t{last_used}\t{token.name}"
        )


@tokens_group.command("revoke")
@click.argument("email")
@click.argument("token_id", type=int)
def tokens_revoke(email: str, token_id: int) -> None:
    """Revoke the token TOKEN_ID of the user with EMAIL."""

    async def work(db: AsyncSession) -> ApiToken | None:
        return await revoke_token(db, await _user_by_email(db, email), token_id)

    token = run_with_session(work)
    if token is None:
        raise click.ClickException(f"{email} has no live token with id {token_id}")
    click.echo(f"token {token.id} ({token.name}) revoked")


COMMANDS: tuple[click.Command, ...] = (tokens_group,)
