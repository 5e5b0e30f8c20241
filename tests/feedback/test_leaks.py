"""The leak suite: adversarial programs in the real sandbox try to carry hidden test data out.

The problem's secret tests hold unique markers in their input and answer. Each program
turns its input into something a student might read: its standard output (which the
problem's validator quotes in its judge message, a file the checker writes), its standard
error, a crash message, its exit status, or the time it spends. For every policy level of
the secret tests, a student then reads every channel they have (the submission page, its
JSON state, the API's submission and list, the WebSocket and SSE feeds from before judging
starts, the lists, the problem page, the CSV export, the downloads of a test's input, answer
and output) and no marker, no checker message of a
secret test, and no figure of a test the level leaves out may appear. At the full level the
markers do appear: the probe can see a leak when there is one.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from quart import Quart
from quart.testing import QuartClient

from service.evaluator import RunResult, RunSpec, Sandbox
from service.models import Role
from tests.factories import (
    TEST_PUBLIC_URL,
    AppFactory,
    bearer,
    parse_events,
    post_submission,
    run_import,
    set_feedback,
    signed_in,
    submission_id,
    token_for,
    write_package,
)
from tests.fakes import ClosingWebsocketConnection, WebsocketClosed, judge_on, real_sandbox
from tests.waiting import wait_until_done

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]

INPUT_MARKER = "QZX-HIDDEN-INPUT-6f1d2c"
ANSWER_MARKER = "QZX-HIDDEN-ANSWER-9b8e7a"
#: The first byte of every secret input ("Q"), which one program exits with.
EXIT_STATUS = ord(INPUT_MARKER[0])

VALIDATOR = """\
import sys
from pathlib import Path

answer = Path(sys.argv[2]).read_text().strip()
team = sys.stdin.read().strip()
if team == answer:
    sys.exit(42)
(Path(sys.argv[3]) / "judgemessage.txt").write_text(f"expected {answer!r}, got {team!r}")
sys.exit(43)
"""

#: Adversarial programs (Python 3) by what they do with their input.
PROGRAMS = {
    "echo-stdout": "import sys\nsys.stdout.write(sys.stdin.read())\n",
    "echo-stderr": "import sys\nsys.stderr.write(sys.stdin.read())\nprint('fine')\n",
    "crash": "import sys\nraise RuntimeError(sys.stdin.read())\n",
    "exit-status": "import sys\nsys.exit(sys.stdin.buffer.read()[0])\n",
    # CPU time proportional to the input's last digit (1 or 2 on secret tests, 5 on the sample).
    "spin": (
        "import sys, time\n"
        "digit = int(sys.stdin.read().split()[-1])\n"
        "end = time.process_time() + digit * 0.06\n"
        "while time.process_time() < end:\n"
        "    pass\n"
        "print('fine')\n"
    ),
}


def leaky_package(root: Path) -> Path:
    """Write the problem: one public sample, two secret tests holding the markers."""
    return write_package(
        root / "leaky",
        {
            "sample/1": ("public sample 5\n", "fine\n"),
            "secret/1": (f"{INPUT_MARKER} 1\n", f"{ANSWER_MARKER}\n"),
            "secret/deep/2": (f"{INPUT_MARKER} 2\n", f"{ANSWER_MARKER}\n"),
        },
        problem_yaml="name: Leaky\nvalidation: custom\n",
        validator={"validate.py": VALIDATOR},
    )


class GatedSandbox:
    """The real sandbox, holding every run until ``gate`` opens (the feeds connect first)."""

    def __init__(self, inner: Sandbox) -> None:
        self.inner = inner
        self.name = inner.name
        self.slots = inner.slots
        self.safe = inner.safe
        self.gate = asyncio.Event()

    async def run(self, spec: RunSpec) -> RunResult:
        """Wait for the gate, then run ``spec`` in the real sandbox."""
        await self.gate.wait()
        return await self.inner.run(spec)

    async def check(self) -> str | None:
        """Check the real sandbox."""
        return await self.inner.check()


@asynccontextmanager
async def gated_sandbox() -> AsyncIterator[GatedSandbox]:
    """Open the real sandbox (or skip) behind a gate."""
    async with real_sandbox(slots=2) as sandbox:
        yield GatedSandbox(sandbox)


async def websocket_messages(client: QuartClient, number: int) -> list[Any]:
    """Return every WebSocket message of a submission's live view until the server closes."""
    messages: list[Any] = []
    path = f"/submissions/{number}/live"
    async with client.websocket(path, headers={"Origin": TEST_PUBLIC_URL}) as socket:
        while True:
            try:
                messages.append(json.loads(await socket.receive()))
            except WebsocketClosed:
                return messages


async def sse_events(client: QuartClient, number: int, token: str) -> list[Any]:
    """Return the API's whole event stream of a submission as (event, data) pairs."""
    response = await client.get(f"/api/v1/submissions/{number}/events", headers=bearer(token))
    assert response.status_code == 200
    return parse_events(await response.get_data(as_text=True))


async def everything_a_student_reads(
    client: QuartClient, numbers: list[int], token: str
) -> dict[str, str]:
    """Return the text of every channel the student has, by channel."""
    seen: dict[str, str] = {}
    for number in numbers:
        for path in (f"/submissions/{number}", f"/submissions/{number}/state"):
            seen[path] = await (await client.get(path)).get_data(as_text=True)
        api = await client.get(f"/api/v1/submissions/{number}", headers=bearer(token))
        seen[f"api {number}"] = await api.get_data(as_text=True)
        for kind in ("input", "answer", "output"):  # the downloads of the first failed test
            for test in ("secret/1", "secret/deep/2"):
                path = f"/submissions/{number}/tests/{kind}/{test}"
                seen[path] = await (await client.get(path)).get_data(as_text=True)
    for path in ("/submissions", "/problems/leaky", "/problems", "/scoreboard.csv"):
        seen[path] = await (await client.get(path)).get_data(as_text=True)
    listed = await client.get("/api/v1/submissions", headers=bearer(token))
    seen["api list"] = await listed.get_data(as_text=True)
    return seen


async def judge_all(app: Quart, sandbox: GatedSandbox, level: str, folder: Path) -> dict[str, Any]:
    """Submit every program as a student under ``level``; return what they and staff saw."""
    await run_import(app, leaky_package(folder))
    await set_feedback(app, "leaky", {"secret": {"level": level}})
    student = app.test_client()
    student.websocket_connection_class = ClosingWebsocketConnection  # type: ignore[assignment]
    user = await signed_in(student)
    token = await token_for(app, user)
    numbers = [
        submission_id(await post_submission(student, "leaky", source=source))
        for source in PROGRAMS.values()
    ]
    feeds = [
        asyncio.create_task(feed)
        for number in numbers
        for feed in (websocket_messages(student, number), sse_events(student, number, token))
    ]
    await asyncio.sleep(0)  # let the feeds connect while the gate holds every run
    sandbox.gate.set()
    for number in numbers:
        await wait_until_done(student, number, timeout=120)
    live = await asyncio.gather(*feeds)
    seen = await everything_a_student_reads(student, numbers, token)
    seen["live"] = json.dumps(live)
    staff = app.test_client()
    await signed_in(staff, Role.STAFF)
    full = [await (await staff.get(f"/submissions/{n}/state")).get_json() for n in numbers]
    states = [json.loads(seen[f"/submissions/{n}/state"]) for n in numbers]
    return {"seen": seen, "live": live, "full": full, "states": states}


def secret_results(states: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return the secret test results among the states' tests."""
    return [t for state in states for t in state["tests"] if t["name"].startswith("secret/")]


def live_tests(feeds: list[list[Any]]) -> list[dict[str, Any]]:
    """Return the test results sent live: WebSocket messages and SSE ``test`` events."""
    found = []
    for feed in feeds:
        for item in feed:
            if isinstance(item, dict) and item.get("type") == "test":
                found.append(item.get("test", item))
            elif isinstance(item, tuple) and item[0] == "test":
                found.append(item[1])
    return found


def leaks(seen: dict[str, str], needles: set[str]) -> list[tuple[str, str]]:
    """Return each (channel, needle) where a needle appears."""
    return [
        (channel, needle) for channel, text in seen.items() for needle in needles if needle in text
    ]


async def judged_under(make_app: AppFactory, tmp_path: Path, level: str) -> dict[str, Any]:
    """Judge every program under ``level`` on an app using the gated real sandbox."""
    async with gated_sandbox() as sandbox, make_app(setup=judge_on(sandbox)) as app:
        return await judge_all(app, sandbox, level, tmp_path)


def checker_messages(full: list[dict[str, Any]]) -> set[str]:
    """Return the messages staff see on secret tests but on no sample (hidden data's words)."""
    public = {
        t["message"] for state in full for t in state["tests"] if t["name"].startswith("sample/")
    }
    return {t["message"] for t in secret_results(full) if t["message"]} - public


async def test_full_level_shows_the_markers(make_app: AppFactory, tmp_path: Path) -> None:
    found = await judged_under(make_app, tmp_path, "full")
    assert leaks(found["seen"], {INPUT_MARKER}), "the probe sees nothing even at full"
    downloads = {k: v for k, v in found["seen"].items() if "/tests/answer/" in k}
    assert leaks(downloads, {ANSWER_MARKER}), "full shows the expected output"
    assert f"exit code {EXIT_STATUS}" in found["seen"]["live"]


@pytest.mark.parametrize("level", ["verdict", "summary", "hidden"])
async def test_no_hidden_byte_reaches_a_student(
    make_app: AppFactory, tmp_path: Path, level: str
) -> None:
    found = await judged_under(make_app, tmp_path, level)
    seen, full, states = found["seen"], found["full"], found["states"]

    # Staff see what the programs carried out, so each probe did carry something.
    messages = checker_messages(full)
    assert any(INPUT_MARKER in message for message in messages)
    assert f"exit code {EXIT_STATUS}" in messages
    assert leaks(seen, {INPUT_MARKER, ANSWER_MARKER, *messages}) == []
    assert leaks(seen, {f"exit code {EXIT_STATUS}"}) == []
    # The judging's message may name the public sample's failure, never a secret test's.
    assert all("secret/" not in state["message"] for state in states)
    for state in states:
        assert all(not t["message"] for t in state["tests"] if t["name"].startswith("secret/"))

    assert live_tests(found["live"]), "no test result was sent live"
    downloads = [path for path in seen if "/tests/" in path]
    assert downloads and all("There is no" in seen[path] for path in downloads)  # 404s
    if level == "verdict":  # name, verdict, time and memory: the figures are disclosed
        assert len(secret_results(states)) == 2 * len(PROGRAMS)
        return
    # Below verdict no secret test is named, listed or measured on any channel (the 404s
    # of the downloads name only the test the student asked for in the URL).
    assert leaks({k: v for k, v in seen.items() if k not in downloads}, {"secret/"}) == []
    assert secret_results(states) == []
    assert all(not str(test["name"]).startswith("secret/") for test in live_tests(found["live"]))
    for state in states:  # the public sample decides the verdict shown, or nothing does
        sample = state["tests"][0]
        assert sample["name"] == "sample/1"
        assert state["verdict"] == (None if sample["verdict"] == "AC" else sample["verdict"])
    if level == "summary":
        assert all(state["summary"]["total"] == 2 for state in states)
    else:
        assert all(state["summary"] is None and state["tests_total"] == 1 for state in states)
        assert all(state["score"] is None for state in states)
