"""Staff tools: people, scoreboards and grade exports; also the app's ``/metrics``."""

from __future__ import annotations

from quart import Quart

from service import metrics
from service.admin.views import bp


def init_app(app: Quart) -> None:
    """Register the staff pages and the metrics endpoint on ``app``."""
    app.register_blueprint(bp)
    metrics.init_app(app)
