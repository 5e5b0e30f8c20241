"""The API hides secret tests' checker messages from students (GET and the event stream)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from quart.testing import QuartClient

from service.models import Role
from tests.factories import AppFactory, example_path, import_example, parse_events, user_with_token
from tests.fakes import FakeSandbox, exited, judge_on
from tests.waiting import wait_done

WRONG = {"problem": "groups", "language": "python3", "source": 'print("0")\n'}


def secret_answers() -> set[str]:
    """Return the groups example's secret answers (but "0", which the program prints)."""
    folder = example_path("groups") / "data" / "secret"
    return {path.read_text().strip() for path in folder.rglob("*.ans")} - {"0"}


def is_secret(test: dict[str, Any]) -> bool:
    """Return whether a test result is of a secret (non-sample) test."""
    return not str(test["name"]).startswith("sample/")


async def stream(client: QuartClient, path: str, headers: dict[str, str]) -> list[Any]:
    """Read a whole event stream; return its (event, data) pairs."""
    response = await client.get(path, headers=headers)
    assert response.status_code == 200
    return parse_events(await response.get_data(as_text=True))


async def test_students_get_no_secret_message_from_the_api(make_app: AppFactory) -> None:
    slow = FakeSandbox(program=lambda stdin, spec: exited(b"0\n"), delay=0.05)
    async with make_app(judge_on(slow)) as app:
        await import_example(app, "groups")
        _, student = await user_with_token(app)
        _, staff = await user_with_token(app, Role.STAFF)
        client = app.test_client()
        created = await client.post("/api/v1/submissions", json=WRONG, headers=student)
        assert created.status_code == 202
        number = (await created.get_json())["id"]
        path = f"/api/v1/submissions/{number}"
        events, staff_events = await asyncio.gather(
            stream(client, f"{path}/events", student), stream(client, f"{path}/events", staff)
        )
        await wait_done(app, number)
        body = await (await client.get(path, headers=student)).get_json()
        full = await (await client.get(path, headers=staff)).get_json()

    assert body["verdict"] == "WA"
    secret = [test for test in body["tests"] if is_secret(test)]
    assert len(secret) == 13 and all(test["message"] == "" for test in secret)
    assert all("expected" in test["message"] for test in body["tests"] if not is_secret(test))

    streamed = [data for kind, data in events if kind == "test" and is_secret(data)]
    assert streamed, "no secret test was judged while streaming"
    assert all(data["message"] == "" for data in streamed)
    leaked = json.dumps([body, events])
    assert [answer for answer in secret_answers() if answer in leaked] == []

    # Staff see every message.
    assert all(answer in json.dumps(full) for answer in secret_answers())
    assert any(data["message"] for kind, data in staff_events if kind == "test" and is_secret(data))
