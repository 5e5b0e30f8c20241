"""Live events of submissions: an in-process publish/subscribe broker kept on the app.

The judging worker publishes ``{"type": "status" | "compile" | "test" | "done", ...}`` dicts
for a submission; pages and the API subscribe to one submission and forward them. Publishing
never blocks: each subscriber has a bounded queue, and when a slow subscriber's queue is full
its oldest event is dropped and the subscription is marked ``lagged`` (the newest events, and
so the final ``done``, always arrive; a lagged subscriber should re-read the state from the
database). Subscribe *before* reading the state, so no event falls between the two.

The interface is :class:`Broker` (``publish`` + ``subscribe``); a broker backed by PostgreSQL
LISTEN/NOTIFY can replace :class:`EventBroker` for several processes without touching views.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol

from quart import Quart, current_app

EXTENSION_KEY = "verdict.events"
#: Events kept per subscriber before the oldest are dropped.
DEFAULT_QUEUE_SIZE = 256

Event = dict[str, Any]


class Subscription:
    """The events of one submission for one subscriber, in publishing order."""

    def __init__(self, submission_id: int, max_events: int) -> None:
        self.submission_id = submission_id
        self.lagged = False  # True once an event was dropped because this reader was slow
        self.closed = False
        self._events: deque[Event] = deque(maxlen=max_events)
        self._ready = asyncio.Event()

    def put(self, event: Event) -> None:
        """Queue ``event`` without blocking, dropping the oldest one when full."""
        if self._events.maxlen is not None and len(self._events) == self._events.maxlen:
            self.lagged = True
        self._events.append(event)
        self._ready.set()

    def close(self) -> None:
        """End the iteration once the queued events are read."""
        self.closed = True
        self._ready.set()

    def __aiter__(self) -> AsyncIterator[Event]:
        return self

    async def __anext__(self) -> Event:
        """Return the next event, waiting for one; stop when the broker closed."""
        while not self._events:
            if self.closed:
                raise StopAsyncIteration
            self._ready.clear()
            await self._ready.wait()
        return self._events.popleft()


class Broker(Protocol):
    """Publishes submission events and hands out subscriptions."""

    def publish(self, submission_id: int, event: Event) -> None:
        """Send ``event`` to every current subscriber of ``submission_id``; never block."""
        ...

    def subscribe(self, submission_id: int) -> AbstractAsyncContextManager[Subscription]:
        """Return a context manager yielding the subscription's async iterator of events."""
        ...


class EventBroker:
    """The in-process broker: subscribers of one process see that process's events."""

    def __init__(self, queue_size: int = DEFAULT_QUEUE_SIZE) -> None:
        self.queue_size = queue_size
        self._subscribers: dict[int, set[Subscription]] = {}

    def publish(self, submission_id: int, event: Event) -> None:
        """Send ``event`` to every current subscriber of ``submission_id``; never block."""
        for subscription in list(self._subscribers.get(submission_id, ())):
            subscription.put(event)

    @asynccontextmanager
    async def subscribe(self, submission_id: int) -> AsyncIterator[Subscription]:
        """Yield a subscription to ``submission_id`` until the block ends."""
        subscription = Subscription(submission_id, self.queue_size)
        self._subscribers.setdefault(submission_id, set()).add(subscription)
        try:
            yield subscription
        finally:
            subscribers = self._subscribers.get(submission_id)
            if subscribers is not None:
                subscribers.discard(subscription)
                if not subscribers:
                    del self._subscribers[submission_id]

    def subscriber_count(self, submission_id: int | None = None) -> int:
        """Return how many subscriptions are open (for one submission, or in all)."""
        if submission_id is not None:
            return len(self._subscribers.get(submission_id, ()))
        return sum(len(subscribers) for subscribers in self._subscribers.values())

    def close(self) -> None:
        """End every open subscription (the app is shutting down)."""
        for subscribers in self._subscribers.values():
            for subscription in subscribers:
                subscription.close()


def init_app(app: Quart) -> EventBroker:
    """Attach the app's EventBroker (the factory calls this once, before the dispatcher)."""
    broker = EventBroker()
    app.extensions[EXTENSION_KEY] = broker
    return broker


def get_broker(app: Quart | None = None) -> EventBroker:
    """Return the broker of ``app`` (default: the current app)."""
    broker: EventBroker = (app or current_app).extensions[EXTENSION_KEY]
    return broker
