"""Dispatch judgings to the evaluator: an in-process asyncio pool (QUEUE=local)."""

from __future__ import annotations

from quart import Quart


def init_app(app: Quart) -> None:
    """Start the dispatcher with the app and stop it after."""
