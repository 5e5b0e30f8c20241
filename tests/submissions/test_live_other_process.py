"""Live views follow a judging done by another process: no broker event, only database rows."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from quart import Quart

from service.auth.api_tokens import create_token
from service.db import get_db
from service.models import Judging, Problem, Status, Submission, TestResult
from service.submissions import live
from tests.factories import TEST_PUBLIC_URL, AppFactory, import_example, signed_in, store_submission
from tests.fakes import ClosingWebsocketConnection, WebsocketClosed
from tests.waiting import wait_for

RECHECK_SECONDS = 0.05


async def judge_elsewhere(app: Quart, number: int, problem: Problem, *, done: bool) -> None:
    """Write what another process's worker writes: a judging and its results, then the verdict."""
    async with get_db(app).session() as db:
        submission = await db.get(Submission, number)
        assert submission is not None
        judging = Judging(
            submission_id=number,
            package_hash=problem.package_hash,
            status=Status.DONE if done else Status.RUNNING,
            verdict="WA" if done else None,
            score=0.5 if done else None,
            passed=1,
            total=2,
            results=[
                TestResult(index=0, name="sample/1", verdict="AC", time_ms=1, memory_kb=1),
                TestResult(
                    index=1,
                    name="secret/1",
                    verdict="WA",
                    time_ms=1,
                    memory_kb=1,
                    message="expected 'the secret', got '0'",
                ),
            ][: 2 if done else 1],
        )
        db.add(judging)
        await db.flush()
        submission.judging_id = judging.id
        submission.status = judging.status
        submission.verdict = judging.verdict
        submission.score = judging.score
        await db.commit()


async def wait_for_snapshot(messages: list[Any], status: str) -> None:
    """Wait until a received snapshot has ``status``."""
    for _ in range(200):
        if any(message.get("status") == status for message in messages):
            return
        await asyncio.sleep(0.02)
    pytest.fail(f"no {status} snapshot among {messages}")


async def test_the_websocket_rereads_the_state_without_events(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live, "RECHECK_SECONDS", RECHECK_SECONDS)
    async with make_app() as app:
        problem = await import_example(app, "hello")
        client = app.test_client()
        client.websocket_connection_class = ClosingWebsocketConnection  # type: ignore[assignment]
        student = await signed_in(client)
        number = await store_submission(
            app, student, problem, files=(("main.py", "print(0)"),), verdict=None
        )
        states: list[dict[str, Any]] = []
        closed = asyncio.Event()

        async def listen() -> None:
            path = f"/submissions/{number}/live"
            async with client.websocket(path, headers={"Origin": TEST_PUBLIC_URL}) as socket:
                while True:
                    try:
                        message = json.loads(await asyncio.wait_for(socket.receive(), 10))
                    except WebsocketClosed as close:
                        assert close.code == 1000
                        closed.set()
                        return
                    assert message["type"] == "snapshot"
                    states.append(message["state"])

        listener = asyncio.create_task(listen())
        await wait_for_snapshot(states, "queued")
        await asyncio.sleep(RECHECK_SECONDS * 3)
        assert len(states) == 1  # an unchanged state is not sent again
        await judge_elsewhere(app, number, problem, done=False)
        await wait_for_snapshot(states, "running")
        await judge_elsewhere(app, number, problem, done=True)
        await asyncio.wait_for(listener, 10)

    assert closed.is_set()
    # A re-read may land while the other process writes (a judging counted, its submission
    # not yet updated): that is a changed state too; what matters is the order and the end.
    statuses = [state["status"] for state in states]
    assert [status for at, status in enumerate(statuses) if statuses[at - 1 : at] != [status]] == [
        "queued",
        "running",
        "done",
    ]
    running = next(state for state in states if state["status"] == "running")
    final = states[-1]
    assert running["tests_done"] == 1 and final["tests_done"] == 2
    assert final["verdict"] == "WA" and final["judging_id"] == running["judging_id"] + 1
    assert [test["message"] for test in final["tests"]] == ["", ""]  # secret stays secret


async def test_the_event_stream_rereads_the_state_without_events(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live, "RECHECK_SECONDS", RECHECK_SECONDS)
    reads: list[int] = []
    read_state = live.viewed_state

    async def counted(*args: Any, **kwargs: Any) -> Any:
        reads.append(1)
        return await read_state(*args, **kwargs)

    monkeypatch.setattr(live, "viewed_state", counted)
    async with make_app() as app:
        problem = await import_example(app, "hello")
        client = app.test_client()
        student = await signed_in(client)
        async with get_db(app).session() as db:
            token, _ = await create_token(db, student, "tests")
            await db.commit()
        number = await store_submission(
            app, student, problem, files=(("main.py", "print(0)"),), verdict=None
        )
        path = f"/api/v1/submissions/{number}/events"
        request = asyncio.create_task(
            client.get(path, headers={"Authorization": f"Bearer {token}"})
        )
        # Idle: the stream re-reads an unchanged state (keep-alive comments only). Wait for
        # the snapshot read and two re-reads, not for a time a loaded machine may not keep.
        await wait_for(lambda: _reads_at_least(reads, 3), "two re-reads of the state")
        await judge_elsewhere(app, number, problem, done=True)
        response = await asyncio.wait_for(request, 10)
        body = await response.get_data(as_text=True)

    assert response.status_code == 200
    assert ": keep-alive" in body
    blocks = [block for block in body.strip().split("\n\n") if not block.startswith(":")]
    events = [
        (block.split("\n")[0].removeprefix("event: "), json.loads(block.split("data: ", 1)[1]))
        for block in blocks
    ]
    assert [(kind, data["status"]) for kind, data in events] == [
        ("snapshot", "queued"),
        ("snapshot", "done"),
    ]
    assert [test["message"] for test in events[-1][1]["tests"]] == ["", ""]


async def _reads_at_least(reads: list[int], count: int) -> bool:
    return len(reads) >= count
