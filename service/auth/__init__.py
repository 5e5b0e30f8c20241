"""Sign-in with Google (or any OIDC provider) and server-side login sessions.

``init_app`` wires Quart-Auth (the cookie carries only an opaque session id), the ``auth``
blueprint, the provider client's lifetime, the ``user`` template variable and the answer to a
signed-out request (per :class:`Surface`: a sign-in redirect, 401 JSON or a closed WebSocket).
"""

from __future__ import annotations

import logging
from typing import Any, cast

from quart import (
    Quart,
    ResponseReturnValue,
    has_websocket_context,
    redirect,
    request,
    url_for,
    websocket,
)
from quart.typing import ErrorHandlerCallable
from quart_auth import Unauthorized, login_required

from service.auth.current import (
    CLOSE_POLICY_VIOLATION,
    SessionAuth,
    SessionUser,
    SignInRequired,
    Surface,
    current_account,
    require_account,
    session_user,
    staff_required,
)
from service.auth.provider import OIDCProvider
from service.auth.redirects import safe_next
from service.auth.state import EXTENSION_KEY, AuthState, get_auth_state
from service.auth.views import bp
from service.config import get_settings

__all__ = [
    "CLOSE_POLICY_VIOLATION",
    "SessionUser",
    "SignInRequired",
    "Surface",
    "current_account",
    "get_auth_state",
    "init_app",
    "login_required",
    "require_account",
    "session_user",
    "staff_required",
]

log = logging.getLogger(__name__)

COOKIE_NAME = "verdict_auth"
SECURE_COOKIE_NAME = "__Host-verdict_auth"


def init_app(app: Quart) -> AuthState:
    """Install sign-in and sessions on ``app``."""
    settings = get_settings(app)
    secure = settings.secure_cookies or settings.production
    SessionAuth(
        app,
        # __Host- makes browsers refuse the cookie unless Secure, Path=/ and host-only.
        cookie_name=SECURE_COOKIE_NAME if secure else COOKIE_NAME,
        cookie_secure=secure,
        cookie_samesite="Lax",  # Strict would drop the cookie on the redirect back from Google
        cookie_http_only=True,
        cookie_path="/",
        duration=settings.session_lifetime_days * 24 * 3600,
        mode="cookie",
        salt="verdict login session",
    )
    # The pending sign-in (state, nonce, verifier) lives in Quart's session cookie.
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SECURE"] = secure

    provider = OIDCProvider(
        issuer=settings.oidc_issuer,
        client_id=settings.google_client_id,
        client_secret=settings.google_client_secret,
        redirect_uri=settings.redirect_uri,
        timeout=settings.http_timeout,
    )
    state = AuthState(settings=settings, provider=provider)
    app.extensions[EXTENSION_KEY] = state

    app.register_blueprint(bp)
    app.before_serving(provider.start)
    app.after_serving(provider.close)
    app.before_request(_resolve_session)
    app.context_processor(_inject_user)
    # For a WebSocket the handler closes the socket and returns None, after which Quart sends
    # nothing more; Flask's handler type only knows handlers that return a response.
    app.register_error_handler(Unauthorized, cast(ErrorHandlerCallable, _unauthorized))
    return state


async def _resolve_session() -> None:
    # Resolve every request's session up front so a revoked session or a disabled user is out
    # at once and a dead cookie is deleted, whichever view runs.
    if request.endpoint != "static":
        await session_user().load()


async def _inject_user() -> dict[str, Any]:
    return {"user": await current_account()}


async def _unauthorized(error: Unauthorized) -> ResponseReturnValue | None:
    # require_account names its surface; the login_required and RoleGate decorators do not,
    # so their refusal follows the request (an API path or a JSON client get JSON).
    surface = error.surface if isinstance(error, SignInRequired) else _surface_of_request()
    if surface is Surface.WEBSOCKET:
        await websocket.close(CLOSE_POLICY_VIOLATION, "sign in first")
        return None
    if surface is Surface.API:
        return {"error": "unauthorized", "message": "Sign in first, then retry."}, 401
    target = request.full_path if request.method == "GET" else "/"
    return redirect(url_for("auth.login", next=safe_next(target.rstrip("?"))))


def _surface_of_request() -> Surface:
    if has_websocket_context():
        return Surface.WEBSOCKET
    if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
        return Surface.API
    return Surface.PAGE
