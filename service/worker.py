"""Judge one judging: the only bridge between the database and the evaluator.

A thin shell: claim the judging, load its package and sources, run the evaluator, store and
publish each of its events, finish. Every write is a transition of :mod:`service.judgings`,
which holds the crash-safety rules (guarded by this worker's id, superseded judgings never
publish); a :class:`~service.judgings.LostClaim` from any of them stops the judging here.

An infrastructure failure (the package or sandbox is missing, a sandbox run failed, an
unexpected exception) is a judge error: the judging goes back to ``queued`` for another
attempt, up to :data:`~service.judgings.MAX_ATTEMPTS`, and only then is it finished as JE with
a message that blames the judge, never the submission.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from service import judgings
from service.config import Settings
from service.db import Database
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
from service.judgings import MAX_ATTEMPTS, Claimed, LostClaim, MessagePart, Superseded
from service.models import TestResult
from service.packages import load_stored

logger = logging.getLogger(__name__)

#: A running judging refreshes ``heartbeat_at`` at least this often (seconds).
HEARTBEAT_SECONDS = 10.0

#: The message of a judging sent back to the queue because this server stops.
STOPPING = "the server is stopping"

#: The sandbox itself, or an async function returning it (opened on first use).
SandboxSource = Sandbox | Callable[[], Awaitable[Sandbox]]


@dataclass(frozen=True)
class JudgeOutcome:
    """What :func:`judge` did with one judging."""

    judging_id: int
    claimed: bool  # False: it was not queued (another worker has it, or it is done)
    verdict: str | None = None  # set when this call finished the judging
    requeued: bool = False  # an infrastructure failure sent it back to the queue
    attempts: int = 0
    seconds: float = 0.0  # from the claim to the end


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
    claimed = await judgings.claim(database, judging_id, worker_id)
    if claimed is None:
        return JudgeOutcome(judging_id, claimed=False)
    if not claimed.current:  # a rejudge replaced it while it waited: stored as superseded
        return JudgeOutcome(judging_id, claimed=True, attempts=claimed.attempts)
    job = _Job(database, settings, broker, claimed)
    heartbeat = asyncio.create_task(job.beat())
    try:
        verdict = await job.run(sandbox)
    except asyncio.CancelledError:
        with contextlib.suppress(LostClaim):
            stopping = judgings.requeue(
                database,
                broker,
                claimed.held,
                count_attempt=False,
                reason=[MessagePart(STOPPING)],
            )
            await asyncio.shield(stopping)
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


class _Job:
    """One claimed judging being judged by this worker."""

    def __init__(
        self, database: Database, settings: Settings, broker: Broker, claimed: Claimed
    ) -> None:
        self.database = database
        self.settings = settings
        self.broker = broker
        self.claimed = claimed
        self.held = claimed.held

    async def beat(self) -> None:
        """Refresh the heartbeat until cancelled, so recovery knows this worker lives."""
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            try:
                await judgings.touch(self.database, self.held)
            except Exception:  # a missed heartbeat is retried; judging goes on
                logger.exception("heartbeat of judging %s failed", self.held.judging_id)

    async def run(self, sandbox: SandboxSource) -> str | None:
        """Judge; return the final verdict, or None when the judging went back to the queue."""
        scratch: Path | None = None
        finished: Finished | None = None
        failed: TestFinished | None = None  # the first test that did not pass
        judge_errors: list[MessagePart] = []
        try:
            problem = await load_stored(self.settings, self.claimed.package_hash)
            language = get_language(self.claimed.language)
            total = len(problem.tests)
            await self._progress(
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
                # The stored package is named by its hash; the main file by the problem's slug.
                main_name=self.claimed.main_name,
                wall_budget_factor=self.settings.wall_budget_factor,
            )
            # aclosing: leaving early (superseded, lost, cancelled) cancels the running tests.
            async with contextlib.aclosing(events):
                async for event in events:
                    if isinstance(event, CompileStarted):
                        await self._progress({"type": "compile", "stage": "started"})
                    elif isinstance(event, CompileFinished):
                        await self._compiled(event)
                        if event.verdict is Verdict.JE:
                            judge_errors.append(MessagePart(event.output, internal=True))
                    elif isinstance(event, TestFinished):
                        await self._store_test(event)
                        if event.verdict is not Verdict.AC and failed is None:
                            failed = event
                        if event.verdict is Verdict.JE:
                            judge_errors.append(MessagePart(event.message, test=event.name))
                    else:
                        finished = event
            if finished is None:  # evaluate always ends with Finished
                raise RuntimeError("the evaluator ended without a verdict")
            if finished.verdict is Verdict.JE and not judge_errors:
                text = finished.message or "the evaluator failed"
                judge_errors.append(MessagePart(text, internal=True))
        except (asyncio.CancelledError, LostClaim):
            raise
        except Exception as error:
            logger.exception("judging %s failed", self.held.judging_id)
            detail = MessagePart(f"{type(error).__name__}: {error}", internal=True)
            return await self._judge_error([detail])
        finally:
            if scratch is not None:
                await asyncio.to_thread(shutil.rmtree, scratch, True)
        if judge_errors or finished is None:
            return await self._judge_error(judge_errors, finished)
        return await self._finish(finished, _verdict_message(finished, failed))

    async def _progress(self, event: dict[str, Any], **values: Any) -> None:
        await judgings.progress(self.database, self.broker, self.held, event, **values)

    async def _compiled(self, event: CompileFinished) -> None:
        await self._progress(
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

    async def _store_test(self, event: TestFinished) -> None:
        result = TestResult(
            judging_id=self.held.judging_id,
            index=event.index,
            name=event.name,
            verdict=event.verdict.value,
            time_ms=event.time_ms,
            wall_ms=event.wall_ms,
            memory_kb=event.memory_kb,
            message=event.message,
            output=event.output.decode("utf-8", errors="replace"),
            output_bytes=event.output_bytes,
        )
        await judgings.add_result(self.database, self.broker, self.held, result)

    async def _judge_error(
        self, errors: Sequence[MessagePart], finished: Finished | None = None
    ) -> str | None:
        """Requeue after an infrastructure failure, or finish as JE after the last attempt."""
        attempts = self.claimed.attempts
        if attempts < MAX_ATTEMPTS:
            logger.warning(
                "judging %s: attempt %s failed (%s); retrying",
                self.held.judging_id,
                attempts,
                judgings.render_message(errors),
            )
            reason = [MessagePart(f"judge error on attempt {attempts}, retrying"), *errors]
            try:
                await judgings.requeue(
                    self.database, self.broker, self.held, count_attempt=True, reason=reason
                )
            except Superseded:
                raise
            except LostClaim:
                pass  # taken over: its new owner judges it
            return None
        message = [MessagePart(f"judge error after {attempts} attempts"), *errors]
        if finished is not None and finished.verdict is not Verdict.JE:
            # A real verdict came before the failed test: keep it, note the judge's trouble.
            return await self._finish(finished, message)
        total = finished.total if finished is not None else 0
        passed = finished.passed if finished is not None else 0
        return await self._finish(
            Finished(Verdict.JE, passed / total if total else 0.0, passed, total), message
        )

    async def _finish(self, finished: Finished, message: Sequence[MessagePart]) -> str:
        """Store the verdict with ``message`` as the judging's message, and announce it."""
        return await judgings.finish(
            self.database,
            self.broker,
            self.held,
            verdict=finished.verdict.value,
            score=stored_score(finished),
            passed=finished.passed,
            total=finished.total,
            max_time_ms=finished.max_time_ms,
            max_memory_kb=finished.max_memory_kb,
            message=message,
        )


def stored_score(finished: Finished) -> float:
    """Return the score stored with a judging: the share of the maximum (0 to 1).

    Pass-fail problems score the share of tests passed; a scoring problem's points are
    stored as their share of its maximum, so every page and export reading ``score`` as a
    share stays right (the points themselves are in the evaluator's events).
    """
    if finished.max_score is None:
        return finished.score
    return finished.score / finished.max_score if finished.max_score > 0 else 0.0


def _verdict_message(finished: Finished, failed: TestFinished | None) -> list[MessagePart]:
    """Return the message of a judged submission: about its first failed test, if any.

    The evaluator's own message says the same as one string; built from the test here, so
    its parts are shown by that test's visibility.
    """
    # Stopped at the wall-clock budget: said in the judge's own words, so students see it.
    parts = [MessagePart(finished.stopped_early)] if finished.stopped_early else []
    if failed is not None:
        return [*parts, MessagePart(failed.message, test=failed.name)]
    return [*parts, MessagePart(finished.message, internal=True)] if finished.message else parts


def _write_sources(files: Sequence[tuple[str, str]]) -> tuple[Path, list[Path]]:
    """Write the submission's files into a fresh private directory; return it and the paths."""
    directory = Path(tempfile.mkdtemp(prefix="verdict-sources-"))
    paths: list[Path] = []
    for name, content in files:
        path = directory / Path(name).name  # names were checked at submission; stay inside
        path.write_text(content, encoding="utf-8")
        paths.append(path)
    return directory, paths
