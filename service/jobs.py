"""Dispatch judgings to the evaluator: an in-process asyncio pool (QUEUE=local).

Views and services only call :func:`dispatch` (or ``get_dispatcher(app).dispatch``) with a
judging id after committing it as ``queued``; the :class:`Dispatcher` decides where it runs.
The local dispatcher runs at most ``max(1, EVALUATOR_CONCURRENCY // 2)`` judgings at once in
this process, all sharing one sandbox of ``EVALUATOR_CONCURRENCY`` slots (so at most that many
programs run at once), opened on first use. A distributed queue replaces it without touching
the views.

Waiting judgings are handed out fairly between the people who sent them (:class:`FairQueue`):
the next one goes to whoever has the fewest judgings running here, then the fewest waiting,
then the longest wait; nobody has more than ``MAX_JUDGINGS_PER_USER`` running at once, even
with judges idle, so one person's slow submissions always leave judges for the others.

Tests may swap the sandbox before anything is judged::

    get_dispatcher(app).sandbox = FakeSandbox(...)   # e.g. in make_app(setup=...)

When the app starts serving, the dispatcher starts its workers and runs crash recovery
(:func:`service.judgings.recover`): stale ``running`` judgings go back to ``queued`` and every
queued judging is dispatched, oldest first. When it stops, running judgings are cancelled and
go back to ``queued``, so they run again after the restart.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import time
from collections import Counter
from collections.abc import AsyncGenerator, Callable, Coroutine, Mapping
from typing import Any, Protocol

from quart import Quart, current_app

from service.config import Settings, get_settings
from service.db import Database, get_db
from service.evaluator import RunResult, RunSpec, Sandbox, create_sandbox, offered_languages
from service.events import EventBroker, get_broker
from service.judgings import new_worker_id, owners, recover, release
from service.worker import JudgeOutcome, judge

logger = logging.getLogger(__name__)

EXTENSION_KEY = "verdict.jobs"
#: Seconds between sweeps for stale running judgings and queued ones nobody dispatched.
SWEEP_SECONDS = 30.0

#: Called with (verdict, seconds from claim to verdict) after each finished judging.
FinishedHook = Callable[[str, float], None]


class Dispatcher(Protocol):
    """Runs judgings somewhere; ``dispatch`` returns at once."""

    async def dispatch(self, judging_id: int) -> None:
        """Queue judging ``judging_id`` (committed as ``queued``) for evaluation."""
        ...

    async def start(self) -> None:
        """Start working (and pick up what a crash left behind)."""
        ...

    async def stop(self) -> None:
        """Stop working; unfinished judgings stay or go back to ``queued``."""
        ...

    def stats(self) -> dict[str, int]:
        """Return ``{"queued": n, "running": n, "sandboxes_busy": n}`` (see LocalDispatcher)."""
        ...


#: A stop slower than this is logged (cancelled judgings should stop at once).
SLOW_STOP_SECONDS = 2.0


class RunCounter:
    """How many sandbox runs are in progress."""

    def __init__(self) -> None:
        self.busy = 0


class CountingSandbox:
    """Passes runs on to a sandbox and counts those in progress (waiting for a slot included)."""

    def __init__(self, inner: Sandbox, counter: RunCounter) -> None:
        self.inner = inner
        self.counter = counter
        self.name = inner.name
        self.slots = inner.slots
        self.safe = inner.safe

    async def run(self, spec: RunSpec) -> RunResult:
        """Run ``spec`` in the wrapped sandbox, counting it while it is in progress."""
        self.counter.busy += 1
        try:
            return await self.inner.run(spec)
        finally:
            self.counter.busy -= 1

    async def check(self) -> str | None:
        """Check the wrapped sandbox."""
        return await self.inner.check()


async def warm_languages() -> None:
    """Probe the installed toolchains once, off the event loop (the first submit needs them)."""
    try:
        await asyncio.to_thread(offered_languages)
    except Exception:  # the first submission probes again and reports the failure
        logger.exception("probing the installed languages failed")


class FairQueue:
    """Judgings waiting to run here, handed out fairly between the people who sent them.

    A judging arrives without its owner (:meth:`add`); the dispatcher looks the owners up in
    one query (:meth:`unplaced`, :meth:`place`). :meth:`take` hands out the next judging: among
    people with fewer than ``per_user`` judgings running, the one with the fewest running,
    then the fewest waiting, then the one whose judging has waited longest. An owner that
    could not be looked up (None) shares one line, without the cap.
    """

    def __init__(self, per_user: int) -> None:
        self.per_user = per_user
        self._arrivals = itertools.count()
        self._unplaced: dict[int, int] = {}  # judging id -> arrival, owner not known yet
        self._waiting: dict[int | None, list[tuple[int, int]]] = {}  # owner -> heap (arrival, id)
        self._owner: dict[int, int | None] = {}  # judging id -> owner, placed or running
        self._running: set[int] = set()
        self._running_by: Counter[int | None] = Counter()

    def __contains__(self, judging_id: object) -> bool:
        return judging_id in self._unplaced or judging_id in self._owner

    @property
    def waiting(self) -> int:
        """Return how many judgings wait (owners looked up or not)."""
        return len(self._unplaced) + sum(len(line) for line in self._waiting.values())

    @property
    def running(self) -> int:
        """Return how many judgings handed out by :meth:`take` have not been marked done."""
        return len(self._running)

    def add(self, judging_id: int) -> None:
        """Queue a judging whose owner is still to be looked up (no-op if already here)."""
        if judging_id not in self:
            self._unplaced[judging_id] = next(self._arrivals)

    def unplaced(self) -> list[int]:
        """Return the judgings whose owner is still to be looked up, in arrival order."""
        return list(self._unplaced)

    def place(self, found: Mapping[int, int | None]) -> None:
        """Give the waiting judgings in ``found`` their owners (None: could not be looked up)."""
        for judging_id in [judging_id for judging_id in self._unplaced if judging_id in found]:
            arrival = self._unplaced.pop(judging_id)
            owner = found[judging_id]
            self._owner[judging_id] = owner
            heapq.heappush(self._waiting.setdefault(owner, []), (arrival, judging_id))

    def take(self) -> int | None:
        """Hand out the next judging (marked running), or None when nobody may go now."""
        ready = [
            owner
            for owner, line in self._waiting.items()
            if line and (owner is None or self._running_by[owner] < self.per_user)
        ]
        if not ready:
            return None
        owner = min(
            ready,
            key=lambda who: (self._running_by[who], len(self._waiting[who]), self._waiting[who][0]),
        )
        line = self._waiting[owner]
        _, judging_id = heapq.heappop(line)
        if not line:
            del self._waiting[owner]
        self._running.add(judging_id)
        self._running_by[owner] += 1
        return judging_id

    def done(self, judging_id: int) -> None:
        """Mark a judging handed out by :meth:`take` as no longer running here."""
        if judging_id in self._running:
            self._running.discard(judging_id)
            owner = self._owner.pop(judging_id)
            self._running_by[owner] -= 1
            if not self._running_by[owner]:
                del self._running_by[owner]

    def clear_waiting(self) -> None:
        """Forget every waiting judging (the running ones stay until marked done)."""
        for line in self._waiting.values():
            for _, judging_id in line:
                del self._owner[judging_id]
        self._waiting.clear()
        self._unplaced.clear()


class LocalDispatcher:
    """An asyncio pool in this process, judging on one shared sandbox."""

    def __init__(self, settings: Settings, database: Database, broker: EventBroker) -> None:
        self.settings = settings
        self.database = database
        self.broker = broker
        #: The sandbox judgings run in; None until first needed. Tests may assign a fake.
        self.sandbox: Sandbox | None = None
        self.worker_id = new_worker_id()
        self.max_running = max(1, settings.evaluator_concurrency // 2)
        #: Called with (verdict, seconds) after each finished judging (metrics append here).
        self.on_finished: list[FinishedHook] = []
        #: Seconds to wait before retrying after an infrastructure failure, times the attempt.
        self.retry_delay = 1.0
        self.sweep_seconds = SWEEP_SECONDS
        self.started = False
        self._queue = FairQueue(settings.max_judgings_per_user)
        self._changed = asyncio.Event()  # a judging arrived or one finished: look again
        self._placing = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()
        self._retries: set[asyncio.TimerHandle] = set()
        self._own_sandbox = False
        self._sandbox_lock = asyncio.Lock()
        self._runs = RunCounter()
        self._counted: CountingSandbox | None = None

    async def dispatch(self, judging_id: int) -> None:
        """Queue judging ``judging_id``; a second dispatch of a queued or running one is a no-op."""
        self.enqueue(judging_id)

    def enqueue(self, judging_id: int) -> None:
        """Queue ``judging_id`` without waiting (it runs when a judge is free, in its turn)."""
        if judging_id in self._queue:
            return
        self._queue.add(judging_id)
        self._changed.set()

    def stats(self) -> dict[str, int]:
        """Return how many judgings are queued and running, and sandbox runs in progress.

        ``{"queued": n, "running": n, "sandboxes_busy": n}``: judgings waiting to be retried
        after an infrastructure failure count as queued; ``sandboxes_busy`` counts this
        dispatcher's compiles and test runs in progress (waiting for a slot included).
        """
        return {
            "queued": self._queue.waiting + len(self._retries),
            "running": self._queue.running,
            "sandboxes_busy": self._runs.busy,
        }

    async def start(self) -> None:
        """Start the workers, then requeue what a crash left and dispatch every queued judging."""
        if self.started:
            return
        self.started = True
        await warm_languages()
        for number in range(self.max_running):
            self._spawn(self._work(), f"verdict-judge-{number}")
        try:
            await self.sweep()
        except Exception:  # the app still starts (readyz reports it); the next sweep retries
            logger.exception("crash recovery failed; retrying in %s s", self.sweep_seconds)
        self._spawn(self._sweep_forever(), "verdict-sweep")

    async def stop(self) -> None:
        """Cancel the workers (their judgings go back to ``queued``) and close the sandbox."""
        began = time.monotonic()
        try:
            await self._stop()
        finally:
            took = time.monotonic() - began
            if took > SLOW_STOP_SECONDS:
                logger.warning("stopping the dispatcher took %.1f s", took)

    async def _stop(self) -> None:
        for handle in self._retries:
            handle.cancel()
        self._retries.clear()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
        if self.started:
            try:  # a worker cancelled in the middle of its claim left its judging running
                await release(self.database, self.worker_id)
            except Exception:
                logger.exception("could not release this worker's judgings")
        self._queue.clear_waiting()
        self.started = False
        if self._own_sandbox and self.sandbox is not None:
            sandbox, self.sandbox, self._own_sandbox = self.sandbox, None, False
            aclose = getattr(sandbox, "aclose", None)
            if aclose is not None:
                await aclose()

    async def sweep(self) -> None:
        """Take back judgings of dead workers and dispatch every queued judging, oldest first."""
        for judging_id in await recover(self.database):
            self.enqueue(judging_id)

    async def open_sandbox(self) -> Sandbox:
        """Return the shared sandbox, opening it on first use (off the event loop).

        It comes wrapped in a :class:`CountingSandbox`, which ``stats()`` reads.
        """
        async with self._sandbox_lock:
            if self.sandbox is None:
                self.sandbox = await asyncio.to_thread(
                    create_sandbox, self.settings.sandbox, self.settings.evaluator_concurrency
                )
                self._own_sandbox = True
            if self._counted is None or self._counted.inner is not self.sandbox:
                self._counted = CountingSandbox(self.sandbox, self._runs)
            return self._counted

    def _spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(self.sweep_seconds)
            try:
                await self.sweep()
            except Exception:
                logger.exception("the sweep for lost judgings failed")

    async def _work(self) -> None:
        while True:
            judging_id = await self._next_judging()
            try:
                outcome = await judge(
                    self.database,
                    self.settings,
                    self.broker,
                    self.open_sandbox,
                    judging_id,
                    self.worker_id,
                )
            except Exception:
                logger.exception("judging %s crashed its worker", judging_id)
                continue
            finally:
                self._queue.done(judging_id)
                self._changed.set()  # its owner may be below the cap again
            self._after(outcome)

    async def _next_judging(self) -> int:
        """Wait until a judging may run here (its turn, its owner below the cap); return it."""
        while True:
            if self._queue.unplaced():
                await self._place()
            judging_id = self._queue.take()
            if judging_id is not None:
                return judging_id
            if self._queue.unplaced():  # arrived while the owners were looked up
                continue
            # No await since take(): a judging arriving from here on sets the event again.
            self._changed.clear()
            await self._changed.wait()

    async def _place(self) -> None:
        """Look up the owners of the judgings that arrived (one query for all of them)."""
        async with self._placing:
            waiting = self._queue.unplaced()
            if not waiting:
                return
            found: dict[int, int | None] = {}
            try:
                found.update(await owners(self.database, waiting))
            except Exception:  # judge them anyway, in one line: the claim still guards each
                logger.exception("could not look up who sent judgings %s", waiting)
            self._queue.place({judging_id: found.get(judging_id) for judging_id in waiting})

    def _after(self, outcome: JudgeOutcome) -> None:
        if outcome.requeued:
            delay = self.retry_delay * outcome.attempts
            loop = asyncio.get_running_loop()
            handle: asyncio.TimerHandle | None = None

            def retry() -> None:
                if handle is not None:
                    self._retries.discard(handle)
                self.enqueue(outcome.judging_id)

            handle = loop.call_later(delay, retry)
            self._retries.add(handle)
        elif outcome.verdict is not None:
            for hook in list(self.on_finished):
                try:
                    hook(outcome.verdict, outcome.seconds)
                except Exception:
                    logger.exception("an on_finished hook failed")


def init_app(app: Quart) -> LocalDispatcher:
    """Attach the dispatcher to ``app``: started once the database is, stopped before it is."""
    settings = get_settings(app)
    if settings.queue != "local":
        logger.warning("QUEUE=%s is not available yet; judging in this process", settings.queue)
    broker = get_broker(app)
    dispatcher = LocalDispatcher(settings, get_db(app), broker)
    app.extensions[EXTENSION_KEY] = dispatcher

    # while_serving starts after every before_serving (the database's) and ends before every
    # after_serving (which disposes of the database), so requeueing on stop can still write.
    @app.while_serving
    async def _run_dispatcher() -> AsyncGenerator[None]:
        if settings.start_evaluator:
            await dispatcher.start()
        else:  # this process still validates submissions against the offered languages
            await warm_languages()
        try:
            yield
        finally:
            await dispatcher.stop()
            broker.close()

    return dispatcher


def get_dispatcher(app: Quart | None = None) -> LocalDispatcher:
    """Return the dispatcher of ``app`` (default: the current app)."""
    dispatcher: LocalDispatcher = (app or current_app).extensions[EXTENSION_KEY]
    return dispatcher


async def dispatch(app: Quart, judging_id: int) -> None:
    """Queue judging ``judging_id`` (already committed as ``queued``) on ``app``'s dispatcher."""
    await get_dispatcher(app).dispatch(judging_id)
