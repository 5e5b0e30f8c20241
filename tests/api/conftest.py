"""Fixtures of the API tests: an app judging on a fake sandbox, users with access tokens."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from quart import Quart
from quart.testing import QuartClient
from sqlalchemy import func, select

from service.auth.api_tokens import create_token
from service.db import get_db
from service.evaluator import Sandbox
from service.jobs import get_dispatcher
from service.models import ApiToken, Role, Status, Submission, User
from tests.conftest import AppFactory
from tests.evaluator.fakes import FakeSandbox, exited
from tests.factories import create_user

HELLO = b"Hello World!\n"
POLL_SECONDS = 0.05
WAIT_SECONDS = 30.0


def hello_program(stdin: bytes, spec: Any) -> Any:
    """Answer every test of the hello example correctly."""
    return exited(HELLO)


def judge_on(sandbox: Sandbox) -> Callable[[Quart], None]:
    """Return a make_app setup that judges on ``sandbox``."""

    def setup(app: Quart) -> None:
        get_dispatcher(app).sandbox = sandbox

    return setup


@pytest.fixture
def sandbox() -> FakeSandbox:
    """Return the fake sandbox the ``app`` fixture judges on (hello answers AC)."""
    return FakeSandbox(program=hello_program)


@pytest.fixture
async def app(make_app: AppFactory, sandbox: FakeSandbox) -> AsyncIterator[Quart]:
    """Serve an app judging on the fake sandbox."""
    async with make_app(judge_on(sandbox)) as served:
        yield served


async def token_for(app: Quart, user: User, name: str = "tests") -> str:
    """Create an access token for ``user`` and return its plaintext."""
    async with get_db(app).session() as db:
        plaintext, _ = await create_token(db, user, name)
        await db.commit()
    return plaintext


def bearer(token: str) -> dict[str, str]:
    """Return the Authorization header for ``token``."""
    return {"Authorization": f"Bearer {token}"}


async def user_with_token(app: Quart, role: Role = Role.STUDENT) -> tuple[User, dict[str, str]]:
    """Create a user and a token; return the user and the headers sending the token."""
    user = await create_user(app, role=role)
    return user, bearer(await token_for(app, user))


async def count_rows(app: Quart, model: type[Any]) -> int:
    """Return how many rows ``model`` has."""
    async with get_db(app).session() as db:
        return int(await db.scalar(select(func.count()).select_from(model)) or 0)


async def submissions_count(app: Quart) -> int:
    """Return how many submissions are stored."""
    return await count_rows(app, Submission)


async def tokens_count(app: Quart) -> int:
    """Return how many access tokens are stored."""
    return await count_rows(app, ApiToken)


async def wait_for(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Poll ``check`` every 50 ms until true; fail naming ``what`` after 30 s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_SECONDS
    while not await check():
        if loop.time() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(POLL_SECONDS)


async def wait_done(app: Quart, submission_id: int) -> None:
    """Wait until the submission is judged and the dispatcher is idle."""

    async def done() -> bool:
        async with get_db(app).session() as db:
            submission = await db.get(Submission, submission_id)
            return submission is not None and submission.status is Status.DONE

    async def idle() -> bool:
        return bool(get_dispatcher(app).stats() == {"queued": 0, "running": 0, "sandboxes_busy": 0})

    await wait_for(done, f"submission {submission_id} to be judged")
    await wait_for(idle, "the dispatcher to be idle")


async def api_json(client: QuartClient, method: str, path: str, **kwargs: Any) -> Any:
    """Send a request and return (status, JSON body)."""
    response = await client.open(path, method=method, **kwargs)
    return response.status_code, await response.get_json()
