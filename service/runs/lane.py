"""The run lane: the sandbox "run on my input" uses, its admission rules and its share.

Runs are judged in the web process, for latency, on a sandbox of their own that has one slot
more than judging's (``EVALUATOR_CONCURRENCY + RUN_LANES``). Slots are machine-wide locks, so
while judging holds all of its slots, a run takes the extra one at once (the priority lane);
when judging leaves a slot free, a run may take that one instead. At most
:data:`RUN_LANES` runs execute at once per web process, so runs never hold more than that
many sandboxes: with 2 judging slots and 1 lane, runs use at most a third of the sandbox
capacity, and judging always keeps its own slots but for the moment of one short run.

Admission, per person: one run at a time (another is refused, 429 ``run_in_progress``) and
at most ``RUN_RATE_LIMIT`` runs per window (default 30 per 60 s; 429 ``rate_limited`` with
``retry_after``), counted in this process. Nothing of a run is stored.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from quart import Quart

from service.config import Settings, get_settings
from service.evaluator import Sandbox, create_sandbox
from service.submissions.validation import SubmissionRefused

#: The largest input a run accepts, and bytes of its stdout and of its stderr sent back.
MAX_INPUT_BYTES = 64 * 1024
SHOWN_OUTPUT_BYTES = 64 * 1024
#: Runs at once per web process (each holds one sandbox).
RUN_LANES = 1
EXTENSION_KEY = "verdict.run_lane"


class RunLane:
    """The runs' sandbox, the lanes they queue for, and who is running what now."""

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        #: The sandbox runs use; None until the first run. Tests may assign a fake.
        self.sandbox: Sandbox | None = None
        self._own_sandbox = False
        self._opening = asyncio.Lock()
        self._lanes = asyncio.Semaphore(RUN_LANES)
        self._running: set[int] = set()
        self._started: dict[int, deque[float]] = {}
        self._clock = clock

    async def open_sandbox(self) -> Sandbox:
        """Return the runs' sandbox, opening it on first use (off the event loop)."""
        async with self._opening:
            if self.sandbox is None:
                slots = self.settings.evaluator_concurrency + RUN_LANES
                self.sandbox = await asyncio.to_thread(create_sandbox, self.settings.sandbox, slots)
                self._own_sandbox = True
            return self.sandbox

    async def aclose(self) -> None:
        """Close the sandbox this lane opened."""
        if self._own_sandbox and self.sandbox is not None:
            sandbox, self.sandbox, self._own_sandbox = self.sandbox, None, False
            aclose = getattr(sandbox, "aclose", None)
            if aclose is not None:
                await aclose()

    def _admit(self, user_id: int) -> None:
        if user_id in self._running:
            raise SubmissionRefused(
                429,
                "run_in_progress",
                "your previous run has not finished; wait for its result, then run again",
                retry_after=1,
            )
        limit = self.settings.run_rate_limit
        now = self._clock()
        started = self._started.setdefault(user_id, deque())
        while started and started[0] <= now - limit.seconds:
            started.popleft()
        if len(started) >= limit.count:
            wait = max(1, math.ceil(started[0] + limit.seconds - now))
            raise SubmissionRefused(
                429,
                "rate_limited",
                f"at most {limit.count} runs per {limit.seconds} s; try again in {wait} s",
                retry_after=wait,
            )
        started.append(now)

    @asynccontextmanager
    async def admitted(self, user_id: int) -> AsyncIterator[None]:
        """Hold ``user_id``'s one run; refuse (429) a second one or one past the rate limit."""
        self._admit(user_id)
        self._running.add(user_id)
        try:
            yield
        finally:
            self._running.discard(user_id)
            if not self._started.get(user_id):
                self._started.pop(user_id, None)

    @asynccontextmanager
    async def lane(self) -> AsyncIterator[Sandbox]:
        """Wait for one of the :data:`RUN_LANES` lanes; yield the sandbox to run in."""
        async with self._lanes:
            yield await self.open_sandbox()


def init_app(app: Quart) -> RunLane:
    """Attach the run lane to ``app``; its sandbox closes when the app stops serving."""
    lane = RunLane(get_settings(app))
    app.extensions[EXTENSION_KEY] = lane

    @app.after_serving
    async def _close() -> None:
        await lane.aclose()

    return lane


def get_run_lane(app: Quart) -> RunLane:
    """Return the run lane attached by :func:`init_app`."""
    lane: RunLane = app.extensions[EXTENSION_KEY]
    return lane
