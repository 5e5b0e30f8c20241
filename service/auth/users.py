"""Find or create the person behind a verified identity, keyed by the OIDC subject."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.auth.errors import NotPermitted
from service.auth.sessions import revoke_all_sessions
from service.auth.tokens import Identity
from service.models import Role, User
from service.models.base import utcnow


async def sign_in_user(db: AsyncSession, identity: Identity, admin_emails: frozenset[str]) -> User:
    """Return the user for ``identity``, created or refreshed; refuse disabled accounts.

    E-mail, name and picture follow the provider at every sign-in; an address listed in
    ``ADMIN_EMAILS`` makes the user an admin (never demoted here: roles are also set by the CLI).
    """
    user = (await db.execute(select(User).where(User.sub == identity.sub))).scalar_one_or_none()
    now = utcnow()
    if user is None:
        user = User(sub=identity.sub, issuer=identity.issuer, role=Role.STUDENT, created_at=now)
        db.add(user)
    elif user.issuer and user.issuer != identity.issuer:
        # The same subject from another provider is another person.
        raise NotPermitted(
            f"subject {identity.sub!r} is registered with issuer {user.issuer!r}",
            "This account belongs to another sign-in provider. Ask an administrator for help.",
        )
    if user.disabled:
        raise NotPermitted(
            f"user {user.id} is disabled",
            "Your account has been disabled. Ask an administrator if you think this is a mistake.",
        )
    user.issuer = identity.issuer
    user.email = identity.email
    user.name = identity.name
    user.picture = identity.picture
    user.last_login_at = now
    if identity.email in admin_emails:
        user.role = Role.ADMIN
    await db.flush()
    return user


class UnknownUser(LookupError):
    """No user has the given e-mail address; the message says which."""


async def find_by_email(db: AsyncSession, email: str) -> User:
    """Return the user with ``email`` (case-insensitive) or raise UnknownUser."""
    wanted = email.strip().lower()
    user = (await db.execute(select(User).where(User.email == wanted))).scalars().first()
    if user is None:
        raise UnknownUser(f"no user with e-mail {wanted!r} has signed in yet")
    return user


async def set_role(db: AsyncSession, email: str, role: Role) -> User:
    """Give the user with ``email`` the ``role`` (caller commits)."""
    user = await find_by_email(db, email)
    user.role = role
    await db.flush()
    return user


async def set_disabled(db: AsyncSession, email: str, disabled: bool = True) -> User:
    """Disable (or re-enable) the user with ``email``; disabling revokes every session."""
    user = await find_by_email(db, email)
    user.disabled = disabled
    if disabled:
        await revoke_all_sessions(db, user.id)
    await db.flush()
    return user
