"""What a student sees at each level and switch of the policy, on every page and API reply.

The groups example has 2 samples and 13 secret tests in three subgroups. Its programs here
answer the samples right and print 0 on the rest (wrong on most secret tests), so the
submission's true verdict is WA on a secret test while every sample passes.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from quart import Quart
from quart.testing import QuartClient

from service.models import Role
from service.models.base import utcnow
from tests.factories import (
    AppFactory,
    bearer,
    example_path,
    import_example,
    post_submission,
    set_feedback,
    signed_in,
    submission_id,
    token_for,
)
from tests.fakes import FakeSandbox, exited, judge_on
from tests.waiting import wait_until_done

WRONG = 'print("0")\n'


def passes_samples_only() -> FakeSandbox:
    """Return a fake sandbox whose programs answer the groups samples right and the rest 0."""
    folder = example_path("groups") / "data" / "sample"
    known = {
        path.read_bytes(): path.with_suffix(".ans").read_bytes() for path in folder.glob("*.in")
    }
    return FakeSandbox(program=lambda stdin, _spec: exited(known.get(stdin, b"0\n")))


def later(hours: float) -> str:
    """Return the time ``hours`` from now (negative: in the past) in ISO 8601."""
    return (utcnow() + timedelta(hours=hours)).isoformat()


async def judged(app: Quart, client: QuartClient) -> int:
    """Submit the wrong program to groups as ``client``; return its id once judged."""
    number = submission_id(await post_submission(client, "groups", source=WRONG))
    await wait_until_done(client, number)
    return number


async def views(app: Quart, client: QuartClient, number: int, token: str) -> dict[str, Any]:
    """Return what a student reads of submission ``number`` on the state, API, and lists."""
    state = await (await client.get(f"/submissions/{number}/state")).get_json()
    api = await (
        await client.get(f"/api/v1/submissions/{number}", headers=bearer(token))
    ).get_json()
    listed = await (await client.get("/api/v1/submissions", headers=bearer(token))).get_json()
    item = next(item for item in listed["items"] if item["id"] == number)
    page = await (await client.get(f"/submissions/{number}")).get_data(as_text=True)
    index = await (await client.get("/submissions")).get_data(as_text=True)
    problem = await (await client.get("/problems/groups")).get_data(as_text=True)
    return {
        "state": state,
        "api": api,
        "item": item,
        "page": page,
        "index": index,
        "problem": problem,
    }


def secret_names(state: dict[str, Any]) -> list[str]:
    """Return the names of the secret tests a state lists."""
    return [test["name"] for test in state["tests"] if test["name"].startswith("secret/")]


@pytest.fixture
def sandbox() -> FakeSandbox:
    """Return the samples-only fake sandbox."""
    return passes_samples_only()


async def run(make_app: AppFactory, sandbox: FakeSandbox, groups: dict[str, Any]) -> dict[str, Any]:
    """Judge one wrong submission under the policy ``groups``; return the student's views."""
    async with make_app(setup=judge_on(sandbox)) as app:
        await import_example(app, "groups")
        await set_feedback(app, "groups", groups)
        client = app.test_client()
        user = await signed_in(client)
        number = await judged(app, client)
        return await views(app, client, number, await token_for(app, user))


async def test_full_shows_secret_messages(make_app: AppFactory, sandbox: FakeSandbox) -> None:
    seen = await run(make_app, sandbox, {"secret": {"level": "full"}})
    state = seen["state"]
    assert len(secret_names(state)) == 13 and state["verdict"] == "WA"
    wrong = [test for test in state["tests"] if test["verdict"] == "WA"]
    assert wrong and all("expected" in test["message"] for test in wrong)
    assert state["message"].startswith("secret/")  # the judging's message names the test


async def test_verdict_shows_verdicts_time_and_memory_only(
    make_app: AppFactory, sandbox: FakeSandbox
) -> None:
    seen = await run(make_app, sandbox, {})  # the default
    state = seen["state"]
    secret = [test for test in state["tests"] if test["name"].startswith("secret/")]
    assert len(secret) == 13 and all(test["message"] == "" for test in secret)
    assert all(test["time_ms"] == 5 and test["memory_kb"] == 1000 for test in secret)
    assert (state["verdict"], seen["item"]["verdict"], seen["api"]["verdict"]) == ("WA",) * 3
    assert state["summary"] is None and state["message"] == ""
    assert "Hidden tests: verdict only." in seen["problem"]


async def test_summary_counts_without_listing(make_app: AppFactory, sandbox: FakeSandbox) -> None:
    seen = await run(make_app, sandbox, {"secret": {"level": "summary"}})
    state, api = seen["state"], seen["api"]
    assert secret_names(state) == [] and secret_names(api) == []
    assert [test["index"] for test in state["tests"]] == [0, 1]
    assert (state["tests_done"], state["tests_total"]) == (2, 2)
    passed = state["summary"]["passed"]
    assert state["summary"] == {"passed": passed, "done": 13, "total": 13} and passed < 13
    assert api["summary"] == state["summary"]
    # The failed test that decides the verdict is only counted: the verdict is not disclosed.
    assert state["verdict"] is None and api["verdict"] is None and seen["item"]["verdict"] is None
    assert state["score"] == api["score"] == seen["item"]["score"] is not None
    assert f"{passed} of 13 passed" in seen["page"]
    assert "verdict-WA" not in seen["page"] + seen["index"] + seen["problem"]
    assert "Hidden tests: only counted as passed or not." in seen["problem"]


async def test_hidden_neither_lists_nor_counts(make_app: AppFactory, sandbox: FakeSandbox) -> None:
    seen = await run(make_app, sandbox, {"secret": {"level": "hidden"}})
    state, api = seen["state"], seen["api"]
    assert secret_names(state) == [] and state["summary"] is None
    assert (state["tests_done"], state["tests_total"]) == (2, 2)
    assert (state["verdict"], state["score"]) == (None, None)
    assert (api["verdict"], api["score"], api["tests_total"]) == (None, None, 2)
    assert (seen["item"]["verdict"], seen["item"]["score"]) == (None, None)
    assert "secret/" not in seen["page"] and "13" not in re.findall(r"/ (\d+)", seen["page"])
    assert "verdict-WA" not in seen["page"] + seen["index"]


async def test_a_hidden_subgroup_leaves_no_gap(make_app: AppFactory, sandbox: FakeSandbox) -> None:
    seen = await run(make_app, sandbox, {"secret/2-large": {"level": "hidden"}})
    state = seen["state"]
    names = secret_names(state)
    assert names and not [name for name in names if name.startswith("secret/2-large/")]
    assert [test["index"] for test in state["tests"]] == list(range(len(state["tests"])))
    assert state["tests_total"] == len(state["tests"]) == 15 - 6


async def test_exam_mode_hides_until_it_closes(make_app: AppFactory, sandbox: FakeSandbox) -> None:
    rule = {"level": "verdict", "hidden_until": later(2), "full_after": later(-1)}
    seen = await run(make_app, sandbox, {"secret": rule})
    assert secret_names(seen["state"]) == [] and seen["state"]["verdict"] is None
    assert "Hidden tests: hidden until" in seen["problem"]


async def test_full_after_a_past_time_is_full(make_app: AppFactory, sandbox: FakeSandbox) -> None:
    seen = await run(make_app, sandbox, {"secret": {"level": "summary", "full_after": later(-1)}})
    wrong = [test for test in seen["state"]["tests"] if test["verdict"] == "WA"]
    assert len(secret_names(seen["state"])) == 13 and all(test["message"] for test in wrong)


async def test_verdicts_after_n_submissions(make_app: AppFactory, sandbox: FakeSandbox) -> None:
    async with make_app(setup=judge_on(sandbox)) as app:
        await import_example(app, "groups")
        await set_feedback(app, "groups", {"secret": {"level": "summary", "verdict_after": 2}})
        client = app.test_client()
        user = await signed_in(client)
        token = await token_for(app, user)
        first = await judged(app, client)
        before = await views(app, client, first, token)
        await judged(app, client)
        after = await views(app, client, first, token)  # the same first submission
    assert secret_names(before["state"]) == [] and before["item"]["verdict"] is None
    assert len(secret_names(after["state"])) == 13 and after["item"]["verdict"] == "WA"
    assert "verdicts after 2 submissions" in before["problem"]


async def test_staff_see_everything_whatever_the_policy(
    make_app: AppFactory, sandbox: FakeSandbox
) -> None:
    async with make_app(setup=judge_on(sandbox)) as app:
        await import_example(app, "groups")
        await set_feedback(
            app, "groups", {"secret": {"level": "hidden"}, "sample": {"level": "hidden"}}
        )
        student = app.test_client()
        await signed_in(student)
        number = await judged(app, student)
        staff = app.test_client()
        await signed_in(staff, Role.STAFF)
        state = await (await staff.get(f"/submissions/{number}/state")).get_json()
        listed = await (await staff.get("/submissions")).get_data(as_text=True)
    assert len(state["tests"]) == 15 and state["verdict"] == "WA" and state["tests_total"] == 15
    assert all(test["message"] for test in state["tests"] if test["verdict"] == "WA")
    assert "verdict-WA" in listed
