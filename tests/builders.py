"""Async builders of problems for tests: import the example packages through the real importer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from quart import Quart

from service.config import get_settings
from service.db import get_db
from service.models import Problem
from service.problems.importer import import_package

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "problems"


def example_path(name: str) -> Path:
    """Return the folder of the example problem package ``name``."""
    return EXAMPLES / name


async def import_example(app: Quart, name: str = "hello", **kwargs: Any) -> Problem:
    """Import examples/problems/<name> into ``app``'s database and return the Problem row."""
    async with get_db(app).session() as db:
        result = await import_package(db, get_settings(app), example_path(name), **kwargs)
    return result.problem
