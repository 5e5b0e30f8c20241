"""The ``api`` blueprint (/api/v1), what its views share, and who-and-what: /me, /languages.

Every view authenticates first (Bearer token, or the browser's session cookie plus the CSRF
header on state-changing calls), then validates its input against a pydantic model, and
returns a response model instance. Errors are JSON ``{"error", "message"}``. The problem and
submission views live in ``service.api.problems`` and ``service.api.submissions``, on this
same blueprint.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from quart import Blueprint
from quart_auth import login_required
from quart_schema import document_response, security_scheme, validate_response

from service.api.errors import register_blueprint_handlers
from service.api.models import ErrorOut, LanguageList, LanguageOut, UserOut
from service.auth.current import Surface, require_account
from service.evaluator import offered_languages
from service.submissions.queries import MAX_ID

bp = Blueprint("api", __name__, url_prefix="/api/v1")
register_blueprint_handlers(bp)

#: The route converter of an id in a path (larger ids are not looked up).
ID = f"int(max={MAX_ID})"

F = TypeVar("F", bound=Callable[..., Any])


def errors(*statuses: int) -> Callable[[F], F]:
    """Document that a view may answer with the JSON error body under ``statuses``."""

    def decorate(view: F) -> F:
        for status in statuses:
            view = document_response(ErrorOut, status)(view)
        return view

    return decorate


# -- who and what ---------------------------------------------------------------------------


@bp.get("/me")
@login_required
@errors(401)
@validate_response(UserOut)
async def me() -> UserOut:
    """Return the signed-in user."""
    return UserOut.of(await require_account(Surface.API))


@bp.get("/languages")
@security_scheme([])
@validate_response(LanguageList)
async def languages() -> LanguageList:
    """List the languages this server offers, with their versions."""
    offered = await asyncio.to_thread(offered_languages)
    return LanguageList(
        items=[
            LanguageOut(id=item.language.id, name=item.language.name, version=item.version)
            for item in offered
        ]
    )
