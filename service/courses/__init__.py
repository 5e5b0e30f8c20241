"""Courses: rosters, sections, assignments with deadlines, extensions, late days and grades."""

from __future__ import annotations

from quart import Quart

__all__ = ["init_app"]


def init_app(app: Quart) -> None:
    """Register the course pages on ``app``."""
    from service.courses.views import bp

    app.register_blueprint(bp)
