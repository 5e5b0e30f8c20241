"""Web hygiene: CSRF tokens on state-changing requests, security headers on every response,
and the Origin check that keeps other sites off the WebSockets.

A random token is kept in the signed Quart session and rendered into forms with the
``csrf_token()`` template global. Every POST, PUT, PATCH and DELETE must send it back as the
form field ``csrf_token`` or the header ``X-CSRF-Token``, unless the view is marked with
:func:`csrf_exempt` or it is an API request (under ``/api/``) carrying ``Authorization: Bearer``:
such a request is authenticated by its token alone, never by the cookie, so a cross-site
request cannot borrow the browser's session. Elsewhere a Bearer header excuses nothing.
The form is read for the token only when the session holds one (a session without a token is
refused at once), and then within the route's body limits (``service.web.limits``).
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from quart import Quart, Response, current_app, request, session
from werkzeug.exceptions import BadRequest

from service.auth.api_tokens import presented_bearer_token
from service.auth.current import session_user
from service.config import Settings, get_settings

CSRF_SESSION_KEY = "csrf_token"
CSRF_FORM_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
CSRF_TOKEN_BYTES = 32
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
EXEMPT_ATTRIBUTE = "_verdict_csrf_exempt"

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' https: data:",
        "object-src 'none'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
    )
)
HSTS = "max-age=63072000; includeSubDomains"


class CSRFError(BadRequest):
    """A state-changing request came without the session's CSRF token."""

    description = "CSRF token missing or wrong. Reload the page and submit the form again."
    error_code = "csrf_failed"


def csrf_exempt[F: Callable[..., Any]](view: F) -> F:
    """Mark a view as not needing a CSRF token (it must authenticate some other way)."""
    setattr(view, EXEMPT_ATTRIBUTE, True)
    return view


def csrf_token() -> str:
    """Return this session's CSRF token, creating it on first use."""
    token = session.get(CSRF_SESSION_KEY)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(CSRF_TOKEN_BYTES)
        session[CSRF_SESSION_KEY] = token
    return token


async def check_csrf() -> None:
    """Reject a state-changing request whose CSRF token is missing or wrong."""
    if request.method in SAFE_METHODS or request.routing_exception is not None or _is_exempt():
        return  # an unknown URL or method gets its 404/405, not a CSRF error
    if presented_bearer_token() is not None:
        return  # authenticated by the token only (see service.auth.current)
    if request.path.startswith("/api/") and await session_user().load() is None:
        return  # no session to ride on: the API view answers 401 with WWW-Authenticate
    expected = session.get(CSRF_SESSION_KEY)
    if not isinstance(expected, str) or not expected:
        raise CSRFError()  # this session was never given a token: refused without the body
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.mimetype in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        # Bounded by the route's body limit and field count (service.web.limits).
        sent = (await request.form).get(CSRF_FORM_FIELD)
    if not sent or not hmac.compare_digest(sent.encode("utf-8"), expected.encode("utf-8")):
        raise CSRFError()


def _is_exempt() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, EXEMPT_ATTRIBUTE, False))


def origin_allowed(origin: str | None, public_url: str) -> bool:
    """Return whether a WebSocket's Origin is absent (not a browser) or the site itself.

    Browsers send cookies on cross-site WebSocket handshakes and no CSRF token rides along,
    so the Origin header is what tells the site's own pages from another site's.
    """
    if origin is None:
        return True
    return _origin_of(origin) == _origin_of(public_url)


def _origin_of(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url.strip().lower())
    try:
        port = parts.port
    except ValueError:
        return ("invalid", "", None)
    default_port = {"http": 80, "https": 443}.get(parts.scheme)
    return (parts.scheme, parts.hostname or "", port or default_port)


def security_headers(settings: Settings) -> Callable[[Response], Awaitable[Response]]:
    """Return an after-request hook adding the security headers for ``settings``."""
    headers = {
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    if settings.production:
        headers["Strict-Transport-Security"] = HSTS

    async def add_headers(response: Response) -> Response:
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        return response

    return add_headers


def init_app(app: Quart) -> None:
    """Enforce CSRF tokens and add security headers on ``app``."""
    app.before_request(check_csrf)
    app.after_request(security_headers(get_settings(app)))
    app.add_template_global(csrf_token)
