"""Problems: imports, statements and the problem pages (the package store is service.packages)."""

from __future__ import annotations

from quart import Quart

from service.problems.views import bp

__all__ = ["init_app"]


def init_app(app: Quart) -> None:
    """Register the problem pages on ``app``."""
    app.register_blueprint(bp)
