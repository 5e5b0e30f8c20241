"""The ``web`` blueprint: the home page and the health probes."""

from __future__ import annotations

import logging

from quart import Blueprint, ResponseReturnValue, render_template
from sqlalchemy import text

from service.db import get_db

log = logging.getLogger(__name__)

bp = Blueprint("web", __name__)


@bp.get("/")
async def home() -> ResponseReturnValue:
    """Show the sign-in button, or the problem list when signed in."""
    return await render_template("home.html")


@bp.get("/healthz")
async def healthz() -> ResponseReturnValue:
    """Answer the liveness probe: the process serves requests."""
    return {"status": "ok"}


@bp.get("/readyz")
async def readyz() -> ResponseReturnValue:
    """Answer the readiness probe: 200 when every dependency answers, 503 naming what failed."""
    checks = {"database": await check_database()}
    ready = all(result == "ok" for result in checks.values())
    body = {"status": "ready" if ready else "unavailable", "checks": checks}
    return body, 200 if ready else 503


async def check_database() -> str:
    """Return ``"ok"`` when the database answers a query, else a short reason."""
    try:
        async with get_db().session() as db:
            await db.execute(text("SELECT 1"))
    except Exception as exc:  # any failure means "not ready"; the probe must not raise
        log.warning("readiness: database check failed: %s", exc)
        return f"error: {exc.__class__.__name__}"
    return "ok"
