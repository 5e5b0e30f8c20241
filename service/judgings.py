"""The judging state machine: every guarded transition of a judging, as functions on ids.

::

    new_judging ──▶ queued ──claim──▶ running ──finish──▶ done (verdict)
                      ▲                  │
                      └──────────────────┤ requeue (judge error, server stopping),
                                         │ release (this worker stops), take_back (its
                                         │ worker is gone; via recover)
    queued or running ──supersede──▶ done, no verdict, "superseded by judging N"
    running, interrupted MAX_ATTEMPTS times ──take_back──▶ done (JE)

The rules that make a crash harmless:

- *claim* is one UPDATE guarded by ``status = 'queued'``: two workers never run one judging.
- Every later write of a worker (progress, each test result, requeue, finish) is guarded by
  ``id, worker = me, status = 'running'``. A guard that matches no row raises
  :class:`LostClaim`: recovery judged the worker dead and gave the judging away, so the worker
  stops writing and a judging never completes twice.
- The same transaction then checks, after the guarded UPDATE (so under SQLite's write lock, or
  the submission's row lock on PostgreSQL), that the submission still shows the judging. A
  rejudge that replaced it makes the write store the judging as superseded, commit and raise
  :class:`Superseded`, publishing nothing.
- A write's event is published right after its commit, inside the write (``runs_to_the_end``
  runs it as its own task), so no rejudge can become visible between the two.
- Back to queued forgets the worker, the partial results and the compile output, and shows
  ``queued`` on the submission if it still shows the judging.
- A judging's message is stored as parts (:class:`MessagePart`), each about one test or the
  judging itself, so what a student sees of it is decided per test, never by its text.

Exceptions::

    LostClaim          another worker (or crash recovery) holds the judging now
     └── Superseded    a rejudge replaced the judging (already stored as superseded)
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import JSON, Table, bindparam, delete, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from service.db import Database, runs_to_the_end
from service.events import Broker
from service.models import Judging, Problem, Status, Submission, TestResult, User
from service.models.base import utcnow

logger = logging.getLogger(__name__)

#: A judging is tried this many times before an infrastructure failure becomes its verdict.
MAX_ATTEMPTS = 3
#: A running judging whose heartbeat is older than this (seconds) belongs to a dead worker.
STALE_SECONDS = 60.0
#: The verdict of a judging the judge failed (the evaluator's ``Verdict.JE``; this module
#: stays clear of the evaluator, which only the worker bridges to).
JUDGE_ERROR = "JE"


class LostClaim(Exception):
    """Another worker (or crash recovery) took this judging over; stop writing to it."""


class Superseded(LostClaim):
    """A rejudge replaced this judging (stored as superseded): stop and publish nothing more."""


@dataclass(frozen=True)
class Held:
    """A judging a worker holds: the ids its guarded writes are keyed by."""

    judging_id: int
    submission_id: int
    worker_id: str


@dataclass(frozen=True)
class Claimed:
    """What a worker needs to know about the judging it claimed."""

    held: Held
    package_hash: str
    language: str
    files: tuple[tuple[str, str], ...]
    attempts: int
    current: bool  # the submission shows this judging (else it was stored as superseded)
    main_name: str | None = None  # names the main file among several (hello.py for hello)
    time_limit: float | None = None  # the problem's limit (the one its pages show), seconds


@dataclass(frozen=True)
class MessagePart:
    """One part of a judging's message: about one test, or about the judging as a whole.

    ``test`` names the test the text is about (a checker's or validator's words on it, which
    may quote its data); None means the text is about the judging. ``internal`` marks a text
    about the judging that comes from the judge's insides (an exception, a validator's build
    output), which may quote anything; the rest is the judge's own fixed words.
    """

    text: str
    test: str | None = None
    internal: bool = False

    def render(self) -> str:
        """Return the part as the message shows it: ``test: text``, or the text alone."""
        if self.test is None:
            return self.text
        return f"{self.test}: {self.text}" if self.text else self.test

    def to_json(self) -> dict[str, Any]:
        """Return the part as stored in ``judgings.message_parts``."""
        return {"text": self.text, "test": self.test, "internal": self.internal}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MessagePart:
        """Read a part back from ``judgings.message_parts``."""
        test = data.get("test")
        return cls(
            text=str(data.get("text") or ""),
            test=None if test is None else str(test),
            internal=bool(data.get("internal", True)),
        )


#: What separates the parts of a judging's message.
PART_SEPARATOR = "; "


def render_message(parts: Sequence[MessagePart]) -> str:
    """Return the whole message (what staff see) of ``parts``."""
    return PART_SEPARATOR.join(part.render() for part in parts if part.render())


def message_values(parts: Sequence[MessagePart]) -> dict[str, Any]:
    """Return the column values storing ``parts`` as a judging's message."""
    return {
        "message": render_message(parts),
        "message_parts": [part.to_json() for part in parts],
    }


def superseded_message(judging_id: int | None) -> str:
    """Return the message of a judging replaced by judging ``judging_id``."""
    return "superseded" if judging_id is None else f"superseded by judging {judging_id}"


def new_worker_id() -> str:
    """Return a worker id: ``<host>:<pid>:<random>`` (unique per dispatcher instance)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def new_judging(
    submission_id: int,
    problem: Problem,
    requested_by: User | None = None,
    *,
    created_at: datetime | None = None,
) -> dict[str, Any]:
    """Return the column values of a queued judging of a submission on the problem's package."""
    return {
        "submission_id": submission_id,
        "package_hash": problem.package_hash,
        "status": Status.QUEUED,
        "total": problem.test_count,
        "requested_by_id": requested_by.id if requested_by is not None else None,
        "created_at": utcnow() if created_at is None else created_at,
    }


def result_json(result: TestResult) -> dict[str, Any]:
    """Return a test result as the JSON a live ``test`` event and a state's ``tests`` share."""
    return {
        "index": result.index,
        "name": result.name,
        "verdict": result.verdict,
        "time_ms": result.time_ms,
        "memory_kb": result.memory_kb,
        "message": result.message,
    }


def _rowcount(result: Any) -> int:
    return cast(CursorResult[Any], result).rowcount


def _guard(held: Held) -> tuple[Any, ...]:
    return (
        Judging.id == held.judging_id,
        Judging.worker == held.worker_id,
        Judging.status == Status.RUNNING,
    )


#: Judgings looked up per query by :func:`owners` (well under any database's bound parameters).
OWNERS_CHUNK = 500


async def owners(database: Database, judging_ids: Sequence[int]) -> dict[int, int]:
    """Return who sent each judging's submission: judging id -> user id (gone ones left out)."""
    found: dict[int, int] = {}
    async with database.session() as db:
        for start in range(0, len(judging_ids), OWNERS_CHUNK):
            chunk = judging_ids[start : start + OWNERS_CHUNK]
            rows = await db.execute(
                select(Judging.id, Submission.user_id)
                .join(Submission, Submission.id == Judging.submission_id)
                .where(Judging.id.in_(chunk))
            )
            found.update({judging_id: user_id for judging_id, user_id in rows.all()})
    return found


@runs_to_the_end
async def claim(database: Database, judging_id: int, worker_id: str) -> Claimed | None:
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
            await supersede(db, {judging_id: submission.judging_id}, worker_id=worker_id)
        await db.commit()
        return Claimed(
            held=Held(judging.id, submission.id, worker_id),
            package_hash=judging.package_hash,
            language=submission.language,
            files=tuple((file.name, file.content) for file in submission.files),
            attempts=judging.attempts,
            current=current,
            main_name=submission.problem.slug or None,
            time_limit=submission.problem.time_limit or None,
        )


@runs_to_the_end
async def touch(database: Database, held: Held) -> None:
    """Refresh the heartbeat of a judging the worker still runs (no row changes otherwise)."""
    async with database.session() as db:
        await db.execute(
            update(Judging)
            .where(*_guard(held))
            .values(heartbeat_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        await db.commit()


async def _hold(db: AsyncSession, held: Held, **values: Any) -> None:
    """Refresh the heartbeat (and store ``values``) if the judging is still held and shown.

    Raises LostClaim when another worker took it, and Superseded (after storing it as
    superseded and committing) when a rejudge replaced it. The guarded UPDATE comes first, so
    the check below runs under the write lock (SQLite) or the submission's row lock
    (PostgreSQL): a rejudge commits either before the check or after this transaction.
    """
    result = await db.execute(
        update(Judging)
        .where(*_guard(held))
        .values(heartbeat_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    if _rowcount(result) != 1:
        await db.rollback()
        raise LostClaim(held.judging_id)
    shown = (
        await db.execute(
            select(Submission.judging_id)
            .where(Submission.id == held.submission_id)
            .with_for_update(key_share=True)
        )
    ).scalar_one_or_none()
    if shown == held.judging_id:
        return
    await supersede(db, {held.judging_id: shown}, worker_id=held.worker_id)
    await db.commit()
    raise Superseded(held.judging_id)


def _publish(broker: Broker, held: Held, event: dict[str, Any]) -> None:
    broker.publish(held.submission_id, {**event, "judging_id": held.judging_id})


@runs_to_the_end
async def progress(
    database: Database, broker: Broker, held: Held, event: dict[str, Any], **values: Any
) -> None:
    """Store ``values`` on a held, shown judging, then publish ``event`` right after the commit.

    Raises LostClaim or Superseded (see :func:`_hold`) instead, publishing nothing.
    """
    async with database.session() as db:
        await _hold(db, held, **values)
        await db.commit()
        _publish(broker, held, event)


@runs_to_the_end
async def add_result(database: Database, broker: Broker, held: Held, result: TestResult) -> None:
    """Store one test result of a held, shown judging and publish it as a ``test`` event."""
    async with database.session() as db:
        await _hold(db, held)
        db.add(result)
        await db.commit()
        _publish(broker, held, {"type": "test", **result_json(result)})


@runs_to_the_end
async def requeue(
    database: Database,
    broker: Broker,
    held: Held,
    *,
    count_attempt: bool,
    reason: Sequence[MessagePart],
) -> None:
    """Send a held judging back to the queue and forget its partial results.

    The interrupted attempt counts only with ``count_attempt`` (a judge error, not a stop);
    ``reason`` becomes the judging's message. Raises LostClaim when it is no longer held,
    Superseded when a rejudge replaced it.
    """
    async with database.session() as db:
        await _hold(db, held)
        await _back_to_queued(
            db,
            held.judging_id,
            held.submission_id,
            _guard(held),
            attempts=Judging.attempts if count_attempt else Judging.attempts - 1,
            **message_values(reason),
        )
        await db.commit()
        _publish(broker, held, {"type": "status", "status": "queued", "retry": count_attempt})


@runs_to_the_end
async def finish(
    database: Database,
    broker: Broker,
    held: Held,
    *,
    verdict: str,
    score: float,
    passed: int,
    total: int,
    max_time_ms: int,
    max_memory_kb: int,
    message: Sequence[MessagePart],
) -> str:
    """Store the verdict of a held judging once, mirror it on the submission and announce it.

    Returns the verdict. Raises LostClaim or Superseded (see :func:`_hold`) instead.
    """
    async with database.session() as db:
        await _hold(db, held)
        await db.execute(
            update(Judging)
            .where(*_guard(held))
            .values(
                status=Status.DONE,
                verdict=verdict,
                score=score,
                passed=passed,
                total=total,
                max_time_ms=max_time_ms,
                max_memory_kb=max_memory_kb,
                heartbeat_at=utcnow(),
                **message_values(message),
                finished_at=utcnow(),
            )
            .execution_options(synchronize_session=False)
        )
        mirrored = await _mirror(
            db,
            held.judging_id,
            held.submission_id,
            status=Status.DONE,
            verdict=verdict,
            score=score,
        )
        await db.commit()
        if mirrored:
            _publish(
                broker,
                held,
                {
                    "type": "done",
                    "status": "done",
                    "verdict": verdict,
                    "score": score,
                    "passed": passed,
                    "total": total,
                },
            )
    return verdict


async def supersede(
    db: AsyncSession, replaced: Mapping[int, int | None], *, worker_id: str | None = None
) -> None:
    """Finish judgings as superseded (done, no verdict) in ``db``; the caller commits.

    ``replaced`` maps each judging to the one its submission shows now (named in the
    message). Without ``worker_id`` only judgings still queued are finished (they never run);
    with it, only those that worker is running (it stops at its next write).
    """
    if not replaced:
        return
    table = cast(Table, Judging.__table__)
    guard = [table.c.id == bindparam("old_id")]
    if worker_id is None:
        guard.append(table.c.status == Status.QUEUED)
    else:
        guard += [table.c.worker == worker_id, table.c.status == Status.RUNNING]
    await db.execute(
        update(table)
        .where(*guard)
        .values(
            status=Status.DONE,
            verdict=None,
            message=bindparam("note"),
            message_parts=bindparam("parts", type_=JSON),
            finished_at=utcnow(),
        ),
        [
            {"old_id": judging_id, **_note(superseded_message(shown))}
            for judging_id, shown in replaced.items()
        ],
    )


def _note(text: str) -> dict[str, Any]:
    """Return the ``note`` and ``parts`` parameters of a message of the judge's own words."""
    values = message_values([MessagePart(text)])
    return {"note": values["message"], "parts": values["message_parts"]}


async def _back_to_queued(
    db: AsyncSession, judging_id: int, submission_id: int, guard: Sequence[Any], **values: Any
) -> bool:
    """Reset the judging to queued where ``guard`` holds; return whether it did.

    The worker, the timestamps of the run, the compile output and the partial results go; the
    submission shows ``queued`` again if it still shows this judging.
    """
    result = await db.execute(
        update(Judging)
        .where(*guard)
        .values(
            status=Status.QUEUED,
            worker="",
            started_at=None,
            heartbeat_at=None,
            compile_output="",
            **values,
        )
        .execution_options(synchronize_session=False)
    )
    if _rowcount(result) != 1:
        return False
    await _reset_results(db, judging_id)
    await _mirror(db, judging_id, submission_id, status=Status.QUEUED, verdict=None, score=None)
    return True


async def _mirror(
    db: AsyncSession,
    judging_id: int,
    submission_id: int,
    *,
    status: Status,
    verdict: str | None,
    score: float | None,
) -> bool:
    """Copy status and verdict onto the submission if it still shows this judging."""
    result = await db.execute(
        update(Submission)
        .where(Submission.id == submission_id, Submission.judging_id == judging_id)
        .values(status=status, verdict=verdict, score=score)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result) == 1


async def _reset_results(db: AsyncSession, judging_id: int) -> None:
    await db.execute(
        delete(TestResult)
        .where(TestResult.judging_id == judging_id)
        .execution_options(synchronize_session=False)
    )


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
            held = Held(judging_id, submission_id, worker_id)
            await _back_to_queued(
                db, judging_id, submission_id, _guard(held), attempts=Judging.attempts - 1
            )
        await db.commit()
    return len(rows)


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
                select(
                    Judging.id,
                    Judging.submission_id,
                    Judging.worker,
                    Judging.heartbeat_at,
                    Judging.attempts,
                ).where(Judging.status == Status.RUNNING)
            )
        ).all()
        for judging_id, submission_id, worker, heartbeat_at, attempts in running:
            if _worker_is_dead(worker):
                await take_back(db, judging_id, submission_id, worker, attempts, cutoff=None)
            elif heartbeat_at is None or heartbeat_at < cutoff:
                await take_back(db, judging_id, submission_id, worker, attempts, cutoff=cutoff)
        await db.commit()
        queued = await db.execute(
            select(Judging.id).where(Judging.status == Status.QUEUED).order_by(Judging.id)
        )
        return list(queued.scalars())


async def take_back(
    db: AsyncSession,
    judging_id: int,
    submission_id: int,
    worker: str,
    attempts: int,
    *,
    cutoff: datetime | None,
) -> None:
    """Requeue (or, after too many attempts, fail) one judging a dead worker left running.

    Only while ``worker`` still runs it and, with ``cutoff``, its heartbeat is still older than
    that (it may just have beaten). The caller commits.
    """
    guard = [Judging.id == judging_id, Judging.status == Status.RUNNING, Judging.worker == worker]
    if cutoff is not None:
        guard.append(or_(Judging.heartbeat_at.is_(None), Judging.heartbeat_at < cutoff))
    if attempts < MAX_ATTEMPTS:
        taken = await _back_to_queued(db, judging_id, submission_id, guard)
    else:
        taken = await _fail_interrupted(db, judging_id, submission_id, guard, attempts)
    if taken:
        logger.warning("judging %s: worker %r is gone; taking it back", judging_id, worker)


async def _fail_interrupted(
    db: AsyncSession, judging_id: int, submission_id: int, guard: Sequence[Any], attempts: int
) -> bool:
    """Finish the judging as JE where ``guard`` holds (interrupted too often); return whether."""
    result = await db.execute(
        update(Judging)
        .where(*guard)
        .values(
            status=Status.DONE,
            verdict=JUDGE_ERROR,
            score=0.0,
            passed=0,
            finished_at=utcnow(),
            **message_values(
                [MessagePart(f"judge error: the judging was interrupted {attempts} times")]
            ),
            worker="",
            compile_output="",
        )
        .execution_options(synchronize_session=False)
    )
    if _rowcount(result) != 1:
        return False
    await _reset_results(db, judging_id)
    await _mirror(db, judging_id, submission_id, status=Status.DONE, verdict=JUDGE_ERROR, score=0.0)
    return True
