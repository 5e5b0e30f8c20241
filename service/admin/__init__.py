"""Staff tools: people, scoreboards and grade exports."""

from __future__ import annotations

from quart import Quart

from service.admin.views import bp


def init_app(app: Quart) -> None:
    """Register the staff pages on ``app``."""
    app.register_blueprint(bp)
