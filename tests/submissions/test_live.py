"""Live verdicts over WS /submissions/<id>/live: snapshot, events until done, who may listen."""

from __future__ import annotations

import asyncio
import json
from contextlib import AsyncExitStack
from typing import Any

import pytest
from quart import Quart
from quart.testing import QuartClient

from service.models import Role
from service.security import origin_allowed
from service.submissions.live import MAX_LIVE_PER_USER
from tests.factories import (
    HELLO_PY,
    TEST_PUBLIC_URL,
    AppFactory,
    add_problem,
    create_user,
    import_example,
    post_submission,
    sign_in_as,
    signed_in,
    store_submission,
    submission_id,
)
from tests.fakes import ClosingWebsocketConnection, FakeSandbox, WebsocketClosed, judge_on, says
from tests.waiting import wait_for, wait_until_done


def live_client(client: QuartClient) -> QuartClient:
    """Return ``client`` with WebSockets that report the server's close code."""
    client.websocket_connection_class = ClosingWebsocketConnection  # type: ignore[assignment]
    return client


async def receive_all(socket: Any, timeout: float = 30) -> tuple[list[dict[str, Any]], int]:
    """Read messages until the server closes; return them and the close code."""
    messages: list[dict[str, Any]] = []
    while True:
        try:
            raw = await asyncio.wait_for(socket.receive(), timeout)
        except WebsocketClosed as closed:
            return messages, closed.code
        messages.append(json.loads(raw))


async def close_code(client: QuartClient, path: str, **headers: str) -> tuple[int, bool]:
    """Open a WebSocket expecting the server to close it; return the code and if it accepted."""
    async with live_client(client).websocket(path, headers=headers) as socket:
        messages, code = await receive_all(socket, timeout=5)
        assert messages == []
        return code, socket.accepted  # type: ignore[attr-defined]


async def test_live_sends_a_snapshot_then_events_until_done(make_app: AppFactory) -> None:
    sandbox = FakeSandbox(program=says(b"Hello World!\n"), delay=0.2)
    async with make_app(setup=judge_on(sandbox)) as app:
        client = app.test_client()
        await import_example(app, "hello")
        await signed_in(client)
        number = submission_id(await post_submission(client, source=HELLO_PY))
        async with live_client(client).websocket(
            f"/submissions/{number}/live", headers={"Origin": TEST_PUBLIC_URL}
        ) as socket:
            messages, code = await receive_all(socket)
        assert code == 1000
        snapshot, *events = messages
        assert snapshot["type"] == "snapshot"
        assert snapshot["state"]["id"] == number
        assert snapshot["state"]["status"] in ("queued", "running")
        assert events[-1]["type"] == "done"
        tests = [event for event in events if event["type"] == "test"]
        assert len(tests) + snapshot["state"]["tests_done"] == 2
        assert {event["type"] for event in events} <= {"status", "compile", "test", "done"}


async def test_live_on_a_finished_submission_sends_the_snapshot_and_closes(
    make_app: AppFactory, fake_sandbox: FakeSandbox
) -> None:
    async with make_app(setup=judge_on(fake_sandbox)) as app:
        client = app.test_client()
        await import_example(app, "hello")
        await signed_in(client)
        number = submission_id(await post_submission(client, source=HELLO_PY))
        await wait_until_done(client, number)
        async with live_client(client).websocket(f"/submissions/{number}/live") as socket:
            messages, code = await receive_all(socket)
        assert code == 1000
        assert len(messages) == 1
        assert messages[0]["state"]["verdict"] == "AC"
        assert [test["verdict"] for test in messages[0]["state"]["tests"]] == ["AC", "AC"]


async def test_live_refuses_other_sites_anonymous_and_strangers(
    make_app: AppFactory, fake_sandbox: FakeSandbox
) -> None:
    async with make_app(setup=judge_on(fake_sandbox)) as app:
        owner_client = app.test_client()
        await import_example(app, "hello")
        await signed_in(owner_client)
        number = submission_id(await post_submission(owner_client, source=HELLO_PY))
        await wait_until_done(owner_client, number)
        path = f"/submissions/{number}/live"

        # Cross-site WebSocket hijacking: the victim's cookie rides along, the Origin gives it away.
        assert await close_code(owner_client, path, Origin="http://evil.example") == (1008, False)
        assert await close_code(owner_client, path, Origin="https://verdict.test") == (1008, False)
        assert await close_code(app.test_client(), path) == (1008, False)

        stranger = app.test_client()
        await sign_in_as(stranger, await create_user(app))
        assert await close_code(stranger, path) == (4404, False)
        assert await close_code(stranger, "/submissions/999999/live") == (4404, False)

        staff = app.test_client()
        await sign_in_as(staff, await create_user(app, role=Role.STAFF))
        async with live_client(staff).websocket(path, headers={"Origin": TEST_PUBLIC_URL}) as ws:
            messages, code = await receive_all(ws)
        assert (code, messages[0]["type"]) == (1000, "snapshot")


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        (None, True),
        ("http://verdict.test", True),
        ("HTTP://Verdict.Test:80", True),
        ("http://verdict.test:8080", False),
        ("https://verdict.test", False),
        ("http://verdict.test.evil.example", False),
        ("null", False),
        ("http://verdict.test:notaport", False),
    ],
)
def test_origin_must_be_the_site_itself(origin: str | None, allowed: bool) -> None:
    assert origin_allowed(origin, TEST_PUBLIC_URL) is allowed


async def test_state_json_follows_the_judging(app: Quart, client: QuartClient) -> None:
    await import_example(app, "hello")
    await signed_in(client)
    response = await post_submission(client, source=HELLO_PY)
    number = submission_id(response)
    state = await client.get(f"/submissions/{number}/state")
    assert state.status_code == 200
    assert state.mimetype == "application/json"
    assert "no-store" in state.headers["Cache-Control"]
    body = await state.get_json()
    assert body["id"] == number and body["problem"] == "hello"


# ---------------------------------------------------------------------------- the cap per person

PER_PERSON = MAX_LIVE_PER_USER


async def open_live(stack: AsyncExitStack, client: QuartClient, path: str) -> Any:
    """Open a live socket on ``stack`` and read its snapshot; return the socket."""
    socket = await stack.enter_async_context(live_client(client).websocket(path))
    assert json.loads(await socket.receive())["type"] == "snapshot"
    return socket


async def test_one_person_may_hold_only_so_many_live_sockets(app: Quart) -> None:
    client = app.test_client()
    me = await signed_in(client)
    mine = await store_submission(app, me, await add_problem(app, "a"), verdict=None)
    path = f"/submissions/{mine}/live"
    first = AsyncExitStack()
    await open_live(first, client, path)
    async with AsyncExitStack() as others:
        for _ in range(PER_PERSON - 1):
            await open_live(others, client, path)
        assert await close_code(client, path) == (4429, False)

        someone = app.test_client()
        them = await signed_in(someone)
        theirs = await store_submission(app, them, await add_problem(app, "b"), verdict=None)
        await open_live(others, someone, f"/submissions/{theirs}/live")  # not counted as mine

        await first.aclose()  # closing one of mine makes room for another

        async def accepted_again() -> bool:
            async with live_client(client).websocket(path) as socket:
                try:
                    return json.loads(await socket.receive())["type"] == "snapshot"
                except WebsocketClosed:
                    return False

        await wait_for(accepted_again, "a socket accepted after one closed", timeout=10)
