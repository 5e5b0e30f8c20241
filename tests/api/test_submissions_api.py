"""POST/GET /api/v1/submissions, the batch form, rejudge and the live event stream."""

from __future__ import annotations

import asyncio
import json
from contextlib import AsyncExitStack

import pytest
from quart import Quart
from quart.testing import QuartClient
from sqlalchemy import func, select

from service.config import RateLimit
from service.db import get_db
from service.models import Judging, Role, Submission
from service.submissions.live import MAX_LIVE_PER_USER
from tests.factories import (
    HELLO_PY,
    AppFactory,
    count_rows,
    create_user,
    import_example,
    parse_events,
    sign_in_as,
    store_submission,
    token_for,
    user_with_token,
)
from tests.fakes import FakeSandbox, exited, hello_program, judge_on, real_sandbox
from tests.waiting import wait_done


def python(source: str = HELLO_PY, problem: str = "hello") -> dict[str, str]:
    """Return the body of a one-file Python submission."""
    return {"problem": problem, "language": "python3", "source": source}


async def test_submit_then_read_the_verdict(app: Quart, client: QuartClient) -> None:
    await import_example(app, "hello")
    user, headers = await user_with_token(app)
    response = await client.post("/api/v1/submissions", json=python(), headers=headers)
    assert response.status_code == 202
    body = await response.get_json()
    assert response.headers["Location"] == f"/api/v1/submissions/{body['id']}"
    assert body["problem"] == "hello" and body["language"] == "python3"
    assert body["user"]["id"] == user.id
    assert body["status"] in ("queued", "running", "done")

    await wait_done(app, body["id"])
    done = await (await client.get(response.headers["Location"], headers=headers)).get_json()
    assert done["status"] == "done" and done["verdict"] == "AC" and done["score"] == 1.0
    assert len(done["tests"]) == done["tests_total"] >= 1
    assert all(test["verdict"] == "AC" for test in done["tests"])


async def test_wrong_answer(make_app: AppFactory) -> None:
    wrong = FakeSandbox(program=lambda stdin, spec: exited(b"Goodbye\n"))
    async with make_app(judge_on(wrong)) as app:
        await import_example(app, "hello")
        _, headers = await user_with_token(app)
        client = app.test_client()
        response = await client.post("/api/v1/submissions", json=python(), headers=headers)
        submission_id = (await response.get_json())["id"]
        await wait_done(app, submission_id)
        body = await (
            await client.get(f"/api/v1/submissions/{submission_id}", headers=headers)
        ).get_json()
    assert body["verdict"] == "WA" and body["score"] < 1


async def test_several_files(app: Quart, client: QuartClient) -> None:
    await import_example(app, "hello")
    _, headers = await user_with_token(app)
    files = [
        {"name": "main.py", "content": "import greeting\n"},
        {"name": "greeting.py", "content": HELLO_PY},
    ]
    body = {"problem": "hello", "language": "python3", "files": files}
    response = await client.post("/api/v1/submissions", json=body, headers=headers)
    assert response.status_code == 202, await response.get_json()
    await wait_done(app, (await response.get_json())["id"])


async def test_refusals_store_nothing(app: Quart, client: QuartClient) -> None:
    await import_example(app, "hello")
    await import_example(app, "floatdiv", hidden=True)
    _, headers = await user_with_token(app)
    cases: list[tuple[object, int, str]] = [
        ({**python(), "language": "cobol"}, 422, "unknown_language"),
        (python(source="   \n"), 422, "empty_source"),
        (python(source="x" * (64 * 1024 + 1)), 413, "source_too_large"),
        (python(source="print(1)\x00"), 422, "not_text"),
        (python(source="print('\ud800')"), 422, "not_text"),
        (python(problem="nope"), 404, "no_such_problem"),
        (python(problem="floatdiv"), 404, "no_such_problem"),
        ({**python(), "files": [{"name": "a.py", "content": "x"}]}, 422, "invalid_request"),
        ({"problem": "hello", "language": "python3"}, 422, "invalid_request"),
        ({"language": "python3", "source": HELLO_PY}, 422, "invalid_request"),
        ({**python(), "extra": 1}, 422, "invalid_request"),
        ([python()], 422, "invalid_request"),
        (
            {
                "problem": "hello",
                "language": "python3",
                "files": [{"name": "../x.py", "content": "1"}],
            },
            422,
            "bad_file_name",
        ),
    ]
    for body, status, error in cases:
        response = await client.post("/api/v1/submissions", json=body, headers=headers)
        assert response.status_code == status, body
        answer = await response.get_json()
        assert answer["error"] == error, answer
        assert answer["message"]
    offered = await client.post(
        "/api/v1/submissions", json={**python(), "language": "cobol"}, headers=headers
    )
    assert "python3" in (await offered.get_json())["message"]
    missing = await client.post(
        "/api/v1/submissions", json={"language": "python3", "source": "1"}, headers=headers
    )
    assert "problem" in (await missing.get_json())["message"]
    not_json = await client.post("/api/v1/submissions", data="problem=hello", headers=headers)
    assert not_json.status_code == 422
    assert "JSON" in (await not_json.get_json())["message"]
    broken = await client.post(
        "/api/v1/submissions",
        data="{not json",
        headers={**headers, "Content-Type": "application/json"},
    )
    assert broken.status_code == 400 and (await broken.get_json())["error"] == "bad_request"
    assert await count_rows(app, Submission) == 0


async def test_rate_limit_says_when_to_retry(make_app: AppFactory) -> None:
    async with make_app(judge_on(FakeSandbox()), submission_rate_limit=RateLimit(2, 60)) as app:
        await import_example(app, "hello")
        _, headers = await user_with_token(app)
        client = app.test_client()
        for _ in range(2):
            response = await client.post("/api/v1/submissions", json=python(), headers=headers)
            assert response.status_code == 202
        limited = await client.post("/api/v1/submissions", json=python(), headers=headers)
        assert limited.status_code == 429
        assert (await limited.get_json())["error"] == "rate_limited"
        assert 1 <= int(limited.headers["Retry-After"]) <= 60
        assert await count_rows(app, Submission) == 2


async def test_batch_reports_each_item(app: Quart, client: QuartClient) -> None:
    await import_example(app, "hello")
    _, headers = await user_with_token(app)
    batch = {"submissions": [python(), {**python(), "language": "cobol"}, python()]}
    response = await client.post("/api/v1/submissions/batch", json=batch, headers=headers)
    assert response.status_code == 200
    results = (await response.get_json())["results"]
    assert [result["status"] for result in results] == [202, 422, 202]
    assert results[1]["error"] == "unknown_language" and results[1]["submission"] is None
    assert results[0]["submission"]["id"] != results[2]["submission"]["id"]
    assert await count_rows(app, Submission) == 2
    for result in (results[0], results[2]):
        await wait_done(app, result["submission"]["id"])

    refusals: list[dict[str, object]] = [
        {"submissions": []},
        {"submissions": [python()] * 21},
        {},
    ]
    for refused in refusals:
        response = await client.post("/api/v1/submissions/batch", json=refused, headers=headers)
        assert response.status_code == 422
        assert "submissions" in (await response.get_json())["message"]
    assert await count_rows(app, Submission) == 2


async def test_listing_own_and_everyone(app: Quart, client: QuartClient) -> None:
    await import_example(app, "hello")
    await import_example(app, "floatdiv")
    ada, ada_headers = await user_with_token(app)
    bob, bob_headers = await user_with_token(app)
    _, staff_headers = await user_with_token(app, Role.STAFF)
    ids = []
    for headers, problem in (
        (ada_headers, "hello"),
        (ada_headers, "floatdiv"),
        (bob_headers, "hello"),
    ):
        response = await client.post(
            "/api/v1/submissions", json=python(problem=problem), headers=headers
        )
        ids.append((await response.get_json())["id"])
    for submission_id in ids:
        await wait_done(app, submission_id)

    async def listed(headers: dict[str, str], query: str = "") -> dict[str, object]:
        response = await client.get(f"/api/v1/submissions?{query}", headers=headers)
        assert response.status_code == 200, await response.get_json()
        body: dict[str, object] = await response.get_json()
        return body

    def item_ids(body: dict[str, object]) -> list[int]:
        items = body["items"]
        assert isinstance(items, list)
        return [item["id"] for item in items]

    assert item_ids(await listed(ada_headers)) == [ids[1], ids[0]]  # newest first
    assert item_ids(await listed(bob_headers)) == [ids[2]]
    assert item_ids(await listed(bob_headers, f"user={ada.id}")) == []  # students see their own
    assert item_ids(await listed(staff_headers)) == ids[::-1]
    assert item_ids(await listed(staff_headers, "problem=hello")) == [ids[2], ids[0]]
    assert item_ids(await listed(staff_headers, f"user={ada.email.upper()}")) == [ids[1], ids[0]]
    assert item_ids(await listed(staff_headers, f"user={bob.id}")) == [ids[2]]
    assert item_ids(await listed(staff_headers, "user=99999999999999999999")) == []
    assert item_ids(await listed(staff_headers, "language=c")) == []
    floatdiv = await listed(staff_headers, "problem=floatdiv&verdict=wa")
    assert item_ids(floatdiv) == [ids[1]]  # the fake prints hello: wrong for floatdiv
    assert item_ids(await listed(staff_headers, "verdict=AC")) == [ids[2], ids[0]]
    page = await listed(staff_headers, "per_page=2&page=2")
    assert item_ids(page) == [ids[0]] and page["total"] == 3
    response = await client.get("/api/v1/submissions?per_page=1000", headers=staff_headers)
    assert response.status_code == 422


async def test_reading_one_submission(app: Quart, client: QuartClient) -> None:
    await import_example(app, "hello")
    _, owner = await user_with_token(app)
    _, other = await user_with_token(app)
    _, staff = await user_with_token(app, Role.STAFF)
    response = await client.post("/api/v1/submissions", json=python(), headers=owner)
    path = response.headers["Location"]
    await wait_done(app, (await response.get_json())["id"])
    assert (await client.get(path, headers=owner)).status_code == 200
    assert (await client.get(path, headers=staff)).status_code == 200
    hidden = await client.get(path, headers=other)
    assert hidden.status_code == 404 and (await hidden.get_json())["error"] == "not_found"
    for missing in ("/api/v1/submissions/999999", "/api/v1/submissions/99999999999999999999"):
        assert (await client.get(missing, headers=owner)).status_code == 404


async def test_staff_rejudge_keeps_history(app: Quart, client: QuartClient) -> None:
    await import_example(app, "hello")
    _, student = await user_with_token(app)
    _, staff = await user_with_token(app, Role.STAFF)
    response = await client.post("/api/v1/submissions", json=python(), headers=student)
    submission_id = (await response.get_json())["id"]
    await wait_done(app, submission_id)
    path = f"/api/v1/submissions/{submission_id}/rejudge"
    assert (await client.post(path, headers=student)).status_code == 403
    rejudged = await client.post(path, headers=staff)
    assert rejudged.status_code == 202
    assert rejudged.headers["Location"] == f"/api/v1/submissions/{submission_id}"
    assert (await rejudged.get_json())["judgings"] == 2
    await wait_done(app, submission_id)
    async with get_db(app).session() as db:
        count = await db.scalar(
            select(func.count()).select_from(Judging).where(Judging.submission_id == submission_id)
        )
    assert count == 2
    done = await (
        await client.get(f"/api/v1/submissions/{submission_id}", headers=staff)
    ).get_json()
    assert done["verdict"] == "AC"


async def test_event_stream_follows_the_judging(make_app: AppFactory) -> None:
    slow = FakeSandbox(program=hello_program, delay=0.2)
    async with make_app(judge_on(slow)) as app:
        await import_example(app, "hello")
        owner = await create_user(app)
        headers = {"Authorization": f"Bearer {await token_for(app, owner)}"}
        _, other = await user_with_token(app)
        client = app.test_client()
        response = await client.post("/api/v1/submissions", json=python(), headers=headers)
        submission_id = (await response.get_json())["id"]
        path = f"/api/v1/submissions/{submission_id}/events"
        assert (await client.get(path, headers=other)).status_code == 404

        stream = await client.get(path, headers=headers)
        assert stream.status_code == 200
        assert stream.mimetype == "text/event-stream"
        events = parse_events(await stream.get_data(as_text=True))
        kinds = [kind for kind, _ in events]
        assert kinds[0] == "snapshot" and kinds[-1] == "done"
        assert events[0][1]["id"] == submission_id
        assert "test" in kinds

        # Once done, the stream is the snapshot alone.
        await wait_done(app, submission_id)
        again = parse_events(await (await client.get(path, headers=headers)).get_data(as_text=True))
        assert [kind for kind, _ in again] == ["snapshot"]
        assert again[0][1]["verdict"] == "AC"


@pytest.mark.sandbox
async def test_real_sandbox_python_hello(make_app: AppFactory) -> None:
    async with real_sandbox(slots=2) as sandbox, make_app(judge_on(sandbox)) as app:
        await import_example(app, "hello")
        _, headers = await user_with_token(app)
        client = app.test_client()
        response = await client.post("/api/v1/submissions", json=python(), headers=headers)
        submission_id = (await response.get_json())["id"]
        await wait_done(app, submission_id)
        body = await (
            await client.get(f"/api/v1/submissions/{submission_id}", headers=headers)
        ).get_json()
    assert body["verdict"] == "AC", body


PER_PERSON = MAX_LIVE_PER_USER


async def open_stream(
    stack: AsyncExitStack, client: QuartClient, path: str, headers: dict[str, str]
) -> tuple[int | None, bytes]:
    """Open an event stream on ``stack``; return its status and first chunk of body."""
    stream = await stack.enter_async_context(client.request(path, headers=headers))
    stack.push_async_callback(stream.disconnect)  # before the exit waits for the view
    await stream.send_complete()
    first = await asyncio.wait_for(stream.receive(), 10)
    return stream.status_code, first


async def test_one_person_may_hold_only_so_many_live_streams(app: Quart) -> None:
    client = app.test_client()
    problem = await import_example(app, "hello")
    me, headers = await user_with_token(app)
    await sign_in_as(client, me)
    mine = await store_submission(app, me, problem, verdict=None)
    path = f"/api/v1/submissions/{mine}/events"
    async with AsyncExitStack() as stack:
        for _ in range(PER_PERSON // 2):  # WebSockets and event streams count together
            socket = await stack.enter_async_context(client.websocket(f"/submissions/{mine}/live"))
            await socket.receive()
        for _ in range(PER_PERSON // 2):
            status, first = await open_stream(stack, client, path, headers)
            assert (status, first[:15]) == (200, b"event: snapshot")

        status, refusal = await open_stream(stack, client, path, headers)
        assert status == 429
        body = json.loads(refusal)
        assert body["error"] == "too_many_live_connections"
        assert str(PER_PERSON) in body["message"]

        them, theirs = await user_with_token(app)
        other = await store_submission(app, them, problem, verdict=None)
        status, _ = await open_stream(stack, client, f"/api/v1/submissions/{other}/events", theirs)
        assert status == 200  # someone else's streams do not count against mine
