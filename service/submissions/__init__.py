"""Submissions: validation, the judging pipeline's web side and the submission pages."""

from __future__ import annotations

from quart import Quart


def init_app(app: Quart) -> None:
    """Register the submission pages (blueprint ``submissions``) on ``app``."""
    # Imported here: the views need service.app, which imports this package.
    from service.submissions.views import bp

    app.register_blueprint(bp)
