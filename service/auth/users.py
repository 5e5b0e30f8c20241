"""Find or create the person behind a verified identity, keyed by the OIDC subject."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.auth.errors import NotPermitted
from service.auth.id_tokens import Identity
from service.auth.sessions import revoke_all_sessions
from service.courses.service import claim_memberships
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
    # Roster entries made before the first sign-in wait under the e-mail; from now on the
    # membership follows the user (keyed by subject), whatever their address becomes.
    await claim_memberships(db, user)
    return user


class UnknownUser(LookupError):
    """No user has the given e-mail address; the message says which."""


async def users_with_email(db: AsyncSession, email: str) -> list[User]:
    """Return every user with ``email`` (case-insensitive, oldest first) or raise UnknownUser.

    Users are keyed by subject, so two accounts may share an address; changes apply to all.
    """
    wanted = email.strip().lower()
    query = select(User).where(func.lower(User.email) == wanted).order_by(User.id)
    users = list((await db.execute(query)).scalars().all())
    if not users:
        raise UnknownUser(f"no user with e-mail {wanted!r} has signed in yet")
    return users


async def set_role(db: AsyncSession, email: str, role: Role) -> list[User]:
    """Give the users with ``email`` the ``role`` (caller commits)."""
    users = await users_with_email(db, email)
    for user in users:
        user.role = role
    await db.flush()
    return users


async def set_disabled(db: AsyncSession, email: str, disabled: bool = True) -> list[User]:
    """Disable (or re-enable) the users with ``email``; disabling revokes every session."""
    users = await users_with_email(db, email)
    for user in users:
        user.disabled = disabled
        if disabled:
            await revoke_all_sessions(db, user.id)
    await db.flush()
    return users
