"""The JSON API under /api/v1, described by OpenAPI at /openapi.json (docs at /docs).

``init_app`` also registers the account page (``/account``: personal access tokens), which
belongs with the API it grants access to.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from quart import Quart
from quart_schema import HttpSecurityScheme, Info, QuartSchema

# The resource modules add their routes to the blueprint of service.api.views as they load.
from service.api import courses, problems, runs, submissions  # noqa: F401
from service.api.errors import register_error_handlers
from service.api.openapi import ApiOpenAPIProvider, docs_asset, docs_page, docs_script
from service.api.views import bp
from service.auth.account import bp as account_bp

__all__ = ["init_app"]

DESCRIPTION = (
    "The Verdict judge's JSON API. Authenticate with a personal access token from your "
    "account page, sent as `Authorization: Bearer <token>`; a signed-in browser session also "
    "works, and then state-changing calls need the `X-CSRF-Token` header. Errors are "
    '`{"error": "<code>", "message": "<what to change>"}`.'
)


def api_version() -> str:
    """Return the installed Verdict version (the API document's version)."""
    try:
        return version("verdict")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0.0.0"


def init_app(app: Quart) -> None:
    """Register the API, its OpenAPI document and docs page, and the account page on ``app``."""
    QuartSchema(
        app,
        info=Info(title="Verdict", version=api_version(), description=DESCRIPTION),
        openapi_path="/openapi.json",
        swagger_ui_path=None,  # /docs is ours: the stock page needs an inline script
        redoc_ui_path=None,
        scalar_ui_path=None,
        security_schemes={
            "bearerAuth": HttpSecurityScheme(scheme="bearer", bearer_format="vdt_..."),
        },
        security=[{"bearerAuth": []}],
        openapi_provider_class=ApiOpenAPIProvider,
    )
    app.add_url_rule("/docs", "api_docs", docs_page)
    app.add_url_rule("/docs/start.js", "api_docs_script", docs_script)
    app.add_url_rule("/docs/assets/<name>", "api_docs_asset", docs_asset)
    register_error_handlers(app)
    app.register_blueprint(bp)
    app.register_blueprint(account_bp)
