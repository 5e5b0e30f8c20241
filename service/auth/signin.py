"""Finish a sign-in: exchange the code, verify the ID token, find the user, open a session."""

from __future__ import annotations

import logging

from sqlalchemy.exc import IntegrityError

from service.auth.errors import ProviderUnavailable
from service.auth.flows import PendingFlow
from service.auth.id_tokens import Identity, validate_id_token
from service.auth.sessions import ActiveSession, create_session
from service.auth.state import AuthState
from service.auth.users import sign_in_user
from service.db import get_db

log = logging.getLogger(__name__)


async def complete_sign_in(
    state: AuthState, flow: PendingFlow, code: str, *, user_agent: str
) -> tuple[str, ActiveSession]:
    """Return a new session id and session for the person behind ``code``, or raise SignInError."""
    tokens = await state.provider.exchange_code(code, flow.code_verifier)
    id_token = tokens.get("id_token")
    if not isinstance(id_token, str) or not id_token:
        raise ProviderUnavailable("token response has no id_token")
    settings = state.settings
    identity = await validate_id_token(
        id_token,
        keys=state.provider,
        issuer=settings.oidc_issuer,
        client_id=settings.google_client_id,
        nonce=flow.nonce,
        allowed_domains=settings.allowed_domains,
    )
    return await open_session(state, identity, user_agent=user_agent)


async def open_session(
    state: AuthState, identity: Identity, *, user_agent: str
) -> tuple[str, ActiveSession]:
    """Find or create the user of ``identity`` and store a new login session for them."""
    try:
        return await _store_session(state, identity, user_agent)
    except IntegrityError:
        # Two first sign-ins of one person raced to create the user: the loser retries once
        # and finds the winner's row.
        log.info("user %r was created concurrently; retrying", identity.sub)
        return await _store_session(state, identity, user_agent)


async def _store_session(
    state: AuthState, identity: Identity, user_agent: str
) -> tuple[str, ActiveSession]:
    async with get_db().session() as db:
        user = await sign_in_user(db, identity, state.settings.admin_emails)
        token, active = await create_session(
            db, user, lifetime=state.session_lifetime, user_agent=user_agent
        )
        await db.commit()
        return token, active
