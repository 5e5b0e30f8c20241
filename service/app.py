"""The application factory: settings, database, sign-in, security and blueprints wired once."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from quart import Quart
from werkzeug.routing import IntegerConverter

from service import (
    admin,
    api,
    auth,
    courses,
    db,
    events,
    jobs,
    metrics,
    problems,
    runs,
    security,
    submissions,
    web,
)
from service.config import SETTINGS_KEY, load_settings
from service.web import connections, limits, templating

#: Row ids fit a signed 32-bit integer in every database; larger ids in a URL simply match nothing.
MAX_ROW_ID = 2**31 - 1


def create_app(overrides: Mapping[str, Any] | None = None) -> Quart:
    """Build a Verdict app from the environment, with ``overrides`` (Settings field names)."""
    settings = load_settings(overrides=overrides)
    app = Quart(__name__)
    app.url_map.converters["int"] = RowIdConverter
    app.config.update(
        {
            SETTINGS_KEY: settings,
            "SECRET_KEY": settings.secret_key,
            "TESTING": settings.env.value == "testing",
            "PREFERRED_URL_SCHEME": "https" if settings.secure_cookies else "http",
        }
    )
    if not app.testing:
        configure_logging()

    # Every part reads its settings back with get_settings(app); the order is the wiring:
    # the database and the event broker before the dispatcher that uses them, the dispatcher
    # before the metrics that observe it.
    # Request bodies are bounded before any hook or view can read one, and a response that
    # comes before its request body keeps the connection usable.
    limits.init_app(app)
    connections.init_app(app)
    db.init_app(app)
    events.init_app(app)
    # Sign-in owns Quart-Auth, the session cookie's flags and the `user` template variable.
    auth.init_app(app)
    security.init_app(app)
    jobs.init_app(app)
    metrics.init_app(app)
    web.init_app(app)
    problems.init_app(app)
    submissions.init_app(app)
    courses.init_app(app)
    runs.init_app(app)
    api.init_app(app)
    admin.init_app(app)
    # Last: it tidies the template context processors every part above registered.
    templating.init_app(app)
    return app


class RowIdConverter(IntegerConverter):
    """The ``<int:...>`` converter, bounded so a huge id is a 404, never a database overflow."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ROW_ID)
        super().__init__(map, *args, **kwargs)


def configure_logging() -> None:
    """Send the app's INFO logs to stderr unless logging is configured already."""
    logger = logging.getLogger("service")
    logger.setLevel(logging.INFO)
    if not logger.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
