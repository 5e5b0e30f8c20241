"""The account page: who you are, and your personal access tokens for the API.

A new token's plaintext is rendered once, in the response to the form that created it; it is
never flashed (that would put it in the session cookie) and never stored. So that response
cannot be a redirect, and a reload sends the form again: each rendered form carries a one-time
id, the session remembers the last ids used, and a form sent twice creates one token.
"""

from __future__ import annotations

import secrets

from quart import (
    Blueprint,
    ResponseReturnValue,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
)
from quart_auth import login_required

from service.auth.api_tokens import (
    MAX_LIVE_TOKENS,
    NAME_MAX,
    TokenRefused,
    create_token,
    live_tokens,
    revoke_token,
)
from service.auth.current import Surface, require_account
from service.db import get_db
from service.models import User

bp = Blueprint("account", __name__)

#: Larger ids are not looked up (SQLite's integers overflow past 2**63).
MAX_TOKEN_ID = 2**31 - 1
#: The session key of the create forms already used, and how many of them are remembered.
USED_FORMS_KEY = "token_forms_used"
USED_FORMS_KEPT = 10


async def _render(
    account: User,
    *,
    new_token: str | None = None,
    error: str | None = None,
    notice: str | None = None,
    name: str = "",
    status: int = 200,
) -> ResponseReturnValue:
    async with get_db().session() as db:
        tokens = await live_tokens(db, account)
    page = await render_template(
        "account/index.html",
        account=account,
        tokens=tokens,
        new_token=new_token,
        error=error,
        notice=notice,
        name=name,
        form_id=secrets.token_urlsafe(16),
        name_max=NAME_MAX,
        max_tokens=MAX_LIVE_TOKENS,
    )
    # The page may show a token in clear: keep it out of every cache.
    return page, status, {"Cache-Control": "no-store"}


@bp.get("/account")
@login_required
async def index() -> ResponseReturnValue:
    """Show the profile and the list of live access tokens."""
    return await _render(await require_account(Surface.PAGE))


@bp.post("/account/tokens")
@login_required
async def create() -> ResponseReturnValue:
    """Create an access token and show it, once, on the page."""
    account = await require_account(Surface.PAGE)
    form = await request.form
    name, form_id = form.get("name", ""), form.get("form_id", "")[:64]
    used = [str(seen) for seen in session.get(USED_FORMS_KEY, [])]
    if form_id and form_id in used:
        return await _render(
            account,
            notice=(
                "This form was sent already (a reload?): no second token was created. The "
                "token it made is in the list; its value was shown only once."
            ),
        )
    async with get_db().session() as db:
        try:
            plaintext, _ = await create_token(db, account, name)
        except TokenRefused as refused:
            return await _render(account, error=str(refused), name=name[:NAME_MAX], status=422)
        await db.commit()
    if form_id:
        session[USED_FORMS_KEY] = [*used, form_id][-USED_FORMS_KEPT:]
    return await _render(account, new_token=plaintext, status=201)


@bp.post(f"/account/tokens/<int(max={MAX_TOKEN_ID}):token_id>/revoke")
@login_required
async def revoke(token_id: int) -> ResponseReturnValue:
    """Revoke one of your own tokens (someone else's is not found)."""
    account = await require_account(Surface.PAGE)
    async with get_db().session() as db:
        token = await revoke_token(db, account, token_id)
        if token is None:
            abort(404)
        await db.commit()
    await flash(f"Token “{token.name}” revoked: it no longer works.", "info")
    return redirect("/account", 303)
