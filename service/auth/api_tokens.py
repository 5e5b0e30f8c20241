"""Personal access tokens for the JSON API: created, listed, revoked and resolved.

A token is ``vdt_`` plus 32 random bytes (URL-safe base64). Only its SHA-256 is stored, with
the first characters as a prefix so people can tell their tokens apart; the plaintext is shown
once, when it is created. Tokens are honoured only on ``/api/`` paths, as
``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import timedelta

from quart import has_request_context, request
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import Unauthorized

from service.models import ApiToken, User
from service.models.base import utcnow

TOKEN_PREFIX = "vdt_"  # noqa: S105 - a marker, not a secret
TOKEN_BYTES = 32
PREFIX_LENGTH = 8
NAME_MAX = 100
MAX_LIVE_TOKENS = 20
TOUCH_INTERVAL = timedelta(minutes=1)
API_PATH_PREFIX = "/api/"


class TokenRefused(ValueError):
    """A token could not be created; the message says why."""


class InvalidToken(Unauthorized):
    """The request's Bearer token is unknown, revoked, or its owner is disabled."""

    error_code = "invalid_token"
    description = (
        "The access token is unknown or revoked. Create a new one on your account page "
        "and send it as 'Authorization: Bearer <token>'."
    )

    def __init__(self) -> None:
        super().__init__(www_authenticate=WWWAuthenticate("bearer", {"error": "invalid_token"}))


def hash_api_token(plaintext: str) -> str:
    """Return the hex SHA-256 under which a token is stored."""
    return hashlib.sha256(plaintext.encode("utf-8", "surrogatepass")).hexdigest()


def clean_token_name(name: str) -> str:
    """Return the trimmed token name, or raise TokenRefused when empty or too long."""
    cleaned = name.strip()
    if not cleaned:
        raise TokenRefused("Give the token a name, e.g. the script or machine that will use it.")
    if len(cleaned) > NAME_MAX:
        raise TokenRefused(f"Token names have at most {NAME_MAX} characters.")
    return cleaned


async def live_tokens(db: AsyncSession, user: User) -> Sequence[ApiToken]:
    """Return the user's tokens that are not revoked, newest first."""
    result = await db.execute(
        select(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    )
    return result.scalars().all()


async def create_token(db: AsyncSession, user: User, name: str) -> tuple[str, ApiToken]:
    """Store a new token for ``user``; return its plaintext (never stored) and row.

    The caller commits. Raises TokenRefused for a bad name or too many live tokens.
    """
    cleaned = clean_token_name(name)
    live = await db.scalar(
        select(func.count())
        .select_from(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    )
    if (live or 0) >= MAX_LIVE_TOKENS:
        raise TokenRefused(
            f"You already have {MAX_LIVE_TOKENS} tokens; revoke one you no longer use first."
        )
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    token = ApiToken(
        user_id=user.id,
        name=cleaned,
        token_hash=hash_api_token(plaintext),
        prefix=plaintext[:PREFIX_LENGTH],
        created_at=utcnow(),
    )
    db.add(token)
    await db.flush()
    return plaintext, token


async def revoke_token(db: AsyncSession, user: User, token_id: int) -> ApiToken | None:
    """Revoke the user's token ``token_id``; return it, or None if it is not theirs or gone.

    The caller commits. Revoking an already revoked token returns None.
    """
    token = await db.scalar(
        select(ApiToken).where(
            ApiToken.id == token_id,
            ApiToken.user_id == user.id,
            ApiToken.revoked_at.is_(None),
        )
    )
    if token is None:
        return None
    token.revoked_at = utcnow()
    return token


async def revoke_all_tokens(db: AsyncSession, user_id: int) -> int:
    """Revoke every live token of a user; return how many (caller commits)."""
    result = await db.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return int(getattr(result, "rowcount", 0))


async def resolve_token(db: AsyncSession, plaintext: str) -> User | None:
    """Return the enabled user owning the live token ``plaintext``, else None.

    The last-used time is refreshed at most once a minute (the caller commits).
    """
    if not plaintext.startswith(TOKEN_PREFIX):
        return None
    row = (
        await db.execute(
            select(ApiToken, User)
            .join(User, ApiToken.user_id == User.id)
            .where(ApiToken.token_hash == hash_api_token(plaintext))
        )
    ).one_or_none()
    if row is None:
        return None
    token, user = row
    if token.revoked_at is not None or user.disabled:
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at >= TOUCH_INTERVAL:
        token.last_used_at = now
    return user


def presented_bearer_token() -> str | None:
    """Return the Bearer token of the current API request, or None.

    Only requests under ``/api/`` count: elsewhere an ``Authorization`` header is ignored,
    so it can neither sign anyone in nor excuse a form from its CSRF token.
    """
    if not has_request_context() or not request.path.startswith(API_PATH_PREFIX):
        return None
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return credentials.strip()
