"""Following one submission live: the feed both transports (WebSocket and SSE) loop over.

:func:`follow` yields what a viewer is sent, as three small types: a :class:`Snapshot` (the
whole visible state) first, then each :class:`Change` (one judging event), and a
:class:`Quiet` when a re-read found nothing new (the event stream turns it into a
keep-alive). It ends once the submission is done, gone, or the app shuts down.

The broker only carries this process's judgings, so with no event for ``RECHECK_SECONDS``
the state is read again from the database: another process may be judging.

Each open feed costs memory and a subscription, so one person may hold at most
:data:`MAX_LIVE_PER_USER` of them (WebSockets and event streams together) in one process:
the views reserve a :class:`LiveSlot` from the app's :class:`LiveConnections` before they
accept, and :class:`TooManyLiveConnections` (429) refuses the next.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any

from quart import Quart
from werkzeug.exceptions import TooManyRequests

from service.db import get_db
from service.events import get_broker
from service.feedback.disclosure import Disclosure, done_event
from service.models import Status
from service.submissions.state import viewed_state

#: Seconds without an event before the state is read again from the database.
RECHECK_SECONDS = 5.0
#: Live feeds (WebSockets and event streams together) one person may hold open per process.
MAX_LIVE_PER_USER = 20
EXTENSION_KEY = "verdict.live_connections"


class TooManyLiveConnections(TooManyRequests):
    """Someone already holds :data:`MAX_LIVE_PER_USER` live feeds in this process."""

    error_code = "too_many_live_connections"

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"You already follow {limit} submissions live (each open page or event stream "
            "counts); close some of them, then try again."
        )
        self.limit = limit


class LiveSlot:
    """One open live feed of one person; release it when the feed ends (idempotent)."""

    def __init__(self, registry: LiveConnections, user_id: int) -> None:
        self._registry = registry
        self.user_id = user_id
        self._released = False

    def release(self) -> None:
        """Give the slot back (a second call does nothing)."""
        if not self._released:
            self._released = True
            self._registry.forget(self)

    def __enter__(self) -> LiveSlot:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()


class LiveConnections:
    """The live feeds open in this process, per person, capped at ``limit`` each."""

    def __init__(self, limit: int = MAX_LIVE_PER_USER) -> None:
        self.limit = limit
        self._open: dict[int, set[LiveSlot]] = {}

    def reserve(self, user_id: int) -> LiveSlot:
        """Return a slot for one more feed of ``user_id``; raise TooManyLiveConnections."""
        held = self._open.setdefault(user_id, set())
        if len(held) >= self.limit:
            raise TooManyLiveConnections(self.limit)
        slot = LiveSlot(self, user_id)
        held.add(slot)
        return slot

    def forget(self, slot: LiveSlot) -> None:
        """Drop a released slot (called by :meth:`LiveSlot.release`)."""
        held = self._open.get(slot.user_id)
        if held is not None:
            held.discard(slot)
            if not held:
                del self._open[slot.user_id]

    def open_count(self, user_id: int) -> int:
        """Return how many live feeds ``user_id`` holds open."""
        return len(self._open.get(user_id, ()))


def init_app(app: Quart) -> LiveConnections:
    """Attach the app's registry of open live feeds."""
    connections = LiveConnections()
    app.extensions[EXTENSION_KEY] = connections
    return connections


def get_live_connections(app: Quart) -> LiveConnections:
    """Return the registry attached by :func:`init_app`."""
    connections: LiveConnections = app.extensions[EXTENSION_KEY]
    return connections


@dataclass(frozen=True)
class Snapshot:
    """The submission's whole state as the viewer may see it; None once it is gone."""

    state: dict[str, Any] | None


@dataclass(frozen=True)
class Change:
    """One judging event (``status``, ``compile``, ``test`` or ``done``), redacted."""

    event: dict[str, Any]

    @property
    def kind(self) -> str:
        """Return the event's type (the SSE event name)."""
        return str(self.event.get("type", "message"))


@dataclass(frozen=True)
class Quiet:
    """A re-read found the state unchanged."""


LiveItem = Snapshot | Change | Quiet


async def follow(app: Quart, submission_id: int, *, staff: bool) -> AsyncGenerator[LiveItem]:
    """Yield a snapshot of the submission, then each change, until it is done.

    Every state and event passes the viewer's :class:`Disclosure` (renewed with each read of
    the state, so a switch in time takes effect); an event it withholds is not sent, and a
    student's ``done`` carries the figures of their own view of the state.
    """
    # Subscribe before reading the snapshot: an event published in between is not lost.
    async with get_broker(app).subscribe(submission_id) as subscription:
        snapshot, disclosure = await _read(app, submission_id, staff=staff)
        yield Snapshot(snapshot)
        events = aiter(subscription)
        while snapshot is not None and snapshot.get("status") != Status.DONE.value:
            try:
                event = await asyncio.wait_for(anext(events), RECHECK_SECONDS)
            except StopAsyncIteration:  # the app is shutting down
                return
            except TimeoutError:
                latest, disclosure = await _read(app, submission_id, staff=staff)
                if latest == snapshot:
                    yield Quiet()
                else:
                    snapshot = latest
                    yield Snapshot(snapshot)
                continue
            shown = disclosure.event(event) if disclosure is not None else None
            if event.get("type") == "done":
                if shown is None:  # the viewer's figures come from their own state
                    state, _ = await _read(app, submission_id, staff=staff)
                    if state is not None:
                        yield Change(done_event(event, state))
                else:
                    yield Change(shown)
                return
            if shown is not None:
                yield Change(shown)
            if subscription.lagged:  # events were dropped: send the whole state again
                subscription.lagged = False
                snapshot, disclosure = await _read(app, submission_id, staff=staff)
                yield Snapshot(snapshot)


async def _read(
    app: Quart, submission_id: int, *, staff: bool
) -> tuple[dict[str, Any] | None, Disclosure | None]:
    async with get_db(app).session() as db:
        viewed = await viewed_state(db, submission_id, staff=staff)
    return (None, None) if viewed is None else viewed
