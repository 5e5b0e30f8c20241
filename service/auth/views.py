"""The ``auth`` blueprint: start sign-in, finish it at the callback, sign out."""

from __future__ import annotations

import logging

from quart import (
    Blueprint,
    ResponseReturnValue,
    flash,
    redirect,
    render_template,
    request,
    session,
)
from quart_auth import login_required, login_user, logout_user

from service.auth.api_tokens import revoke_all_tokens
from service.auth.current import SessionUser, Surface, require_account, session_user
from service.auth.errors import AccessDenied, FlowError, SignInError
from service.auth.flows import pop_flow, start_flow
from service.auth.redirects import DEFAULT_TARGET, safe_next
from service.auth.sessions import revoke_all_sessions, revoke_session
from service.auth.signin import complete_sign_in
from service.auth.state import get_auth_state
from service.db import get_db
from service.security import CSRF_SESSION_KEY

log = logging.getLogger(__name__)

bp = Blueprint("auth", __name__)


@bp.get("/login")
async def login() -> ResponseReturnValue:
    """Send the browser to the provider to sign in, then back to ``next``."""
    target = safe_next(request.args.get("next"))
    if await session_user().is_authenticated:
        return redirect(target)
    flow = start_flow(target)
    state = get_auth_state()
    domains = state.settings.allowed_domains
    try:
        url = await state.provider.authorization_url(
            state=flow.state,
            nonce=flow.nonce,
            code_verifier=flow.code_verifier,
            domain_hint=next(iter(domains)) if len(domains) == 1 else None,
        )
    except SignInError as exc:
        return await sign_in_failed(exc)
    return redirect(url)


@bp.get("/login/callback")
async def callback() -> ResponseReturnValue:
    """Finish sign-in: check the flow, exchange the code, verify the ID token, open a session."""
    args = request.args
    flow = pop_flow(args.get("state"))  # popped even on error: a state works once
    try:
        error = args.get("error")
        if error is not None:
            if error == "access_denied":
                raise AccessDenied("provider answered error='access_denied'")
            raise FlowError(
                f"provider answered error={error[:64]!r}",
                "The sign-in provider could not complete the sign-in. Please try again.",
            )
        if flow is None:
            raise FlowError("state missing, unknown, expired or already used")
        code = args.get("code")
        if not code:
            raise FlowError("callback without a code", "The sign-in provider sent no code. Retry.")
        token, active = await complete_sign_in(
            get_auth_state(), flow, code, user_agent=request.headers.get("User-Agent", "")
        )
    except SignInError as exc:
        return await sign_in_failed(exc)
    login_user(SessionUser.signed_in(token, active), remember=True)
    # A CSRF token from before sign-in may have been planted with the session cookie.
    session.pop(CSRF_SESSION_KEY, None)
    log.info("user %s signed in (session %s)", active.user.id, active.login.id)
    return redirect(safe_next(flow.next))


@bp.post("/logout")
async def logout() -> ResponseReturnValue:
    """Revoke this browser's session and forget the cookie."""
    active = await session_user().load()
    if active is not None:
        async with get_db().session() as db:
            await revoke_session(db, active.login.id)
            await db.commit()
    logout_user()
    session.clear()
    return redirect(DEFAULT_TARGET, 303)


@bp.post("/logout/everywhere")
@login_required
async def logout_everywhere() -> ResponseReturnValue:
    """Revoke every session and every API access token of the signed-in user."""
    account = await require_account(Surface.PAGE)
    async with get_db().session() as db:
        count = await revoke_all_sessions(db, account.id)
        # A token is a credential like a session: whoever signs out everywhere because a
        # device or a secret may be in the wrong hands wants the scripts' tokens dead too.
        tokens = await revoke_all_tokens(db, account.id)
        await db.commit()
    log.info(
        "user %s signed out everywhere (%d sessions, %d API tokens)", account.id, count, tokens
    )
    logout_user()
    session.clear()
    noun = "token" if tokens == 1 else "tokens"
    await flash(f"Signed out on every device; {tokens} API access {noun} revoked.", "info")
    return redirect(DEFAULT_TARGET, 303)


async def sign_in_failed(exc: SignInError) -> ResponseReturnValue:
    """Log why a sign-in failed and show the person what to do, with the error's status."""
    log.warning("sign-in failed: %s: %s", exc.__class__.__name__, exc.reason)
    body = await render_template(
        "auth/sign_in_error.html", title=exc.title, message=exc.message, status=exc.status
    )
    return body, exc.status
