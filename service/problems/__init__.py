"""Problems: the package store, imports, statements and the problem pages."""

from __future__ import annotations

from quart import Quart

from service.problems.views import bp

__all__ = ["init_app"]


def init_app(app: Quart) -> None:
    """Register the problem pages on ``app``."""
    app.register_blueprint(bp)
