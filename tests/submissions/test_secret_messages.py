"""Secret test data stays secret: a student sees no checker message of a secret test."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import zlib
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from quart import Quart
from quart.testing import QuartClient

from service.evaluator import Outcome, RunResult, RunSpec
from service.jobs import get_dispatcher
from service.models import Role, Status
from tests.factories import (
    TEST_PUBLIC_URL,
    AppFactory,
    bearer,
    example_path,
    import_example,
    judgings_of,
    parse_events,
    post_submission,
    run_import,
    set_feedback,
    signed_in,
    submission_id,
    token_for,
    write_package,
)
from tests.fakes import (
    ClosingWebsocketConnection,
    FakeSandbox,
    WebsocketClosed,
    exited,
    judge_on,
    says,
)
from tests.waiting import wait_for, wait_until_done

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
        # The verdict level (the default of secret tests) shows time and memory (#11).
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


# ------------------------------------------------- a judge error on a secret test (#14, item 4)

#: What the crashing validator below quotes on the secret test: never for a student's eyes.
SECRET_ANSWER = "TOP-SECRET-ANSWER-31337"
#: The sample test's answer: public, so its validator output may be shown.
SAMPLE_ANSWER = "sample-answer-7"


def crashing_validator() -> FakeSandbox:
    """Return a fake sandbox whose programs print 0 and whose output validator crashes.

    The validator fails on every test with a Python traceback quoting the expected answer,
    as a validator's ``assert`` does: a judge error, retried, on the sample and the secret test.
    """

    def run(stdin: bytes, spec: RunSpec) -> RunResult:
        binds = {bind.target: bind.source for bind in spec.binds}
        if "/judge/answer" not in binds:
            return exited(b"0\n")
        expected = binds["/judge/answer"].read_text().strip()
        return exited(code=1, stderr=f"AssertionError: expected [{expected!r}]".encode())

    return FakeSandbox(program=run)


def leaky_package(root: Path) -> Path:
    """Write a package with one sample and one secret test and a custom output validator."""
    return write_package(
        root,
        {"sample/1": ("1\n", f"{SAMPLE_ANSWER}\n"), "secret/1": ("2\n", f"{SECRET_ANSWER}\n")},
        problem_yaml="name: Leaky\nvalidation: custom\n",
        validator={"validate.py": "import sys\nsys.exit(42)\n"},
    )


async def first_message(client: QuartClient, number: int) -> dict[str, Any]:
    """Return the first message of the submission's WebSocket (its snapshot), then close."""
    path = f"/submissions/{number}/live"
    message: dict[str, Any] = {}
    with contextlib.suppress(WebsocketClosed):  # the server closes after a done snapshot
        async with client.websocket(path, headers={"Origin": TEST_PUBLIC_URL}) as socket:
            message = json.loads(await asyncio.wait_for(socket.receive(), 30))
    return message


async def first_event(client: QuartClient, number: int, headers: dict[str, str]) -> str:
    """Return the API event stream's first event (its snapshot) as text, then disconnect."""
    path = f"/api/v1/submissions/{number}/events"
    async with client.request(path, headers=headers) as connection:
        await connection.send_complete()
        received = ""
        while "\n\n" not in received:
            received += (await asyncio.wait_for(connection.receive(), 30)).decode()
        await connection.disconnect()
    return received


async def every_channel(
    client: QuartClient, number: int, headers: dict[str, str]
) -> dict[str, str]:
    """Return what each channel shows the client of a submission, as text by channel."""
    state = await client.get(f"/submissions/{number}/state")
    page = await client.get(f"/submissions/{number}")
    api = await client.get(f"/api/v1/submissions/{number}", headers=headers)
    assert (state.status_code, page.status_code, api.status_code) == (200, 200, 200)
    return {
        "state": await state.get_data(as_text=True),
        "page": await page.get_data(as_text=True),
        "api": await api.get_data(as_text=True),
        "websocket": json.dumps(await first_message(client, number)),
        "sse": await first_event(client, number, headers),
    }


async def test_a_retried_judge_error_shows_no_secret_validator_output(
    make_app: AppFactory, tmp_path: Path
) -> None:
    # The validator crashes on the sample and on the secret test; the judging waits for its
    # retry with the joined errors as its message, which starts with "sample/1: ...".
    async with make_app(setup=judge_on(crashing_validator(), retry_delay=3600.0)) as app:
        await run_import(app, leaky_package(tmp_path / "leaky"))
        student, staff = listener(app), listener(app)
        user = await signed_in(student)
        await signed_in(staff, Role.STAFF)
        headers = bearer(await token_for(app, user))
        number = submission_id(await post_submission(student, "leaky", source=WRONG))

        async def waiting_for_retry(attempts: int) -> bool:
            judging = (await judgings_of(app, number))[-1]
            return (judging.status, judging.attempts) == (Status.QUEUED, attempts)

        seen: list[dict[str, str]] = []
        for attempt in (1, 2):
            await wait_for(partial(waiting_for_retry, attempt), f"attempt {attempt} to fail")
            seen.append(await every_channel(student, number, headers))
            staff_state = await (await staff.get(f"/submissions/{number}/state")).get_json()
            assert SECRET_ANSWER in staff_state["message"]  # the message does carry it
            await get_dispatcher(app).dispatch((await judgings_of(app, number))[-1].id)
        await wait_until_done(student, number)
        seen.append(await every_channel(student, number, headers))
        final = await (await student.get(f"/submissions/{number}/state")).get_json()

    leaks = [
        (when, channel)
        for when, shown in enumerate(seen)
        for channel, text in shown.items()
        if SECRET_ANSWER in text
    ]
    assert leaks == []
    queued = json.loads(seen[0]["state"])
    assert queued["status"] == "queued"
    assert SAMPLE_ANSWER in queued["message"]  # the sample part of the message is public
    assert final["verdict"] == "JE" and SAMPLE_ANSWER in final["message"]


# ------------------------------------------ time and memory of secret tests (#14, item 7)
# The verdict level shows them (issue #11 defines it so); the summary level does not.


def figures(stdin: bytes) -> tuple[int, int]:
    """Return the (CPU ms, KiB) a reading-out program spends on ``stdin``: a function of it."""
    code = zlib.crc32(stdin)
    return 100 + code % 800, 100_000 + code % 100_000


def reads_out_its_input() -> FakeSandbox:
    """Return a fake sandbox whose programs spell their input in the time and memory they use.

    As the attack did: allocate (and spin) an amount chosen by the input's bytes, so the time
    and memory columns of a secret test would carry its input out.
    """

    def run(stdin: bytes, spec: RunSpec) -> RunResult:
        cpu_ms, memory_kb = figures(stdin)
        return RunResult(
            Outcome.EXITED,
            exit_code=0,
            stdout=b"0\n",
            cpu_ms=cpu_ms,
            wall_ms=cpu_ms + 2,
            memory_kb=memory_kb,
        )

    return FakeSandbox(program=run, delay=0.05)


def spent(kind: str) -> set[tuple[int, int]]:
    """Return the (time, memory) the reading-out program shows on the groups ``kind`` tests."""
    folder = example_path("groups") / "data" / kind
    return {figures(path.read_bytes()) for path in folder.rglob("*.in")}


def page_rows(page: str) -> dict[str, tuple[str, str]]:
    """Return each test row of a submission page: name -> (time cell, memory cell)."""
    found = re.findall(
        r'<td class="test-name">(.*?)</td>.*?<td class="test-time">(.*?)</td>\s*'
        r'<td class="test-memory">(.*?)</td>',
        page,
        re.S,
    )
    return {name: (time.strip(), memory.strip()) for name, time, memory in found}


async def event_stream(client: QuartClient, number: int, headers: dict[str, str]) -> list[Any]:
    """Read the API's whole event stream of a submission; return its (event, data) pairs."""
    response = await client.get(f"/api/v1/submissions/{number}/events", headers=headers)
    assert response.status_code == 200
    return parse_events(await response.get_data(as_text=True))


def figures_of(tests: list[dict[str, Any]]) -> set[tuple[Any, Any]]:
    """Return the (time_ms, memory_kb) pairs of test results."""
    return {(test["time_ms"], test["memory_kb"]) for test in tests}


async def test_students_see_no_time_or_memory_of_summary_tests(make_app: AppFactory) -> None:
    async with make_app(setup=judge_on(reads_out_its_input())) as app:
        await import_example(app, "groups")
        await set_feedback(app, "groups", {"secret": {"level": "summary"}})
        student, staff = listener(app), listener(app)
        user = await signed_in(student)
        await signed_in(staff, Role.STAFF)
        headers = bearer(await token_for(app, user))
        number = submission_id(await post_submission(student, "groups", source=WRONG))
        live, streamed = await asyncio.gather(
            listen(student, number), event_stream(student, number, headers)
        )
        await wait_until_done(student, number)
        shown = await every_channel(student, number, headers)
        full = await (await staff.get(f"/submissions/{number}/state")).get_json()

    secret, samples = spent("secret"), spent("sample")
    assert figures_of(split_tests(full)[1]) == secret  # staff see what the program spent
    live_tests = [event for event in live[1:] if event["type"] == "test"]
    streamed_tests = [data for kind, data in streamed if kind == "test"]
    assert [test for test in live_tests + streamed_tests if is_sample(test)], "none live"
    states = [
        json.loads(shown["state"]),
        json.loads(shown["api"]),
        live[0]["state"],
        next(data for kind, data in streamed if kind == "snapshot"),
    ]
    for tests in [state["tests"] for state in states] + [live_tests, streamed_tests]:
        assert [test for test in tests if not is_sample(test)] == []  # counted, not listed
        assert figures_of(tests) <= samples
    for state in states:  # counted before (the first snapshots) and after the judging
        assert state["summary"]["total"] == 13
    assert [state["summary"]["done"] for state in states[:2]] == [13, 13]
    rows = page_rows(shown["page"])
    assert len(rows) == 2
    assert all(cells != ("", "") for name, cells in rows.items() if name.startswith("sample/"))


def is_sample(test: dict[str, Any]) -> bool:
    """Return whether a test result is of a sample test."""
    return str(test["name"]).startswith("sample/")
