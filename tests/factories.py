"""Small async builders for tests: users, signed-in clients, CSRF tokens.

Sign-in here skips the provider: it stores a real login session and hands the client the
same signed cookie a real sign-in would set.
"""

from __future__ import annotations

import itertools
import re
from datetime import timedelta
from typing import Any

from quart import Quart
from quart.testing import QuartClient
from quart_auth import generate_auth_token
from sqlalchemy import select

from service.auth.sessions import create_session
from service.config import get_settings
from service.db import get_db
from service.models import Role, User
from service.models.base import utcnow

_numbers = itertools.count(1)


async def create_user(
    app: Quart,
    *,
    email: str | None = None,
    name: str | None = None,
    role: Role = Role.STUDENT,
    disabled: bool = False,
    sub: str | None = None,
    picture: str = "",
    issuer: str = "https://accounts.google.com",
) -> User:
    """Store a user (unique sub and e-mail unless given) and return it."""
    number = next(_numbers)
    user = User(
        sub=sub or f"subject-{number}",
        issuer=issuer,
        email=email or f"person{number}@example.com",
        name=name if name is not None else f"Person {number}",
        picture=picture,
        role=role,
        disabled=disabled,
        created_at=utcnow(),
        updated_at=utcnow(),
    )
    async with get_db(app).session() as db:
        db.add(user)
        await db.commit()
    return user


async def get_user(app: Quart, user_id: int) -> User:
    """Reload a user from the database."""
    async with get_db(app).session() as db:
        return (await db.execute(select(User).where(User.id == user_id))).scalar_one()


async def sign_in_as(client: QuartClient, user: User, *, user_agent: str = "pytest") -> str:
    """Open a login session for ``user`` and give ``client`` its cookie; return the session id."""
    app = client.app
    days = get_settings(app).session_lifetime_days
    async with get_db(app).session() as db:
        token, _ = await create_session(
            db, user, lifetime=timedelta(days=days), user_agent=user_agent
        )
        await db.commit()
    auth = _auth_extension(app)
    client.set_cookie(
        "localhost",
        auth.cookie_name,
        generate_auth_token(client, token),
        path=auth.cookie_path,
        secure=auth.cookie_secure,
        httponly=True,
        samesite=auth.cookie_samesite,
    )
    return token


def _auth_extension(app: Quart) -> Any:
    return next(ext for ext in app.extensions["QUART_AUTH"] if ext.singleton)


async def csrf_token(client: QuartClient, path: str = "/") -> str:
    """Return the CSRF token rendered into the forms of ``path`` ('' when it has none)."""
    page = await (await client.get(path)).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    return match.group(1) if match else ""
