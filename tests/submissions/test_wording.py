"""The submission page in words: verdicts beside their code, the test that failed, the queue."""

from __future__ import annotations

from quart import Quart
from quart.testing import QuartClient

from service.models import Status
from tests.factories import create_user, import_example, signed_in, store_submission


async def page_of(client: QuartClient, number: int) -> str:
    response = await client.get(f"/submissions/{number}")
    assert response.status_code == 200
    return await response.get_data(as_text=True)


async def test_a_queued_submission_says_how_many_wait_before_it(
    app: Quart, client: QuartClient
) -> None:
    problem = await import_example(app, "hello")
    me = await signed_in(client)
    other = await create_user(app)
    await store_submission(app, other, problem, verdict=None)
    await store_submission(app, me, problem, verdict=None)
    await store_submission(app, other, problem)  # judged already: not in the queue
    mine = await store_submission(app, me, problem, verdict=None)

    page = await page_of(client, mine)
    state = await (await client.get(f"/submissions/{mine}/state")).get_json()

    assert "Waiting for a judge (2 ahead of you)" in page
    assert "running" not in page.lower().split("<main", 1)[1].split("</dl>", 1)[0]
    assert state["status"] == Status.QUEUED.value
    assert state["queue_ahead"] == 2


async def test_the_first_queued_submission_waits_with_nobody_ahead(
    app: Quart, client: QuartClient
) -> None:
    problem = await import_example(app, "hello")
    me = await signed_in(client)
    mine = await store_submission(app, me, problem, verdict=None)

    page = await page_of(client, mine)

    assert "Waiting for a judge</span>" in page
    assert "ahead of you" not in page


async def test_a_verdict_is_shown_in_words_with_its_code(app: Quart, client: QuartClient) -> None:
    problem = await import_example(app, "hello")
    me = await signed_in(client)
    judged = await store_submission(app, me, problem, verdict="TLE")

    page = await page_of(client, judged)
    listing = await (await client.get("/submissions")).get_data(as_text=True)

    for shown in (page, listing):
        assert '<span class="verdict-words">Time limit exceeded</span>' in shown
        assert '<span class="badge verdict-TLE" data-verdict-badge>TLE</span>' in shown


async def test_a_verdict_this_version_does_not_know_is_shown_as_stored(
    app: Quart, client: QuartClient
) -> None:
    problem = await import_example(app, "hello")
    me = await signed_in(client)
    judged = await store_submission(app, me, problem, verdict="PE")

    page = await page_of(client, judged)

    assert '<span class="verdict-words">PE</span>' in page


async def test_empty_lists_say_what_to_do_next(app: Quart, client: QuartClient) -> None:
    await import_example(app, "hello")
    await signed_in(client)

    mine = await (await client.get("/submissions")).get_data(as_text=True)
    filtered = await (await client.get("/submissions?verdict=WA")).get_data(as_text=True)
    problem = await (await client.get("/problems/hello")).get_data(as_text=True)

    assert 'No submissions yet: open a <a href="/problems">problem</a>' in mine
    assert 'match these filters: <a href="/submissions">clear them</a>' in filtered
    assert "Write your solution in the editor above" in problem
