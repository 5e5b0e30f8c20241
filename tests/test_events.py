"""The event broker: ordered delivery, bounded queues that mark slow readers, clean endings."""

from __future__ import annotations

import asyncio

from quart import Quart

from service.events import EventBroker, get_broker
from tests.factories import AppFactory


async def test_subscribers_get_their_submissions_events_in_order() -> None:
    broker = EventBroker()
    async with (
        broker.subscribe(1) as first,
        broker.subscribe(1) as second,
        broker.subscribe(2) as other,
    ):
        for number in range(3):
            broker.publish(1, {"type": "test", "index": number})
        broker.publish(3, {"type": "test", "index": 99})  # nobody listens: dropped
        broker.publish(1, {"type": "done"})
        assert broker.subscriber_count(1) == 2 and broker.subscriber_count() == 3
        for subscription in (first, second):
            seen = [event async for event in _until_done(subscription)]
            assert seen == [
                {"type": "test", "index": 0},
                {"type": "test", "index": 1},
                {"type": "test", "index": 2},
                {"type": "done"},
            ]
            assert not subscription.lagged
        assert other.submission_id == 2 and broker.subscriber_count(2) == 1
    assert broker.subscriber_count() == 0


async def test_a_slow_subscriber_loses_the_oldest_events_but_gets_done() -> None:
    broker = EventBroker(queue_size=3)
    async with broker.subscribe(7) as subscription:
        for number in range(10):
            broker.publish(7, {"type": "test", "index": number})
        broker.publish(7, {"type": "done"})
        seen = [event async for event in _until_done(subscription)]
    assert subscription.lagged
    assert seen == [{"type": "test", "index": 8}, {"type": "test", "index": 9}, {"type": "done"}]


async def test_a_waiting_subscriber_wakes_on_publish_and_ends_on_close() -> None:
    broker = EventBroker()
    async with broker.subscribe(5) as subscription:
        reader = asyncio.create_task(anext(subscription))
        await asyncio.sleep(0)
        assert not reader.done()
        broker.publish(5, {"type": "status", "status": "running"})
        assert await asyncio.wait_for(reader, 5) == {"type": "status", "status": "running"}
        broker.publish(5, {"type": "test", "index": 0})
        broker.close()
        assert [event async for event in subscription] == [{"type": "test", "index": 0}]


async def test_the_app_has_one_broker_and_closes_it_when_stopping(make_app: AppFactory) -> None:
    async with make_app(start_evaluator=False) as app:
        broker = get_broker(app)
        assert get_broker(app) is broker
        async with app.app_context():
            assert get_broker() is broker
        context = broker.subscribe(1)
        subscription = await context.__aenter__()
    assert subscription.closed
    assert [event async for event in subscription] == []
    await context.__aexit__(None, None, None)
    assert isinstance(app, Quart)


async def _until_done(subscription: object) -> object:
    async for event in subscription:  # type: ignore[attr-defined]
        yield event
        if event["type"] == "done":
            return
