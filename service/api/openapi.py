"""The OpenAPI document (only ``/api/`` routes) and the documentation page at ``/docs``.

Swagger UI comes from npm's ``swagger-ui-dist``, fetched at setup into ``node_modules/`` by
``make web-deps`` (nothing third-party is committed) and served by this app, so the page works
offline. Without that folder the page loads it from a CDN instead. The start-up script is
served here too, so the page needs no inline script, and its Content Security Policy allows
only this site (and the CDN when it is used).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from quart import Response, current_app, send_file, url_for
from quart_schema import OpenAPIProvider
from werkzeug.exceptions import NotFound
from werkzeug.routing.converters import BaseConverter, IntegerConverter
from werkzeug.routing.rules import Rule

API_PREFIX = "/api/"
SWAGGER_VERSION = "5.4.2"  # the version quart-schema pins
CDN = "https://cdnjs.cloudflare.com"
SWAGGER_BASE = f"{CDN}/ajax/libs/swagger-ui/{SWAGGER_VERSION}"
#: Where ``make web-deps`` puts npm's swagger-ui-dist, and the files /docs needs from it.
SWAGGER_DIST = Path(__file__).resolve().parents[2] / "node_modules" / "swagger-ui-dist"
SWAGGER_FILES = {"swagger-ui.css": "text/css", "swagger-ui-bundle.js": "text/javascript"}
ASSET_MAX_AGE = 24 * 3600


def docs_policy(source: str) -> str:
    """Return the docs page's Content Security Policy, allowing scripts from ``source``."""
    extra = "" if source == "'self'" else " " + source
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src 'self'{extra}",
            f"style-src 'self' 'unsafe-inline'{extra}",  # Swagger UI sets style attributes
            "img-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "form-action 'self'",
        )
    )


def swagger_served_here() -> bool:
    """Return whether Swagger UI was fetched at setup, so this app serves it."""
    return all((SWAGGER_DIST / name).is_file() for name in SWAGGER_FILES)


#: Endpoints whose OpenAPI description is written here rather than derived from models.
EVENT_STREAM_ENDPOINT = "api.submission_events"
IMPORT_ENDPOINT = "api.import_problem"

IMPORT_REQUEST_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["package"],
                "properties": {
                    "package": {
                        "type": "string",
                        "format": "binary",
                        "description": "The problem package as a .zip file.",
                    },
                    "verify": {"type": "boolean", "default": False},
                    "hidden": {"type": "boolean", "default": False},
                    "problem_set": {"type": "string", "maxLength": 64},
                    "slug": {"type": "string", "maxLength": 64},
                },
            }
        }
    },
}

EVENT_STREAM_RESPONSE: dict[str, Any] = {
    "description": (
        "Server-Sent Events: first a `snapshot` event with the submission, then `status`, "
        "`compile`, `test` and `done` events as they happen; the stream ends after `done`."
    ),
    "content": {"text/event-stream": {"schema": {"type": "string"}}},
}


class ApiOpenAPIProvider(OpenAPIProvider):
    """Describe only the JSON API, plus the two operations models cannot describe."""

    def generate_rules(self) -> Iterable[Rule]:
        """Yield the documented rules under ``/api/``."""
        for rule in super().generate_rules():
            if rule.rule.startswith(API_PREFIX):
                yield rule

    def build_path_parameter(self, name: str, converter: BaseConverter) -> dict[str, Any]:
        """Describe a path parameter, with the bounds of an integer one."""
        parameter = super().build_path_parameter(name, converter)
        if isinstance(converter, IntegerConverter):
            parameter["schema"]["minimum"] = 0
            if converter.max is not None:
                parameter["schema"]["maximum"] = converter.max
        return parameter

    def build_paths(self, rule: Rule) -> tuple[dict[str, Any], dict[str, Any]]:
        """Build the path objects, completing the upload and event-stream operations."""
        paths, components = super().build_paths(rule)
        for operations in paths.values():
            for operation in operations.values():
                if rule.endpoint == IMPORT_ENDPOINT:
                    operation["requestBody"] = IMPORT_REQUEST_BODY
                if rule.endpoint == EVENT_STREAM_ENDPOINT:
                    operation["responses"] = {
                        **operation["responses"],
                        200: EVENT_STREAM_RESPONSE,
                    }
        return paths, components


DOCS_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Verdict API</title>
  <link rel="stylesheet" href="{css}">
</head>
<body>
  <div id="swagger-ui" data-spec-url="{spec}"></div>
  <noscript>The interactive documentation needs JavaScript; the OpenAPI document is at
    <a href="{spec}">{spec}</a>.</noscript>
  <script src="{bundle}"></script>
  <script src="{starter}"></script>
</body>
</html>
"""

DOCS_SCRIPT = """\
"use strict";
window.addEventListener("load", function () {
  var root = document.getElementById("swagger-ui");
  window.SwaggerUIBundle({
    url: root.dataset.specUrl,
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [window.SwaggerUIBundle.presets.apis],
  });
});
"""


async def docs_page() -> Response:
    """Show the interactive API documentation (Swagger UI, served here when fetched at setup)."""
    if swagger_served_here():
        css = url_for("api_docs_asset", name="swagger-ui.css")
        bundle = url_for("api_docs_asset", name="swagger-ui-bundle.js")
        source = "'self'"
    else:
        css, bundle = f"{SWAGGER_BASE}/swagger-ui.min.css", f"{SWAGGER_BASE}/swagger-ui-bundle.js"
        source = CDN
    body = DOCS_PAGE.format(
        css=css, bundle=bundle, spec=url_for("openapi"), starter=url_for("api_docs_script")
    )
    response = current_app.response_class(body, mimetype="text/html")
    response.headers["Content-Security-Policy"] = docs_policy(source)
    return response


async def docs_asset(name: str) -> Response:
    """Serve one of Swagger UI's files from the copy fetched at setup."""
    if name not in SWAGGER_FILES or not swagger_served_here():
        raise NotFound("Swagger UI is not installed here: run `make web-deps`.")
    response = await send_file(SWAGGER_DIST / name, mimetype=SWAGGER_FILES[name])
    response.cache_control.public = True
    response.cache_control.max_age = ASSET_MAX_AGE
    return response


async def docs_script() -> Response:
    """Serve the documentation page's start-up script."""
    return current_app.response_class(DOCS_SCRIPT, mimetype="text/javascript")
