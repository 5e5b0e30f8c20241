"""The JSON API under /api/v1, described by OpenAPI at /openapi.json."""

from __future__ import annotations

from quart import Quart


def init_app(app: Quart) -> None:
    """Register the API on ``app``."""
