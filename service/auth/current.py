"""Who is signed in: Quart-Auth's signed cookie carries an opaque session id, resolved here.

The session row and its user are loaded once per request and cached on the AuthUser; an
unknown, revoked or expired session, a disabled user or a cookie with a bad signature counts
as anonymous and the cookie is deleted in the response.

An API request (path under ``/api/``) that carries ``Authorization: Bearer`` is judged by its
token alone: the cookie is never consulted, so a forged cross-site request with a junk token
cannot ride the browser's session (such requests skip the CSRF check). An invalid token
raises InvalidToken (401) as soon as anything asks who is signed in.

A view that needs someone signed in calls :func:`require_account` with its :class:`Surface`:
signed out, an HTML page redirects to sign-in, the API answers 401 JSON and a WebSocket is
closed (``service.auth`` answers the SignInRequired it raises).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import Enum
from functools import wraps

from quart import current_app, has_request_context, request
from quart_auth import Action, AuthUser, QuartAuth, Unauthorized, current_user
from werkzeug.exceptions import Forbidden

from service.auth.api_tokens import InvalidToken, presented_bearer_token, resolve_token
from service.auth.sessions import ActiveSession, load_session
from service.db import get_db
from service.models import User


class SessionUser(AuthUser):
    """The browser's session, resolved against the ``login_sessions`` table on first use."""

    def __init__(self, auth_id: str | None, action: Action = Action.PASS) -> None:
        super().__init__(auth_id, action)
        self._loaded = False
        self._active: ActiveSession | None = None
        self._token_checked = False
        self._token_owner: User | None = None

    @classmethod
    def signed_in(cls, token: str, active: ActiveSession) -> SessionUser:
        """Return the user object for a session created during this request."""
        user = cls(token)
        user._loaded = True
        user._active = active
        return user

    async def load(self) -> ActiveSession | None:
        """Return the live session (querying the database at most once per request)."""
        if self._loaded:
            return self._active
        self._loaded = True
        if self._auth_id is None or presented_bearer_token() is not None:
            return None  # a Bearer request never rides the cookie
        async with get_db().session() as db:
            self._active = await load_session(db, self._auth_id)
            if db.dirty:  # the last-seen time moved; most requests only read
                await db.commit()
        if self._active is None:
            self._auth_id = None
            if has_request_context():  # a websocket cannot delete cookies
                self.action = Action.DELETE
        return self._active

    async def token_owner(self, token: str) -> User:
        """Return the owner of the request's Bearer token (looked up once), or raise 401."""
        if not self._token_checked:
            self._token_checked = True
            async with get_db().session() as db:
                self._token_owner = await resolve_token(db, token)
                await db.commit()
        if self._token_owner is None:
            raise InvalidToken()
        return self._token_owner

    @property
    async def is_authenticated(self) -> bool:
        """Return whether the token, else the cookie, names an enabled user."""
        return await self.account is not None

    @property
    async def account(self) -> User | None:
        """Return the signed-in user (by Bearer token on API paths, else by cookie), or None."""
        token = presented_bearer_token()
        if token is not None:
            return await self.token_owner(token)
        active = await self.load()
        return None if active is None else active.user


class SessionAuth(QuartAuth):
    """Quart-Auth that also deletes a cookie whose signature does not verify."""

    user_class = SessionUser

    def resolve_user(self) -> AuthUser:
        """Build the request's user; a present but unreadable cookie is deleted."""
        user = super().resolve_user()
        if user.auth_id is None and has_request_context() and self.cookie_name in request.cookies:
            user.action = Action.DELETE
        return user


def session_user() -> SessionUser:
    """Return the current request's SessionUser."""
    user = current_user._get_current_object()  # type: ignore[attr-defined]
    assert isinstance(user, SessionUser)
    return user


async def current_account() -> User | None:
    """Return the signed-in user of this request, or None."""
    return await session_user().account


class Surface(Enum):
    """Where a view answers, which says how it refuses someone signed out."""

    PAGE = "page"  # an HTML page: 302 to /login?next=<this page>
    API = "api"  # the JSON API: 401 {"error": "unauthorized", "message": ...}
    WEBSOCKET = "websocket"  # a WebSocket: closed with 1008 before it is accepted


#: The WebSocket close code of a refused connection ("policy violation").
CLOSE_POLICY_VIOLATION = 1008


class SignInRequired(Unauthorized):
    """Nobody is signed in where a view of ``surface`` needs someone."""

    def __init__(self, surface: Surface) -> None:
        super().__init__()
        self.surface = surface


async def require_account(surface: Surface) -> User:
    """Return the signed-in user, or raise SignInRequired to refuse as ``surface`` does."""
    account = await current_account()
    if account is None:
        raise SignInRequired(surface)
    return account


class RoleGate:
    """A view decorator letting through only users ``allowed`` accepts.

    Signed out: 401 (the sign-in redirect or JSON); signed in but not allowed: 403 ``refusal``.
    """

    def __init__(self, allowed: Callable[[User], bool], refusal: str) -> None:
        self.allowed = allowed
        self.refusal = refusal

    def __call__[**P, T](self, func: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
        """Wrap ``func`` with the check."""

        @wraps(func)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
            account = await current_account()
            if account is None:
                raise Unauthorized()
            if not self.allowed(account):
                raise Forbidden(self.refusal)
            return await current_app.ensure_async(func)(*args, **kwargs)

        return wrapper


#: Restrict a view to staff and admins.
staff_required = RoleGate(lambda user: user.is_staff, "Only staff can do this.")
