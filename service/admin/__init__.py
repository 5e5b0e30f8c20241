"""Staff tools: people, scoreboards and grade exports."""

from __future__ import annotations

from quart import Quart


def init_app(app: Quart) -> None:
    """Register the staff pages on ``app``."""
