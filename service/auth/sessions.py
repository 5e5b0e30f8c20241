"""Server-side login sessions: the browser holds a random id, the database holds its SHA-256."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import LoginSession, User
from service.models.base import utcnow

TOKEN_BYTES = 32
TOUCH_INTERVAL = timedelta(minutes=5)
USER_AGENT_MAX = 512


@dataclass(frozen=True)
class ActiveSession:
    """A valid session and its (enabled) user, as loaded for one request."""

    login: LoginSession
    user: User


def hash_token(token: str) -> str:
    """Return the hex SHA-256 under which a session id is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


async def create_session(
    db: AsyncSession, user: User, *, lifetime: timedelta, user_agent: str
) -> tuple[str, ActiveSession]:
    """Store a new session for ``user``; return its id (only ever given to the browser)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now = utcnow()
    login = LoginSession(
        token_hash=hash_token(token),
        user_id=user.id,
        created_at=now,
        last_seen_at=now,
        expires_at=now + lifetime,
        user_agent=user_agent[:USER_AGENT_MAX],
    )
    db.add(login)
    await db.flush()
    return token, ActiveSession(login=login, user=user)


async def load_session(
    db: AsyncSession, token: str, *, now: datetime | None = None
) -> ActiveSession | None:
    """Return the live session for ``token``: None if unknown, revoked, expired or user disabled.

    The last-seen time is refreshed at most every few minutes (the caller commits).
    """
    now = now or utcnow()
    row = (
        await db.execute(
            select(LoginSession, User)
            .join(User, LoginSession.user_id == User.id)
            .where(LoginSession.token_hash == hash_token(token))
        )
    ).one_or_none()
    if row is None:
        return None
    login, user = row
    if login.revoked_at is not None or login.expires_at <= now or user.disabled:
        return None
    if now - login.last_seen_at >= TOUCH_INTERVAL:
        login.last_seen_at = now
    return ActiveSession(login=login, user=user)


async def revoke_session(db: AsyncSession, session_id: int) -> bool:
    """Revoke one session row; return whether it was still live (caller commits)."""
    result = await db.execute(
        update(LoginSession)
        .where(LoginSession.id == session_id, LoginSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return bool(getattr(result, "rowcount", 0))


async def revoke_all_sessions(db: AsyncSession, user_id: int) -> int:
    """Revoke every live session of a user; return how many (caller commits)."""
    result = await db.execute(
        update(LoginSession)
        .where(LoginSession.user_id == user_id, LoginSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return int(getattr(result, "rowcount", 0))
