"""Run on my input: sources run once on a sample or typed input, in a lane of their own.

``lane`` holds the runs' sandbox and admission rules; ``service`` checks a request and runs
it. Nothing of a run is stored.
"""

from __future__ import annotations

from quart import Quart

from service.runs import lane

__all__ = ["init_app"]


def init_app(app: Quart) -> None:
    """Attach the run lane (its sandbox closes when the app stops)."""
    lane.init_app(app)
