"""Staff set a problem's feedback policy through the API; everyone who sees it can read it."""

from __future__ import annotations

from typing import Any

import pytest

from service.models import Role
from tests.factories import (
    AppFactory,
    import_example,
    load_problem,
    signed_in,
    user_with_token,
)

PATH = "/api/v1/problems/groups/feedback"
EXAM = {
    "groups": {
        "secret": {"level": "verdict", "full_after": "2026-12-04T23:59:00+01:00"},
        "secret/3-edge": {"level": "summary", "verdict_after": 3},
    }
}


async def test_staff_set_the_policy_and_students_read_it(make_app: AppFactory) -> None:
    async with make_app() as app:
        await import_example(app, "groups")
        _, staff = await user_with_token(app, Role.STAFF)
        _, student = await user_with_token(app)
        client = app.test_client()
        before = await (await client.get(PATH, headers=student)).get_json()
        put = await client.put(PATH, json=EXAM, headers=staff)
        after = await client.get(PATH, headers=student)
        page_client = app.test_client()
        await signed_in(page_client)
        page = await (await page_client.get("/problems/groups")).get_data(as_text=True)

    assert before["groups"] == {}
    levels = {name: rule["level"] for name, rule in before["effective"].items()}
    assert levels == {"sample": "full", "secret": "verdict"}
    assert before["description"] == "Sample tests: full feedback. Hidden tests: verdict only."
    assert put.status_code == 200
    body = await after.get_json()
    assert body == await put.get_json()
    assert body["groups"]["secret"]["full_after"] == "2026-12-04T22:59:00Z"
    assert body["effective"]["secret/3-edge"]["verdict_after"] == 3
    sentence = (
        "Sample tests: full feedback. Hidden tests: verdict only, full after 2026-12-04 22:59 "
        "UTC. Hidden tests in 3-edge: only counted as passed or not, verdicts after 3 "
        "submissions."
    )
    assert body["description"] == sentence and sentence in page


async def test_an_empty_policy_goes_back_to_the_defaults(make_app: AppFactory) -> None:
    async with make_app() as app:
        await import_example(app, "groups")
        _, staff = await user_with_token(app, Role.STAFF)
        client = app.test_client()
        await client.put(PATH, json=EXAM, headers=staff)
        reset = await client.put(PATH, json={"groups": {}}, headers=staff)
        problem = await load_problem(app, "groups")
    assert reset.status_code == 200 and (await reset.get_json())["groups"] == {}
    assert problem is not None and problem.feedback_policy is None


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"groups": {"secret": {"level": "most"}}}, "level must be one of full, verdict"),
        ({"groups": {"tests": {"level": "full"}}}, "name it sample, secret or secret/"),
        ({"groups": {"secret": {"level": "full", "full_after": "friday"}}}, "ISO 8601"),
        (["secret"], 'as a JSON object {"groups"'),
        ("not json", 'as a JSON object {"groups"'),
    ],
)
async def test_a_bad_policy_is_refused_and_nothing_changes(
    make_app: AppFactory, body: Any, words: str
) -> None:
    async with make_app() as app:
        await import_example(app, "groups")
        _, staff = await user_with_token(app, Role.STAFF)
        client = app.test_client()
        await client.put(PATH, json=EXAM, headers=staff)
        if isinstance(body, str):
            sent = await client.put(
                PATH, data=body, headers={**staff, "Content-Type": "application/json"}
            )
        else:
            sent = await client.put(PATH, json=body, headers=staff)
        kept = await (await client.get(PATH, headers=staff)).get_json()
    assert sent.status_code == 422
    error = await sent.get_json()
    assert error["error"] == "invalid_policy" and words in error["message"]
    assert kept["effective"]["secret/3-edge"]["level"] == "summary"


async def test_unknown_and_hidden_problems_are_404(make_app: AppFactory) -> None:
    async with make_app() as app:
        await import_example(app, "hello", hidden=True)
        _, staff = await user_with_token(app, Role.STAFF)
        _, student = await user_with_token(app)
        client = app.test_client()
        missing = await client.put(
            "/api/v1/problems/nope/feedback", json={"groups": {}}, headers=staff
        )
        hidden = await client.get("/api/v1/problems/hello/feedback", headers=student)
    assert missing.status_code == 404 and (await missing.get_json())["error"] == "not_found"
    assert hidden.status_code == 404


async def test_a_reimport_keeps_the_policy(make_app: AppFactory) -> None:
    async with make_app() as app:
        await import_example(app, "groups")
        _, staff = await user_with_token(app, Role.STAFF)
        client = app.test_client()
        await client.put(PATH, json=EXAM, headers=staff)
        await import_example(app, "groups")
        kept = await (await client.get(PATH, headers=staff)).get_json()
    assert kept["groups"]["secret/3-edge"]["level"] == "summary"
