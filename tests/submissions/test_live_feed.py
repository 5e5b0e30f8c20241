"""follow(): the live feed both transports share, driven through the broker and the database."""

from __future__ import annotations

import asyncio
from contextlib import aclosing
from typing import Any

import pytest
from quart import Quart

from service.events import get_broker
from service.submissions import live
from service.submissions.live import Change, LiveItem, Quiet, Snapshot, follow
from tests.factories import create_user, import_example, store_submission

STEP_SECONDS = 5.0


async def queued_submission(app: Quart) -> int:
    """Store a queued submission of the hello problem that nothing judges; return its id."""
    problem = await import_example(app, "hello")
    user = await create_user(app)
    return await store_submission(
        app, user, problem, files=(("main.py", "print(0)"),), verdict=None
    )


async def next_item(feed: Any) -> LiveItem:
    """Return the feed's next item, failing the test when it takes too long."""
    item: LiveItem = await asyncio.wait_for(anext(feed), STEP_SECONDS)
    return item


async def test_follow_sends_a_snapshot_then_changes_until_done(app: Quart) -> None:
    number = await queued_submission(app)
    async with aclosing(follow(app, number, staff=False)) as feed:
        first = await next_item(feed)
        assert isinstance(first, Snapshot) and first.state is not None
        assert first.state["status"] == "queued"
        get_broker(app).publish(number, {"type": "status", "status": "running"})
        get_broker(app).publish(number, {"type": "done", "verdict": "AC"})
        assert await next_item(feed) == Change({"type": "status", "status": "running"})
        done = await next_item(feed)
        assert isinstance(done, Change) and done.kind == "done"
        with pytest.raises(StopAsyncIteration):
            await next_item(feed)


async def test_follow_redacts_secret_tests_for_students(app: Quart) -> None:
    number = await queued_submission(app)
    test = {"name": "secret/1", "message": "expected 42", "time_ms": 42, "memory_kb": 4200}
    async with aclosing(follow(app, number, staff=False)) as feed:
        await next_item(feed)
        get_broker(app).publish(number, {"type": "test", "test": test})
        change = await next_item(feed)
    # Secret tests are at the verdict level by default: no checker message.
    verdict_only = {"name": "secret/1", "message": "", "time_ms": 42, "memory_kb": 4200}
    assert change == Change({"type": "test", "test": verdict_only})


async def test_a_lagging_follower_gets_the_whole_state_again(app: Quart) -> None:
    number = await queued_submission(app)
    get_broker(app).queue_size = 1
    async with aclosing(follow(app, number, staff=True)) as feed:
        await next_item(feed)
        for status in ("running", "running", "running"):
            get_broker(app).publish(number, {"type": "status", "status": status})
        assert isinstance(await next_item(feed), Change)  # the newest event is kept
        again = await next_item(feed)
    assert isinstance(again, Snapshot) and again.state is not None
    assert again.state["id"] == number


async def test_an_idle_follower_rereads_and_reports_quiet(
    app: Quart, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live, "RECHECK_SECONDS", 0.05)
    number = await queued_submission(app)
    async with aclosing(follow(app, number, staff=False)) as feed:
        await next_item(feed)
        assert await next_item(feed) == Quiet()


async def test_following_a_missing_submission_is_one_empty_snapshot(app: Quart) -> None:
    async with aclosing(follow(app, 999_999, staff=False)) as feed:
        assert await next_item(feed) == Snapshot(None)
        with pytest.raises(StopAsyncIteration):
            await next_item(feed)
    assert get_broker(app).subscriber_count() == 0
