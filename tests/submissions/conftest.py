"""Helpers for the submission pages: submit through the form, wait for a verdict, count rows."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest
from quart import Quart
from quart.testing import QuartClient
from quart.testing.connections import TestWebsocketConnection
from sqlalchemy import func, select

from service.db import get_db
from service.evaluator import RunResult, RunSpec
from service.jobs import get_dispatcher
from service.models import Role, Submission, User
from tests.evaluator.fakes import FakeSandbox, exited
from tests.factories import create_user, csrf_token, sign_in_as

HELLO_PY = 'print("Hello World!")\n'
HELLO_C = '#include <stdio.h>\nint main(void) { puts("Hello World!"); return 0; }\n'


def says(text: bytes) -> Callable[[bytes, RunSpec], RunResult]:
    """Return a fake program that prints ``text`` whatever its input."""
    return lambda _stdin, _spec: exited(text)


def with_fake_sandbox(sandbox: FakeSandbox) -> Callable[[Quart], None]:
    """Return a make_app setup that judges on ``sandbox`` instead of bubblewrap."""

    def setup(app: Quart) -> None:
        get_dispatcher(app).sandbox = sandbox

    return setup


async def signed_in(app: Quart, client: QuartClient, role: Role = Role.STUDENT) -> User:
    """Create a user with ``role`` and sign ``client`` in as them."""
    user = await create_user(app, role=role)
    await sign_in_as(client, user)
    return user


async def post_submission(
    client: QuartClient,
    slug: str = "hello",
    *,
    language: str = "python3",
    source: str = "",
    files: list[tuple[str, bytes]] | None = None,
    token: str | None = None,
) -> Any:
    """Post the submit form (multipart, like a browser) and return the response."""
    token = await csrf_token(client) if token is None else token
    boundary = "----verdict-test-boundary"
    parts: list[bytes] = []
    fields = {"csrf_token": token, "language": language, "source": source}
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + value.encode()
            + b"\r\n"
        )
    for filename, content in files or [("", b"")]:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; '
            f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
            + content
            + b"\r\n"
        )
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return await client.post(
        f"/problems/{slug}/submissions",
        data=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )


def submission_id(response: Any) -> int:
    """Return the id of the submission a successful form post redirected to."""
    assert response.status_code == 303, response.status_code
    location = response.headers["Location"]
    assert location.startswith("/submissions/")
    return int(location.rsplit("/", 1)[1])


async def wait_until_done(client: QuartClient, number: int, timeout: float = 60) -> Any:
    """Poll the JSON state until the submission is judged; return the final state."""
    deadline = time.monotonic() + timeout
    while True:
        response = await client.get(f"/submissions/{number}/state")
        assert response.status_code == 200
        state = await response.get_json()
        if state["status"] == "done":
            return state
        assert time.monotonic() < deadline, f"still {state['status']} after {timeout} s"
        await asyncio.sleep(0.05)


async def count_submissions(app: Quart) -> int:
    """Return how many submissions are stored."""
    async with get_db(app).session() as db:
        return int(await db.scalar(select(func.count()).select_from(Submission)) or 0)


class WebsocketClosed(Exception):
    """The server closed the WebSocket with ``code``."""

    def __init__(self, code: int) -> None:
        super().__init__(f"closed with {code}")
        self.code = code


class ClosingWebsocketConnection(TestWebsocketConnection):
    """Quart's test WebSocket, but a server close is raised by receive() with its code."""

    async def _asgi_send(self, message: Any) -> None:
        if message["type"] == "websocket.close":
            await self._receive_queue.put(WebsocketClosed(message.get("code", 1000)))
        await super()._asgi_send(message)


@pytest.fixture
def fake_sandbox() -> FakeSandbox:
    """Return a fake sandbox whose programs print the hello problem's answer."""
    return FakeSandbox(program=says(b"Hello World!\n"))
