"""Fixtures of the pipeline tests: an app judging on a fake sandbox, and waiting helpers.

Waiting polls the database every 50 ms up to a deadline (never a bare sleep), so a test is as
fast as the pipeline and fails with a clear message when something never finishes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from quart import Quart
from sqlalchemy import func, select

from service.db import get_db
from service.jobs import LocalDispatcher, get_dispatcher
from service.models import Judging, Status, Submission, SubmissionFile, TestResult
from tests.conftest import AppFactory
from tests.evaluator.fakes import FakeSandbox, exited

POLL_SECONDS = 0.05
WAIT_SECONDS = 30.0
HELLO = b"Hello World!\n"

FakeApp = Callable[..., Any]


def hello_program(stdin: bytes, spec: Any) -> Any:
    """Answer every test of the hello example correctly."""
    return exited(HELLO)


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


async def load_submission(app: Quart, submission_id: int) -> Submission:
    """Reload a submission from the database."""
    async with get_db(app).session() as db:
        submission = await db.get(Submission, submission_id)
        assert submission is not None
        return submission


async def wait_done(app: Quart, submission_id: int, timeout: float = WAIT_SECONDS) -> Submission:
    """Wait until the submission is done and its dispatcher idle; return it reloaded."""

    async def done() -> bool:
        submission = await load_submission(app, submission_id)
        return submission.status is Status.DONE

    await wait_for(done, f"submission {submission_id} to be judged", timeout)
    await wait_idle(app)
    return await load_submission(app, submission_id)


async def wait_idle(app: Quart, timeout: float = WAIT_SECONDS) -> None:
    """Wait until nothing is queued or running in the app's dispatcher."""
    dispatcher = get_dispatcher(app)

    async def idle() -> bool:
        return dispatcher.stats() == {"queued": 0, "running": 0, "sandboxes_busy": 0}

    await wait_for(idle, "the dispatcher to be idle", timeout)


async def row_counts(app: Quart) -> dict[str, int]:
    """Return how many submissions, files, judgings and test results are stored."""
    counts: dict[str, int] = {}
    async with get_db(app).session() as db:
        for name, model in (
            ("submissions", Submission),
            ("files", SubmissionFile),
            ("judgings", Judging),
            ("results", TestResult),
        ):
            counts[name] = int(await db.scalar(select(func.count()).select_from(model)) or 0)
    return counts


async def judgings_of(app: Quart, submission_id: int) -> list[Judging]:
    """Return the judgings of a submission, oldest first."""
    async with get_db(app).session() as db:
        rows = await db.execute(
            select(Judging).where(Judging.submission_id == submission_id).order_by(Judging.id)
        )
        return list(rows.scalars())


async def results_of(app: Quart, judging_id: int) -> list[TestResult]:
    """Return the test results of a judging in test order."""
    async with get_db(app).session() as db:
        rows = await db.execute(
            select(TestResult).where(TestResult.judging_id == judging_id).order_by(TestResult.index)
        )
        return list(rows.scalars())


@pytest.fixture
def fake_app(make_app: AppFactory) -> FakeApp:
    """Return ``fake_app(sandbox=None, configure=None, **settings)``: an app judging on a fake.

    ``configure(dispatcher)`` runs before the app starts serving.

    Retries after an infrastructure failure wait no time, so JE tests stay fast.
    """

    @asynccontextmanager
    async def build(
        sandbox: FakeSandbox | None = None,
        configure: Callable[[LocalDispatcher], None] | None = None,
        **overrides: Any,
    ) -> AsyncIterator[Quart]:
        box = sandbox if sandbox is not None else FakeSandbox(program=hello_program)

        def setup(app: Quart) -> None:
            dispatcher = get_dispatcher(app)
            dispatcher.sandbox = box
            dispatcher.retry_delay = 0.0
            if configure is not None:
                configure(dispatcher)

        settings: dict[str, Any] = {"evaluator_concurrency": 4} | overrides
        async with make_app(setup=setup, **settings) as app:
            yield app

    return build
