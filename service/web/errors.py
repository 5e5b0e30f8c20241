"""Turn HTTP errors into styled pages, or JSON ``{"error", "message"}`` under ``/api``.

Unhandled exceptions reach the 500 handler as an ``InternalServerError`` after Quart has
logged them; the page never shows a traceback.
"""

from __future__ import annotations

import logging

from markupsafe import escape
from quart import Quart, ResponseReturnValue, has_request_context, render_template, request
from werkzeug.exceptions import HTTPException, default_exceptions

log = logging.getLogger(__name__)

API_PREFIX = "/api/"
MESSAGES = {
    400: "The request could not be understood. Check what you sent and try again.",
    401: "Sign in to see this page.",
    403: "Your account is not allowed to do this.",
    404: "There is nothing at this address. Check the link or go back to the home page.",
    405: "This address does not accept that kind of request.",
    500: "Something went wrong on our side. It has been logged; please try again later.",
}
FALLBACK_PAGE = (
    "<!doctype html><html lang=en><meta charset=utf-8><title>{code} {name}</title>"
    "<h1>{code} {name}</h1><p>{message}</p><p><a href=/>Home</a></p></html>"
)


def error_code(error: HTTPException) -> str:
    """Return the machine-readable code of ``error`` (``not_found``, ``csrf_failed``...)."""
    explicit = getattr(error, "error_code", None)
    if isinstance(explicit, str):
        return explicit
    if error.code == 500:
        return "internal_error"
    return (error.name or "error").lower().replace(" ", "_").replace("'", "")


def error_message(error: HTTPException) -> str:
    """Return what to tell the person: the view's own description, else a friendly default."""
    code = error.code or 500
    if code >= 500:
        return MESSAGES[500]  # never leak details of a server error
    description = error.description
    standard = default_exceptions.get(code)
    if description is None or (standard is not None and description == standard.description):
        return MESSAGES.get(code, description or "")
    return description


def wants_json() -> bool:
    """Return whether the error should be JSON (API paths, WebSockets) rather than a page."""
    if not has_request_context():  # a WebSocket refused before it was accepted
        return True
    return request.path.startswith(API_PREFIX) or request.path == API_PREFIX.rstrip("/")


async def handle_http_error(error: HTTPException) -> ResponseReturnValue:
    """Render ``error`` as JSON under /api, else as its error page."""
    code = error.code or 500
    message = error_message(error)
    headers = _allow_header(error)
    if wants_json():
        return {"error": error_code(error), "message": message}, code, headers
    try:
        body = await render_template(
            [f"errors/{code}.html", "errors/error.html"],
            code=code,
            name=error.name,
            message=message,
        )
    except Exception:  # the page itself failed (e.g. the database is down): keep it plain
        log.exception("rendering the %s page failed", code)
        body = FALLBACK_PAGE.format(code=code, name=escape(error.name), message=escape(message))
    return body, code, headers


def _allow_header(error: HTTPException) -> dict[str, str]:
    response = error.get_response()
    allow = response.headers.get("Allow")
    return {"Allow": allow} if allow else {}


def register_error_handlers(app: Quart) -> None:
    """Handle every HTTP error (and so every unhandled exception) on ``app``."""
    app.register_error_handler(HTTPException, handle_http_error)
