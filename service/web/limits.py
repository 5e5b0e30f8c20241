"""Request bodies, bounded before anything parses them.

Quart parses a whole form or JSON body at once on the event loop, so one large body (15 MiB
of form fields, a JSON object of a million keys) stalled every other request for seconds,
and JSON nested 200,000 deep raised RecursionError (a 500). Here, for every request:

- the route allows at most some bytes (:func:`body_limit`; :data:`DEFAULT_BODY_BYTES` for
  routes without a larger need). A larger ``Content-Length`` is refused with 413 before a
  byte of the body is read; a chunked body is refused once it passes the limit, and the rest
  is dropped as it arrives instead of being buffered;
- a form has at most :data:`MAX_FORM_FIELDS` fields and files (413 ``too_many_fields``);
- a JSON body is scanned before it is parsed, stopping at the first limit: more than
  :data:`MAX_JSON_TOKENS` tokens is 413 ``too_many_values``, nesting deeper than
  :data:`MAX_JSON_DEPTH` is 422 ``too_deeply_nested``.

Within these limits the slowest body parses in a few milliseconds. The exceptions::

    RequestEntityTooLarge (413)
      BodyTooLarge          request_entity_too_large
      TooManyFields         too_many_fields
      TooManyValues         too_many_values
    UnprocessableEntity (422)
      TooDeeplyNested       too_deeply_nested
"""

from __future__ import annotations

import re
from _json import scanstring  # the C string scanner json.loads itself uses
from dataclasses import dataclass
from typing import Any

from quart import Quart, current_app, request
from quart.formparser import FormDataParser
from quart.wrappers.request import Body, Request
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import RequestEntityTooLarge, UnprocessableEntity

from service.config import Settings, get_settings
from service.courses.rules import MAX_EXTENSION_STUDENTS, MAX_ROSTER_ROWS
from service.runs.lane import MAX_INPUT_BYTES
from service.submissions.validation import MAX_BATCH

#: The most any request may carry (a package upload); Quart refuses more by itself.
MAX_REQUEST_BYTES = 16 * 1024 * 1024
#: The body of every route not named in :func:`body_limit` (sign-out, tokens, staff forms).
DEFAULT_BODY_BYTES = 64 * 1024
#: Room for the multipart headers and the other fields of a form carrying source or a package.
FORM_MARGIN_BYTES = 64 * 1024
#: JSON may escape one byte of source as six (``\u0001``).
JSON_ESCAPE_FACTOR = 6
#: Room for the JSON around a submission's source (problem, language, file names).
JSON_MARGIN_BYTES = 16 * 1024
#: A roster upload: MAX_ROSTER_ROWS lines of e-mail, name and section, with room to spare.
ROSTER_BODY_BYTES = 2 * 1024 * 1024
#: An extension for MAX_EXTENSION_STUDENTS e-mail addresses.
EXTENSION_BODY_BYTES = 1024 * 1024
#: Fields and files of one form (the submit form has 3 fields and up to 20 files).
MAX_FORM_FIELDS = 100
#: Tokens (strings, numbers, brackets, commas, colons) of one JSON body; a full batch of 20
#: submissions of 20 files each has about 4,500.
MAX_JSON_TOKENS = 10_000
#: Nesting of arrays and objects in one JSON body (ours never go past 4).
MAX_JSON_DEPTH = 32

_FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "application/x-url-encoded"})
# One JSON token after optional whitespace: a string's opening quote (the C scanner finds its
# end), an opening or closing bracket, a comma or colon, or a number or literal.
_JSON_TOKEN = re.compile(r'[ \t\n\r]*(?:(")|([\[{])|([\]}])|[,:]|[^ \t\n\r,:\[\]{}"]+)')


class BodyTooLarge(RequestEntityTooLarge):
    """The body is larger than its route allows."""

    error_code = "request_entity_too_large"


class TooManyFields(RequestEntityTooLarge):
    """A form has more fields or files than any of ours, or a field larger than the body."""

    error_code = "too_many_fields"

    def __init__(self) -> None:
        super().__init__(f"A form may have at most {MAX_FORM_FIELDS} fields and files; send fewer.")


class TooManyValues(RequestEntityTooLarge):
    """A JSON body has more tokens than :data:`MAX_JSON_TOKENS`."""

    error_code = "too_many_values"

    def __init__(self) -> None:
        super().__init__(
            f"The JSON body has more than {MAX_JSON_TOKENS} values and punctuation marks; "
            "send fewer items (for many submissions, several batches)."
        )


class TooDeeplyNested(UnprocessableEntity):
    """A JSON body nests arrays and objects deeper than :data:`MAX_JSON_DEPTH`."""

    error_code = "too_deeply_nested"

    def __init__(self) -> None:
        super().__init__(
            f"The JSON body is nested more than {MAX_JSON_DEPTH} levels deep; "
            "no request needs more than 4."
        )


@dataclass(frozen=True)
class BodyLimit:
    """The most bytes a route's body may have, and what to tell whoever sends more."""

    max_bytes: int
    advice: str = ""

    def error(self) -> BodyTooLarge:
        """Return the 413 of a body over this limit."""
        advice = f" ({self.advice})" if self.advice else ""
        return BodyTooLarge(
            f"This request may carry at most {self.max_bytes} bytes{advice}; send less."
        )


def body_limit(endpoint: str | None, settings: Settings) -> BodyLimit:
    """Return the body limit of the route ``endpoint``."""
    source = settings.max_source_bytes
    per_submission = JSON_ESCAPE_FACTOR * source + JSON_MARGIN_BYTES
    source_advice = f"a submission has at most {source} bytes of source, MAX_SOURCE_BYTES"
    limit: BodyLimit
    match endpoint:
        case "submissions.create":
            limit = BodyLimit(source + FORM_MARGIN_BYTES, source_advice)
        case "api.create_submission":
            limit = BodyLimit(per_submission, source_advice)
        case "api.create_run":
            limit = BodyLimit(
                per_submission + JSON_ESCAPE_FACTOR * MAX_INPUT_BYTES,
                f"{source_advice}, and at most {MAX_INPUT_BYTES} bytes of input",
            )
        case "api.create_submissions":
            limit = BodyLimit(
                MAX_BATCH * per_submission,
                f"a batch has at most {MAX_BATCH} submissions of at most {source} bytes each",
            )
        case "api.import_problem" | "problems.import_form":
            limit = BodyLimit(
                settings.max_package_bytes + FORM_MARGIN_BYTES,
                "import larger packages with `verdict problems import`",
            )
        case "api.post_roster" | "courses.roster_page":
            limit = BodyLimit(ROSTER_BODY_BYTES, f"a roster has at most {MAX_ROSTER_ROWS} rows")
        case "api.new_extensions" | "courses.extensions_page":
            limit = BodyLimit(
                EXTENSION_BODY_BYTES,
                f"an extension names at most {MAX_EXTENSION_STUDENTS} students",
            )
        case _:
            limit = BodyLimit(DEFAULT_BODY_BYTES)
    if limit.max_bytes > MAX_REQUEST_BYTES:
        limit = BodyLimit(MAX_REQUEST_BYTES, limit.advice)
    return limit


#: The endpoints :func:`body_limit` names (a test checks that each one exists).
LIMITED_ENDPOINTS = frozenset(
    {
        "submissions.create",
        "api.create_submission",
        "api.create_submissions",
        "api.create_run",
        "api.import_problem",
        "problems.import_form",
        "api.post_roster",
        "courses.roster_page",
        "api.new_extensions",
        "courses.extensions_page",
    }
)


def check_json_shape(text: str) -> None:
    """Raise TooManyValues or TooDeeplyNested for JSON over the limits, before parsing it.

    The scan stops at the first limit passed, so it costs at most :data:`MAX_JSON_TOKENS`
    steps plus the strings' length (read by the same C scanner ``json.loads`` uses). Text
    that is not JSON is left for the parser to refuse.
    """
    tokens = depth = 0
    position, end = 0, len(text)
    while position < end:
        token = _JSON_TOKEN.match(text, position)
        if token is None:  # trailing whitespace, or not JSON
            return
        tokens += 1
        if tokens > MAX_JSON_TOKENS:
            raise TooManyValues()
        if token.group(1):
            try:
                _, position = scanstring(text, token.end())
            except ValueError:  # an unterminated string or a bad escape
                return
            continue
        if token.group(2):
            depth += 1
            if depth > MAX_JSON_DEPTH:
                raise TooDeeplyNested()
        elif token.group(3):
            depth -= 1
        position = token.end()


class LimitedBody(Body):
    """A request body that fails, and stops buffering, as soon as it passes its limit.

    Quart's own body checks its limit only once the whole body has arrived, and holds every
    byte until then. This works on Quart 0.23's ``Body`` attributes (``_max_content_length``,
    ``_must_raise``, ``_complete``); ``tests/web/test_limits.py`` fails if they change.
    """

    def __init__(self, expected_content_length: int | None, max_content_length: int | None):
        super().__init__(expected_content_length, max_content_length)
        self._expected_length = expected_content_length
        self._received = 0
        self._too_large: RequestEntityTooLarge = RequestEntityTooLarge()

    def set_limit(self, limit: BodyLimit) -> None:
        """Lower the limit to ``limit`` (the route's), failing now if already passed."""
        self._max_content_length = limit.max_bytes
        self._too_large = limit.error()
        if max(self._expected_length or 0, self._received) > limit.max_bytes:
            self._refuse()

    async def put(self, data: bytes) -> None:
        """Queue a chunk of the body; once over the limit, drop it and fail the reader."""
        self._received += len(data)
        if self._must_raise is not None:
            return  # refused already: the rest is read from the client and dropped
        if self._max_content_length is not None and self._received > self._max_content_length:
            self._refuse()
            return
        await super().put(data)

    def _refuse(self) -> None:
        self._must_raise = self._too_large
        self._complete.set()  # a waiting reader raises now instead of waiting for the rest


class LimitedFormDataParser(FormDataParser):
    """Quart's form parser, with a field count for URL-encoded forms and clear 413s."""

    async def parse(
        self,
        body: Body,
        mimetype: str,
        content_length: int | None,
        options: dict[str, str] | None = None,
    ) -> tuple[MultiDict[str, Any], MultiDict[str, Any]]:
        """Parse a form, refusing more than :data:`MAX_FORM_FIELDS` fields and files."""
        parts = self.max_form_parts
        if mimetype in _FORM_TYPES and parts is not None and (await body).count(b"&") >= parts:
            raise TooManyFields()
        try:
            return await super().parse(body, mimetype, content_length, options)
        except BodyTooLarge:
            raise
        except RequestEntityTooLarge:  # multipart: too many parts, or a field too large
            raise TooManyFields() from None


class LimitedRequest(Request):
    """Quart's request, with a body that honours its route's limit and guarded JSON."""

    body_class = LimitedBody
    form_data_parser_class = LimitedFormDataParser

    async def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:
        """Parse the body as JSON after checking its shape (:func:`check_json_shape`)."""
        if (force or self.is_json) and self._cached_json[silent] is Ellipsis:
            text = await self.get_data(cache=True, as_text=True)
            check_json_shape(text if isinstance(text, str) else text.decode())
        return await super().get_json(force=force, silent=silent, cache=cache)


async def limit_request_body() -> None:
    """Give this request its route's body limit; refuse a declared length over it at once."""
    limit = body_limit(request.endpoint, get_settings(current_app))
    request.max_content_length = limit.max_bytes
    request.max_form_memory_size = limit.max_bytes
    if isinstance(request.body, LimitedBody):
        request.body.set_limit(limit)
    too_long = (request.content_length or 0) > limit.max_bytes
    if too_long and request.routing_exception is None:  # an unknown URL still gets its 404
        raise limit.error()


def init_app(app: Quart) -> None:
    """Bound every request body of ``app`` (register before any hook that reads one)."""
    app.request_class = LimitedRequest
    app.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES
    app.config["MAX_FORM_PARTS"] = MAX_FORM_FIELDS
    app.before_request(limit_request_body)
