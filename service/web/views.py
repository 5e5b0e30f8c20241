"""The ``web`` blueprint: the home page and the health probes."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field

from quart import Blueprint, Quart, ResponseReturnValue, current_app, render_template
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from service.auth import current_account
from service.db import get_db
from service.evaluator import MIB, Limits, RunSpec, Sandbox
from service.metrics import find_dispatcher
from service.models import Submission, User
from service.problems.queries import list_visible_problems

log = logging.getLogger(__name__)

bp = Blueprint("web", __name__)

PROBE_KEY = "verdict.sandbox_probe"
PROBE_PROGRAM = ("/bin/true",)
PROBE_TIMEOUT = 5.0  # seconds a probe run may take, waiting for a free slot included
PROBE_GOOD_FOR = 30.0  # seconds a working sandbox is trusted without running the probe again
PROBE_LIMITS = Limits(cpu_time=1.0, wall_time=PROBE_TIMEOUT, memory=64 * MIB, processes=8)
JUDGE_ERROR = "JE"


@bp.get("/")
async def home() -> ResponseReturnValue:
    """Show the sign-in button, or the problem list (with the user's best scores) when signed in."""
    user = await current_account()
    if user is None:
        return await render_template("home.html")
    async with get_db().session() as db:
        problems = await list_visible_problems(db, user)
        best = await best_scores(db, user)
    return await render_template("home.html", problems=problems, best=best)


async def best_scores(db: AsyncSession, user: User) -> dict[int, float]:
    """Return the user's best judged score per problem id."""
    rows = await db.execute(
        select(Submission.problem_id, func.max(Submission.score))
        .where(Submission.user_id == user.id, Submission.score.is_not(None))
        .group_by(Submission.problem_id)
    )
    return {problem_id: float(score) for problem_id, score in rows.all() if score is not None}


@bp.get("/healthz")
async def healthz() -> ResponseReturnValue:
    """Answer the liveness probe: the process serves requests."""
    return {"status": "ok"}


@bp.get("/readyz")
async def readyz() -> ResponseReturnValue:
    """Answer the readiness probe: 200 when every dependency answers, 503 naming what failed."""
    checks = {
        "database": await check_database(),
        "sandbox": await sandbox_probe(current_app).check(current_app),
    }
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


@dataclass
class SandboxProbe:
    """Checks that the sandbox runs a trivial program; a success is trusted for a while.

    Every judging that finishes without a judge error also counts as a success, so a busy
    evaluator (all slots taken, the probe would wait) stays ready without probing.
    """

    good_until: float = 0.0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def judging_finished(self, verdict: str, seconds: float) -> None:
        """Trust the sandbox for a while after a judging that did not fail in the sandbox."""
        if verdict != JUDGE_ERROR:
            self.good_until = time.monotonic() + PROBE_GOOD_FOR

    async def check(self, app: Quart) -> str:
        """Return ``"ok"`` when the sandbox works, else a short reason."""
        if time.monotonic() < self.good_until:
            return "ok"
        async with self.lock:  # one probe at a time; the others reuse its result
            if time.monotonic() < self.good_until:
                return "ok"
            problem = await self._probe(app)
            if problem is None:
                self.good_until = time.monotonic() + PROBE_GOOD_FOR
                return "ok"
        log.warning("readiness: sandbox check failed: %s", problem)
        return f"error: {problem}"

    async def _probe(self, app: Quart) -> str | None:
        try:
            sandbox = await self._sandbox(app)
            spec = RunSpec(argv=list(PROBE_PROGRAM), limits=PROBE_LIMITS)
            result = await asyncio.wait_for(sandbox.run(spec), PROBE_TIMEOUT)
        except TimeoutError:
            if self._judging(app):
                return None  # every slot is judging: busy, not broken
            return f"no result within {PROBE_TIMEOUT:g} s"
        except Exception as exc:  # the probe reports; it never raises
            return f"{exc.__class__.__name__}: {exc}"[:200]
        if result.ok:
            return None
        return f"{PROBE_PROGRAM[0]} ended {result.outcome.value} {result.message}".strip()[:200]

    def _judging(self, app: Quart) -> bool:
        dispatcher = find_dispatcher(app)
        return dispatcher is not None and dispatcher.stats()["running"] > 0

    async def _sandbox(self, app: Quart) -> Sandbox:
        dispatcher = find_dispatcher(app)
        if dispatcher is None:
            raise LookupError("this process has no evaluator")
        return await dispatcher.open_sandbox()


def sandbox_probe(app: Quart) -> SandboxProbe:
    """Return the app's sandbox probe (created on first use)."""
    probe: SandboxProbe | None = app.extensions.get(PROBE_KEY)
    if probe is None:
        probe = app.extensions[PROBE_KEY] = SandboxProbe()
    return probe


@bp.before_app_serving
async def _trust_finished_judgings() -> None:
    probe = sandbox_probe(current_app)
    dispatcher = find_dispatcher(current_app)
    if dispatcher is not None and probe.judging_finished not in dispatcher.on_finished:
        dispatcher.on_finished.append(probe.judging_finished)
