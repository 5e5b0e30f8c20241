"""The site's own pages: home, health probes, and the error pages of every blueprint."""

from __future__ import annotations

from quart import Quart

from service.web.errors import register_error_handlers
from service.web.views import bp

__all__ = ["init_app"]


def init_app(app: Quart) -> None:
    """Register the ``web`` blueprint and the error handlers on ``app``."""
    app.register_blueprint(bp)
    register_error_handlers(app)
