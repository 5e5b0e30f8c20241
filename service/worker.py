"""Judge one judging: the only bridge between the database and the evaluator.

A worker *claims* a queued judging with one guarded UPDATE (``status='queued'`` →
``running``, its own worker id), so two workers never judge the same one. Every later write
(each test result, the heartbeat, the final verdict) is guarded by ``worker = me AND
status = 'running'``: a worker whose claim was taken away (crash recovery judged it dead)
stops, and a judging never completes twice.

Before each event is stored and published the worker checks, in the same transaction, that the
submission still shows this judging. A rejudge that replaced it *supersedes* it: the worker
stores it as done with no verdict (message ``superseded by judging N``), stops judging and
publishes nothing more, so subscribers only see the new judging.

An infrastructure failure (the package or sandbox is missing, a sandbox run failed, an
unexpected exception) is a judge error: the judging goes back to ``queued`` for another
attempt, up to :data:`MAX_ATTEMPTS`, and only then is it finished as JE with a message that
blames the judge, never the submission.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import secrets
import shutil
import socket
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import delete, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from service.config import Settings
from service.db import Database, runs_to_the_end
from service.evaluator import (
    CompileFinished,
    CompileStarted,
    Finished,
    Mode,
    Sandbox,
    TestFinished,
    Verdict,
    evaluate,
    get_language,
)
from service.events import Broker
from service.models import Judging, Status, Submission, TestResult
from service.models.base import utcnow
from service.problems.store import load_stored

logger = logging.getLogger(__name__)


#: A judging is tried this many times before an infrastructure failure becomes its verdict.
MAX_ATTEMPTS = 3
#: A running judging refreshes ``heartbeat_at`` at least this often (seconds).
HEARTBEAT_SECONDS = 10.0
#: A running judging whose heartbeat is older than this (seconds) belongs to a dead worker.
STALE_SECONDS = 60.0

#: The sandbox itself, or an async function returning it (opened on first use).
SandboxSource = Sandbox | Callable[[], Awaitable[Sandbox]]


class LostClaim(Exception):
    """Another worker (or crash recovery) took this judging over; stop writing to it."""


class Superseded(LostClaim):
    """A rejudge replaced this judging (stored as superseded): stop and publish nothing more."""


def superseded_message(judging_id: int | None) -> str:
    """Return the message of a judging replaced by judging ``judging_id``."""
    return "superseded" if judging_id is None else f"superseded by judging {judging_id}"


@dataclass(frozen=True)
class JudgeOutcome:
    """What :func:`judge` did with one judging."""

    judging_id: int
    claimed: bool  # False: it was not queued (another worker has it, or it is done)
    verdict: str | None = None  # set when this call finished the judging
    requeued: bool = False  # an infrastructure failure sent it back to the queue
    attempts: int = 0
    seconds: float = 0.0  # from the claim to the end


@dataclass(frozen=True)
class _Claimed:
    """What a worker needs to know about the judging it claimed."""

    judging_id: int
    submission_id: int
    package_hash: str
    language: str
    files: tuple[tuple[str, str], ...]
    attempts: int
    current: bool  # the submission shows this judging
    problem_slug: str = ""  # names the main file among several (hello.py for problem hello)
    time_limit: float | None = None  # the problem's limit (the one its pages show), seconds


def new_worker_id() -> str:
    """Return a worker id: ``<host>:<pid>:<random>`` (unique per dispatcher instance)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def _rowcount(result: Any) -> int:
    return cast(CursorResult[Any], result).rowcount


def _guard(judging_id: int, worker_id: str) -> tuple[Any, ...]:
    return (
        Judging.id == judging_id,
        Judging.worker == worker_id,
        Judging.status == Status.RUNNING,
    )


async def judge(
    database: Database,
    settings: Settings,
    broker: Broker,
    sandbox: SandboxSource,
    judging_id: int,
    worker_id: str,
) -> JudgeOutcome:
    """Claim judging ``judging_id`` if it is queued, judge it, store and publish everything."""
    started = time.monotonic()
    claimed = await claim(database, judging_id, worker_id)
    if claimed is None:
        return JudgeOutcome(judging_id, claimed=False)
    if not claimed.current:  # a rejudge replaced it while it waited: stored as superseded
        return JudgeOutcome(judging_id, claimed=True, attempts=claimed.attempts)
    job = _Job(database, settings, broker, claimed, worker_id)
    heartbeat = asyncio.create_task(job.beat())
    try:
        verdict = await job.run(sandbox)
    except asyncio.CancelledError:
        with contextlib.suppress(LostClaim):
            await asyncio.shield(job.requeue(count_attempt=False, reason="the server is stopping"))
        raise
    except Superseded:
        logger.info("judging %s was superseded by a rejudge; stopped", judging_id)
        return JudgeOutcome(judging_id, claimed=True, attempts=claimed.attempts)
    except LostClaim:
        logger.warning("judging %s was taken over by another worker", judging_id)
        return JudgeOutcome(judging_id, claimed=True, attempts=claimed.attempts)
    finally:
        heartbeat.cancel()
        # Wait for it without suppressing CancelledError: that would also swallow a cancel of
        # this task (the server stopping) arriving meanwhile, and the worker would never stop.
        await asyncio.wait([heartbeat])
    seconds = time.monotonic() - started
    if verdict is None:
        return JudgeOutcome(
            judging_id, claimed=True, requeued=True, attempts=claimed.attempts, seconds=seconds
        )
    return JudgeOutcome(
        judging_id, claimed=True, verdict=verdict, attempts=claimed.attempts, seconds=seconds
    )


@runs_to_the_end
async def claim(database: Database, judging_id: int, worker_id: str) -> _Claimed | None:
    """Mark the judging running for ``worker_id`` if it is still queued; else return None.

    A judging the submission no longer shows (a rejudge replaced it while it waited for a
    retry) is stored as superseded instead, and comes back with ``current=False``.
    """
    now = utcnow()
    async with database.session() as db:
        result = await db.execute(
            update(Judging)
            .where(Judging.id == judging_id, Judging.status == Status.QUEUED)
            .values(
                status=Status.RUNNING,
                worker=worker_id,
                attempts=Judging.attempts + 1,
                started_at=now,
                heartbeat_at=now,
                finished_at=None,
            )
            .execution_options(synchronize_session=False)
        )
        if _rowcount(result) != 1:
            await db.rollback()
            return None
        judging = (
            await db.execute(
                select(Judging)
                .where(Judging.id == judging_id)
                .options(
                    selectinload(Judging.submission).selectinload(Submission.files),
                    selectinload(Judging.submission).selectinload(Submission.problem),
                )
            )
        ).scalar_one()
        submission = judging.submission
        current = submission.judging_id == judging.id
        if current:
            submission.status = Status.RUNNING
        else:
            await db.execute(
                update(Judging)
                .where(*_guard(judging_id, worker_id))
                .values(
                    status=Status.DONE,
                    verdict=None,
                    message=superseded_message(submission.judging_id),
                    finished_at=now,
                )
                .execution_options(synchronize_session=False)
            )
        await db.commit()
        return _Claimed(
            judging_id=judging.id,
            submission_id=submission.id,
            package_hash=judging.package_hash,
            language=submission.language,
            files=tuple((file.name, file.content) for file in submission.files),
            attempts=judging.attempts,
            current=current,
            problem_slug=submission.problem.slug,
            time_limit=submission.problem.time_limit or None,
        )


class _Job:
    """One claimed judging being judged by this worker."""

    def __init__(
        self,
        database: Database,
        settings: Settings,
        broker: Broker,
        claimed: _Claimed,
        worker_id: str,
    ) -> None:
        self.database = database
        self.settings = settings
        self.broker = broker
        self.claimed = claimed
        self.worker_id = worker_id
        self.guard = _guard(claimed.judging_id, worker_id)

    def publish(self, event: dict[str, Any]) -> None:
        """Send ``event`` to the submission's subscribers when it shows this judging."""
        if self.claimed.current:
            self.broker.publish(
                self.claimed.submission_id, {**event, "judging_id": self.claimed.judging_id}
            )

    async def beat(self) -> None:
        """Refresh the heartbeat until cancelled, so recovery knows this worker lives."""
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            try:
                await self._touch()
            except Exception:  # a missed heartbeat is retried; judging goes on
                logger.exception("heartbeat of judging %s failed", self.claimed.judging_id)

    @runs_to_the_end
    async def _touch(self) -> None:
        async with self.database.session() as db:
            await db.execute(
                update(Judging)
                .where(*self.guard)
                .values(heartbeat_at=utcnow())
                .execution_options(synchronize_session=False)
            )
            await db.commit()

    async def run(self, sandbox: SandboxSource) -> str | None:
        """Judge; return the final verdict, or None when the judging went back to the queue."""
        scratch: Path | None = None
        finished: Finished | None = None
        judge_errors: list[str] = []
        try:
            stored = await load_stored(self.settings, self.claimed.package_hash)
            # The stored package is named by its hash; the program's main file by the slug.
            problem = dataclasses.replace(stored, slug=self.claimed.problem_slug or stored.slug)
            language = get_language(self.claimed.language)
            total = len(problem.tests)
            await self._step(
                {
                    "type": "status",
                    "status": "running",
                    "tests_total": total,
                    "attempt": self.claimed.attempts,
                },
                total=total,
            )
            box = sandbox if not callable(sandbox) else await sandbox()
            scratch, paths = await asyncio.to_thread(_write_sources, self.claimed.files)
            events = evaluate(
                box,
                problem,
                language,
                paths,
                mode=Mode.TEACHING,
                time_limit=self.claimed.time_limit,
            )
            # aclosing: leaving early (superseded, lost, cancelled) cancels the running tests.
            async with contextlib.aclosing(events):
                async for event in events:
                    if isinstance(event, CompileStarted):
                        await self._step({"type": "compile", "stage": "started"})
                    elif isinstance(event, CompileFinished):
                        await self._compiled(event)
                        if event.verdict is Verdict.JE:
                            judge_errors.append(event.output)
                    elif isinstance(event, TestFinished):
                        await self._store_test(event)
                        if event.verdict is Verdict.JE:
                            judge_errors.append(f"{event.name}: {event.message}")
                    else:
                        finished = event
            if finished is None:  # evaluate always ends with Finished
                raise RuntimeError("the evaluator ended without a verdict")
            if finished.verdict is Verdict.JE and not judge_errors:
                judge_errors.append(finished.message or "the evaluator failed")
        except (asyncio.CancelledError, LostClaim):
            raise
        except Exception as error:
            logger.exception("judging %s failed", self.claimed.judging_id)
            return await self._judge_error(f"{type(error).__name__}: {error}")
        finally:
            if scratch is not None:
                await asyncio.to_thread(shutil.rmtree, scratch, True)
        if judge_errors or finished is None:
            return await self._judge_error("; ".join(judge_errors), finished)
        return await self.finish(finished)

    async def _hold(self, db: AsyncSession, **values: Any) -> None:
        """Refresh the heartbeat (and store ``values``) if this judging is still ours and shown.

        Raises LostClaim when another worker took it, and Superseded (after storing it as
        superseded and committing) when a rejudge replaced it. The guarded UPDATE comes first,
        so the check below runs under the write lock (SQLite) or the submission's row lock
        (PostgreSQL): a rejudge commits either before the check or after this transaction.
        """
        result = await db.execute(
            update(Judging)
            .where(*self.guard)
            .values(heartbeat_at=utcnow(), **values)
            .execution_options(synchronize_session=False)
        )
        if _rowcount(result) != 1:
            await db.rollback()
            raise LostClaim(self.claimed.judging_id)
        shown = (
            await db.execute(
                select(Submission.judging_id)
                .where(Submission.id == self.claimed.submission_id)
                .with_for_update(key_share=True)
            )
        ).scalar_one_or_none()
        if shown == self.claimed.judging_id:
            return
        await db.execute(
            update(Judging)
            .where(*self.guard)
            .values(
                status=Status.DONE,
                verdict=None,
                message=superseded_message(shown),
                finished_at=utcnow(),
            )
            .execution_options(synchronize_session=False)
        )
        await db.commit()
        raise Superseded(self.claimed.judging_id)

    @runs_to_the_end
    async def _step(self, event: dict[str, Any], **values: Any) -> None:
        """Store ``values`` on the judging, then publish ``event``, while it is still shown."""
        async with self.database.session() as db:
            await self._hold(db, **values)
            await db.commit()
            self.publish(event)  # right after the commit: before a rejudge can be seen

    async def _compiled(self, event: CompileFinished) -> None:
        await self._step(
            {
                "type": "compile",
                "stage": "finished",
                "ok": event.ok,
                "verdict": event.verdict.value if event.verdict else None,
                "output": event.output,
                "time_ms": event.time_ms,
            },
            compile_output=event.output,
        )

    @runs_to_the_end
    async def _store_test(self, event: TestFinished) -> None:
        async with self.database.session() as db:
            await self._hold(db)
            db.add(
                TestResult(
                    judging_id=self.claimed.judging_id,
                    index=event.index,
                    name=event.name,
                    verdict=event.verdict.value,
                    time_ms=event.time_ms,
                    wall_ms=event.wall_ms,
                    memory_kb=event.memory_kb,
                    message=event.message,
                )
            )
            await db.commit()
            self.publish(
                {
                    "type": "test",
                    "index": event.index,
                    "name": event.name,
                    "verdict": event.verdict.value,
                    "time_ms": event.time_ms,
                    "memory_kb": event.memory_kb,
                    "message": event.message,
                }
            )

    async def _judge_error(self, message: str, finished: Finished | None = None) -> str | None:
        """Requeue after an infrastructure failure, or finish as JE after the last attempt."""
        if self.claimed.attempts < MAX_ATTEMPTS:
            logger.warning(
                "judging %s: attempt %s failed (%s); retrying",
                self.claimed.judging_id,
                self.claimed.attempts,
                message,
            )
            try:
                await self.requeue(count_attempt=True, reason=message)
            except Superseded:
                raise
            except LostClaim:
                pass  # taken over: its new owner judges it
            return None
        text = f"judge error after {self.claimed.attempts} attempts: {message}"
        if finished is not None and finished.verdict is not Verdict.JE:
            # A real verdict came before the failed test: keep it, note the judge's trouble.
            return await self.finish(finished, message=text)
        total = finished.total if finished is not None else 0
        passed = finished.passed if finished is not None else 0
        return await self.finish(
            Finished(Verdict.JE, passed / total if total else 0.0, passed, total, message=text)
        )

    @runs_to_the_end
    async def requeue(self, *, count_attempt: bool, reason: str) -> None:
        """Send the judging back to the queue and forget its partial results.

        Raises LostClaim when it is no longer ours, Superseded when a rejudge replaced it.
        """
        async with self.database.session() as db:
            await self._hold(db)
            await db.execute(
                update(Judging)
                .where(*self.guard)
                .values(
                    status=Status.QUEUED,
                    worker="",
                    started_at=None,
                    heartbeat_at=None,
                    compile_output="",
                    message=reason,
                    attempts=Judging.attempts if count_attempt else Judging.attempts - 1,
                )
                .execution_options(synchronize_session=False)
            )
            await _reset_results(db, [self.claimed.judging_id])
            await _mirror(db, self.claimed, status=Status.QUEUED, verdict=None, score=None)
            await db.commit()
            self.publish({"type": "status", "status": "queued", "retry": count_attempt})

    @runs_to_the_end
    async def finish(self, finished: Finished, *, message: str | None = None) -> str | None:
        """Store the verdict once (guarded) and mirror it on the submission, which shows it."""
        verdict = finished.verdict.value
        async with self.database.session() as db:
            await self._hold(db)
            await db.execute(
                update(Judging)
                .where(*self.guard)
                .values(
                    status=Status.DONE,
                    verdict=verdict,
                    score=finished.score,
                    passed=finished.passed,
                    total=finished.total,
                    max_time_ms=finished.max_time_ms,
                    max_memory_kb=finished.max_memory_kb,
                    message=finished.message if message is None else message,
                    heartbeat_at=utcnow(),
                    finished_at=utcnow(),
                )
                .execution_options(synchronize_session=False)
            )
            mirrored = await _mirror(
                db, self.claimed, status=Status.DONE, verdict=verdict, score=finished.score
            )
            await db.commit()
            if mirrored:
                self.publish(
                    {
                        "type": "done",
                        "status": "done",
                        "verdict": verdict,
                        "score": finished.score,
                        "passed": finished.passed,
                        "total": finished.total,
                    }
                )
        return verdict


async def _mirror(
    db: AsyncSession,
    claimed: _Claimed,
    *,
    status: Status,
    verdict: str | None,
    score: float | None,
) -> bool:
    """Copy status and verdict onto the submission if it still shows this judging."""
    result = await db.execute(
        update(Submission)
        .where(Submission.id == claimed.submission_id, Submission.judging_id == claimed.judging_id)
        .values(status=status, verdict=verdict, score=score)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result) == 1


async def _reset_results(db: AsyncSession, judging_ids: Sequence[int]) -> None:
    if judging_ids:
        await db.execute(
            delete(TestResult)
            .where(TestResult.judging_id.in_(judging_ids))
            .execution_options(synchronize_session=False)
        )


def _write_sources(files: Sequence[tuple[str, str]]) -> tuple[Path, list[Path]]:
    """Write the submission's files into a fresh private directory; return it and the paths."""
    directory = Path(tempfile.mkdtemp(prefix="verdict-sources-"))
    paths: list[Path] = []
    for name, content in files:
        path = directory / Path(name).name  # names were checked at submission; stay inside
        path.write_text(content, encoding="utf-8")
        paths.append(path)
    return directory, paths


def _worker_is_dead(worker: str) -> bool:
    """Return whether the worker that claimed a judging is known to be gone (no heartbeat test).

    Known gone: no id, or a process of this host that no longer exists.
    """
    host, _, rest = worker.partition(":")
    pid_text = rest.partition(":")[0]
    if not worker or not pid_text.isdigit():
        return True
    pid = int(pid_text)
    if host != socket.gethostname() or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, owned by another user
    return False


@runs_to_the_end
async def recover(database: Database, *, stale_seconds: float = STALE_SECONDS) -> list[int]:
    """Requeue running judgings whose worker is gone; return every queued judging, oldest first.

    A worker is gone when its process on this host has exited, or when its heartbeat is older
    than ``stale_seconds``. A judging interrupted :data:`MAX_ATTEMPTS` times is finished as a
    judge error instead of being requeued.
    """
    cutoff = utcnow() - timedelta(seconds=stale_seconds)
    async with database.session() as db:
        running = (
            await db.execute(
                select(Judging.id, Judging.worker, Judging.heartbeat_at, Judging.attempts).where(
                    Judging.status == Status.RUNNING
                )
            )
        ).all()
        for judging_id, worker, heartbeat_at, attempts in running:
            if _worker_is_dead(worker):
                await _take_back(db, judging_id, worker, attempts, cutoff=None)
            elif heartbeat_at is None or heartbeat_at < cutoff:
                await _take_back(db, judging_id, worker, attempts, cutoff=cutoff)
        await db.commit()
        queued = await db.execute(
            select(Judging.id).where(Judging.status == Status.QUEUED).order_by(Judging.id)
        )
        return list(queued.scalars())


async def _take_back(
    db: AsyncSession, judging_id: int, worker: str, attempts: int, *, cutoff: datetime | None
) -> None:
    """Requeue (or, after too many attempts, fail) one judging a dead worker left running.

    With ``cutoff``, only while its heartbeat is still older than that (it may just have beaten).
    """
    exhausted = attempts >= MAX_ATTEMPTS
    values: dict[str, Any] = (
        {
            "status": Status.DONE,
            "verdict": Verdict.JE.value,
            "score": 0.0,
            "passed": 0,
            "message": f"judge error: the judging was interrupted {attempts} times",
            "finished_at": utcnow(),
        }
        if exhausted
        else {"status": Status.QUEUED, "started_at": None, "heartbeat_at": None}
    )
    conditions = [
        Judging.id == judging_id,
        Judging.status == Status.RUNNING,
        Judging.worker == worker,
    ]
    if cutoff is not None:
        conditions.append(or_(Judging.heartbeat_at.is_(None), Judging.heartbeat_at < cutoff))
    result = await db.execute(
        update(Judging)
        .where(*conditions)
        .values(worker="", compile_output="", **values)
        .execution_options(synchronize_session=False)
    )
    if _rowcount(result) != 1:
        return
    logger.warning("judging %s: worker %r is gone; taking it back", judging_id, worker)
    await _reset_results(db, [judging_id])
    submission_id = (
        await db.execute(select(Judging.submission_id).where(Judging.id == judging_id))
    ).scalar_one()
    claimed = _Claimed(judging_id, submission_id, "", "", (), attempts, current=True)
    if exhausted:
        await _mirror(db, claimed, status=Status.DONE, verdict=Verdict.JE.value, score=0.0)
    else:
        await _mirror(db, claimed, status=Status.QUEUED, verdict=None, score=None)


@runs_to_the_end
async def release(database: Database, worker_id: str) -> int:
    """Send every judging ``worker_id`` still holds back to the queue (it is stopping).

    Returns how many there were; the interrupted attempt does not count.
    """
    async with database.session() as db:
        rows = (
            await db.execute(
                select(Judging.id, Judging.submission_id).where(
                    Judging.worker == worker_id, Judging.status == Status.RUNNING
                )
            )
        ).all()
        for judging_id, submission_id in rows:
            await db.execute(
                update(Judging)
                .where(*_guard(judging_id, worker_id))
                .values(
                    status=Status.QUEUED,
                    worker="",
                    started_at=None,
                    heartbeat_at=None,
                    compile_output="",
                    attempts=Judging.attempts - 1,
                )
                .execution_options(synchronize_session=False)
            )
            claimed = _Claimed(judging_id, submission_id, "", "", (), 0, current=True)
            await _mirror(db, claimed, status=Status.QUEUED, verdict=None, score=None)
        await _reset_results(db, [judging_id for judging_id, _ in rows])
        await db.commit()
    return len(rows)
