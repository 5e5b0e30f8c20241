"""Secret test data stays secret: a student sees no checker message of a secret test."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from quart import Quart
from quart.testing import QuartClient

from service.models import Role
from tests.factories import (
    TEST_PUBLIC_URL,
    AppFactory,
    example_path,
    import_example,
    post_submission,
    signed_in,
    submission_id,
)
from tests.fakes import (
    ClosingWebsocketConnection,
    FakeSandbox,
    WebsocketClosed,
    exited,
    judge_on,
    says,
)
from tests.waiting import wait_until_done

WRONG = 'print("0")\n'


def answers(kind: str) -> set[str]:
    """Return the expected answers of the groups example's ``kind`` tests, but "0"."""
    folder = example_path("groups") / "data" / kind
    found = {path.read_text().strip() for path in folder.rglob("*.ans")}
    return found - {"0"}


def split_tests(state: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Split a state's tests into (samples, secret ones)."""
    tests = state["tests"]
    samples = [test for test in tests if test["name"].startswith("sample/")]
    return samples, [test for test in tests if not test["name"].startswith("sample/")]


@pytest.fixture
def fake_sandbox_zero() -> FakeSandbox:
    """Return a fake sandbox whose programs print 0: wrong on most groups tests."""
    return FakeSandbox(program=says(b"0\n"))


async def receive_all(socket: Any) -> list[dict[str, Any]]:
    """Read WebSocket messages until the server closes."""
    messages: list[dict[str, Any]] = []
    while True:
        try:
            messages.append(json.loads(await socket.receive()))
        except WebsocketClosed:
            return messages


async def judged_wrong(app: Quart, client: QuartClient) -> int:
    """Submit a wrong answer to groups as the signed-in user; return its id once judged."""
    await import_example(app, "groups")
    number = submission_id(await post_submission(client, "groups", source=WRONG))
    await wait_until_done(client, number)
    return number


async def test_students_see_no_secret_message_on_the_page_or_state(
    make_app: AppFactory, fake_sandbox_zero: FakeSandbox
) -> None:
    async with make_app(setup=judge_on(fake_sandbox_zero)) as app:
        student = app.test_client()
        await signed_in(student)
        number = await judged_wrong(app, student)

        state = await (await student.get(f"/submissions/{number}/state")).get_json()
        samples, secret = split_tests(state)
        assert state["verdict"] == "WA" and len(secret) == 13
        assert all(test["message"] == "" for test in secret)
        assert {test["verdict"] for test in secret} == {"WA", "AC"}  # verdicts still shown
        assert all(test["time_ms"] is not None for test in secret)
        assert all("expected" in test["message"] for test in samples)  # samples are public
        body = json.dumps(state)
        assert [answer for answer in answers("secret") if answer in body] == []

        page = await (await student.get(f"/submissions/{number}")).get_data(as_text=True)
        assert [answer for answer in answers("secret") if answer in page] == []
        assert all(f"&#39;{answer}&#39;" in page for answer in answers("sample"))

        staff = app.test_client()
        await signed_in(staff, Role.STAFF)
        full = await (await staff.get(f"/submissions/{number}/state")).get_json()
        assert all(test["message"] for test in split_tests(full)[1] if test["verdict"] == "WA")
        staff_page = await (await staff.get(f"/submissions/{number}")).get_data(as_text=True)
        assert all(answer in staff_page for answer in answers("secret"))


def listener(app: Quart) -> QuartClient:
    """Return a test client whose WebSockets report the server's close."""
    client = app.test_client()
    client.websocket_connection_class = ClosingWebsocketConnection  # type: ignore[assignment]
    return client


async def listen(client: QuartClient, number: int) -> list[dict[str, Any]]:
    """Return every message of the submission's live view until the server closes it."""
    path = f"/submissions/{number}/live"
    async with client.websocket(path, headers={"Origin": TEST_PUBLIC_URL}) as socket:
        return await receive_all(socket)


async def test_live_events_hide_secret_messages_from_students(make_app: AppFactory) -> None:
    slow = FakeSandbox(program=says(b"0\n"), delay=0.05)
    async with make_app(setup=judge_on(slow)) as app:
        student, staff = listener(app), listener(app)
        await signed_in(student)
        await signed_in(staff, Role.STAFF)
        await import_example(app, "groups")
        number = submission_id(await post_submission(student, "groups", source=WRONG))
        seen, seen_by_staff = await asyncio.gather(listen(student, number), listen(staff, number))

    snapshot, *events = seen
    tests = [event for event in events if event["type"] == "test"]
    secret = [test for test in tests if not test["name"].startswith("sample/")]
    assert secret, "no secret test was judged while listening"
    assert all(test["message"] == "" for test in secret)
    assert {test["verdict"] for test in secret} <= {"WA", "AC"}
    assert all(test["message"] == "" for test in split_tests(snapshot["state"])[1])
    assert [answer for answer in answers("secret") if answer in json.dumps(seen)] == []

    staff_tests = [event for event in seen_by_staff if event["type"] == "test"]
    assert any(test["message"] for test in staff_tests if not test["name"].startswith("sample/"))


def passes_samples_only() -> FakeSandbox:
    """Return a fake sandbox whose programs answer the groups samples right and the rest 0."""
    folder = example_path("groups") / "data" / "sample"
    known = {
        path.read_bytes(): path.with_suffix(".ans").read_bytes() for path in folder.glob("*.in")
    }
    return FakeSandbox(program=lambda stdin, _spec: exited(known.get(stdin, b"0\n")))


async def test_the_verdict_message_names_no_secret_answer(make_app: AppFactory) -> None:
    # The first failed test is secret: the judging's own message must not quote it either.
    async with make_app(setup=judge_on(passes_samples_only())) as app:
        student, staff = listener(app), listener(app)
        await signed_in(student)
        await signed_in(staff, Role.STAFF)
        number = await judged_wrong(app, student)
        state = await (await student.get(f"/submissions/{number}/state")).get_json()
        page = await (await student.get(f"/submissions/{number}")).get_data(as_text=True)
        replay = await listen(student, number)
        staff_state = await (await staff.get(f"/submissions/{number}/state")).get_json()

    samples, secret = split_tests(state)
    assert all(test["message"] == "" for test in secret)
    assert state["verdict"] == "WA"
    assert all(test["verdict"] == "AC" for test in samples)
    leaked = [
        answer
        for answer in answers("secret")
        if answer in json.dumps(state) or answer in page or answer in json.dumps(replay)
    ]
    assert leaked == []
    assert state["message"] == ""
    assert staff_state["message"].startswith("secret/")
