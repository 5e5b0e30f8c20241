"""JSON errors of the API: ``{"error": code, "message": text}`` with the right status.

Every HTTP error under ``/api`` is already JSON (service.web.errors); this module adds what
that handler cannot know: invalid request bodies and query strings (422 naming the field),
refused submissions and imports (their own status, ``Retry-After`` on 429), and the
``WWW-Authenticate`` challenge of a bad access token.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from quart import Blueprint, Quart, ResponseReturnValue
from quart_schema import RequestSchemaValidationError
from quart_schema.validation import QuerystringValidationError
from werkzeug.exceptions import HTTPException

from service.auth.api_tokens import InvalidToken
from service.courses.service import CourseRefused
from service.problems.importer import ImportRefused
from service.submissions.validation import SubmissionRefused


class ApiError(HTTPException):
    """An API refusal with a status, a stable code and a message."""

    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(description=message)
        self.code = status
        self.error_code = error


def error_body(error: str, message: str) -> dict[str, str]:
    """Return the JSON body of an error."""
    return {"error": error, "message": message}


def describe_validation_error(error: Exception, *, where: str) -> str:
    """Return a message naming each invalid field of a request ``where`` (body or query)."""
    if not isinstance(error, ValidationError):
        if where == "body":
            return "Send a JSON object in the body, with Content-Type: application/json."
        return f"The {where} could not be read."
    details = error.errors(include_url=False)
    if where == "body" and len(details) == 1 and not details[0]["loc"]:
        return "Send a JSON object in the body, with Content-Type: application/json."
    problems = []
    for detail in details[:5]:
        location = ".".join(str(part) for part in detail["loc"]) or where
        problems.append(f"{location}: {_short(detail['msg'])}")
    prefix = "query parameter " if where == "query" else ""
    return "Invalid " + where + ": " + "; ".join(prefix + problem for problem in problems)


def _short(message: str) -> str:
    return message.removeprefix("Value error, ")


async def invalid_request(error: RequestSchemaValidationError) -> ResponseReturnValue:
    """Answer 422 naming the invalid fields of the body or query string."""
    where = "query" if isinstance(error, QuerystringValidationError) else "body"
    message = describe_validation_error(error.validation_error, where=where)
    return error_body("invalid_request", message), 422


async def not_utf8(error: UnicodeDecodeError) -> ResponseReturnValue:
    """Answer 400 to a body that is not UTF-8 (Quart decodes JSON before it validates)."""
    message = (
        f"The body is not valid UTF-8 (byte {error.start} cannot be decoded): send JSON text "
        "encoded as UTF-8."
    )
    return error_body("invalid_request", message), 400


async def submission_refused(refusal: SubmissionRefused) -> ResponseReturnValue:
    """Answer a refused submission with its status (and Retry-After on 429)."""
    headers: dict[str, Any] = {}
    if refusal.retry_after is not None:
        headers["Retry-After"] = str(refusal.retry_after)
    return error_body(refusal.code, refusal.message), refusal.status, headers


async def import_refused(refusal: ImportRefused) -> ResponseReturnValue:
    """Answer a refused package import with 422 and the reason."""
    return error_body("import_refused", refusal.message), 422


async def course_refused(refusal: CourseRefused) -> ResponseReturnValue:
    """Answer a refused course request with its status and message."""
    return error_body(refusal.error_code, refusal.message), refusal.status


async def invalid_token(error: InvalidToken) -> ResponseReturnValue:
    """Answer a bad Bearer token with 401 and a Bearer challenge."""
    headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
    return error_body(error.error_code, str(error.description)), 401, headers


def register_blueprint_handlers(api: Blueprint) -> None:
    """Answer the ``api`` blueprint's refusals (call once, before it is registered)."""
    api.register_error_handler(RequestSchemaValidationError, invalid_request)
    api.register_error_handler(UnicodeDecodeError, not_utf8)
    api.register_error_handler(SubmissionRefused, submission_refused)
    api.register_error_handler(ImportRefused, import_refused)
    api.register_error_handler(CourseRefused, course_refused)


def register_error_handlers(app: Quart) -> None:
    """Answer a bad access token, wherever identity is asked for."""
    app.register_error_handler(InvalidToken, invalid_token)
