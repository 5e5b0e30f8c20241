"""Following one submission live: the feed both transports (WebSocket and SSE) loop over.

:func:`follow` yields what a viewer is sent, as three small types: a :class:`Snapshot` (the
whole visible state) first, then each :class:`Change` (one judging event), and a
:class:`Quiet` when a re-read found nothing new (the event stream turns it into a
keep-alive). It ends once the submission is done, gone, or the app shuts down.

The broker only carries this process's judgings, so with no event for ``RECHECK_SECONDS``
the state is read again from the database: another process may be judging.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any

from quart import Quart

from service.db import get_db
from service.events import get_broker
from service.models import Status
from service.submissions.state import redact_event, visible_state

#: Seconds without an event before the state is read again from the database.
RECHECK_SECONDS = 5.0


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
    """Yield a snapshot of the submission, then each change, until it is done."""
    # Subscribe before reading the snapshot: an event published in between is not lost.
    async with get_broker(app).subscribe(submission_id) as subscription:
        snapshot = await _read(app, submission_id, staff=staff)
        yield Snapshot(snapshot)
        events = aiter(subscription)
        while snapshot is not None and snapshot.get("status") != Status.DONE.value:
            try:
                event = await asyncio.wait_for(anext(events), RECHECK_SECONDS)
            except StopAsyncIteration:  # the app is shutting down
                return
            except TimeoutError:
                latest = await _read(app, submission_id, staff=staff)
                if latest == snapshot:
                    yield Quiet()
                else:
                    snapshot = latest
                    yield Snapshot(snapshot)
                continue
            yield Change(redact_event(event, staff=staff))
            if event.get("type") == "done":
                return
            if subscription.lagged:  # events were dropped: send the whole state again
                subscription.lagged = False
                snapshot = await _read(app, submission_id, staff=staff)
                yield Snapshot(snapshot)


async def _read(app: Quart, submission_id: int, *, staff: bool) -> dict[str, Any] | None:
    async with get_db(app).session() as db:
        return await visible_state(db, submission_id, staff=staff)
