"""Waiting for the judging pipeline: poll until something holds, or fail saying what never did.

Every wait polls every 50 ms up to a deadline (never a bare sleep), so a test is as fast as
the pipeline and fails with a clear message when something never finishes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from quart import Quart
from quart.testing import QuartClient

from service.db import get_db
from service.jobs import get_dispatcher
from service.models import Status, Submission
from service.submissions.service import submit
from service.submissions.state import submission_state
from tests.factories import HELLO_PY, create_user, import_example, load_submission

POLL_SECONDS = 0.05
WAIT_SECONDS = 30.0


async def wait_for(
    check: Callable[[], Awaitable[bool]], what: str, timeout: float = WAIT_SECONDS
) -> None:
    """Poll ``check`` every 50 ms until it is true; fail naming ``what`` after ``timeout``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await check():
        if loop.time() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(POLL_SECONDS)


async def wait_idle(app: Quart, timeout: float = WAIT_SECONDS) -> None:
    """Wait until nothing is queued or running in the app's dispatcher."""
    dispatcher = get_dispatcher(app)

    async def idle() -> bool:
        return dispatcher.stats() == {"queued": 0, "running": 0, "sandboxes_busy": 0}

    await wait_for(idle, "the dispatcher to be idle", timeout)


async def wait_done(app: Quart, submission_id: int, timeout: float = WAIT_SECONDS) -> Submission:
    """Wait until the submission is done and its dispatcher idle; return it reloaded."""

    async def done() -> bool:
        submission = await load_submission(app, submission_id)
        return submission.status is Status.DONE

    await wait_for(done, f"submission {submission_id} to be judged", timeout)
    await wait_idle(app)
    return await load_submission(app, submission_id)


async def wait_until_done(client: QuartClient, number: int, timeout: float = 60) -> Any:
    """Poll the page's JSON state until the submission is judged; return the final state."""
    deadline = time.monotonic() + timeout
    while True:
        response = await client.get(f"/submissions/{number}/state")
        assert response.status_code == 200
        state = await response.get_json()
        if state["status"] == "done":
            return state
        assert time.monotonic() < deadline, f"still {state['status']} after {timeout} s"
        await asyncio.sleep(POLL_SECONDS)


async def judge_one(app: Quart, language: str = "python3") -> dict[str, Any]:
    """Submit the hello problem once, wait for the verdict and return the submission's state."""
    problem = await import_example(app)
    user = await create_user(app)
    submission = await submit(app, user, problem.slug, language, [("", HELLO_PY.encode())])
    await wait_done(app, submission.id)
    async with get_db(app).session() as db:
        state = await submission_state(db, submission.id)
    assert state is not None
    return state
