"""Submissions: validation, the judging pipeline's web side and the submission pages."""

from __future__ import annotations

from quart import Quart

from service.submissions import highlight, live, wording
from service.submissions.views import bp

__all__ = ["init_app"]


def init_app(app: Quart) -> None:
    """Register the submission pages (blueprint ``submissions``), their helpers and wording."""
    highlight.init_app(app)
    live.init_app(app)
    wording.init_app(app)
    app.register_blueprint(bp)
