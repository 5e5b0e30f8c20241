"""A submission's state as JSON-ready data: what the page, the poll and the API show."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from service.judgings import PART_SEPARATOR, MessagePart, result_json
from service.models import Judging, Status, Submission


async def submission_state(db: AsyncSession, submission_id: int) -> dict[str, Any] | None:
    """Return the submission with its current judging's results, or None if there is none.

    Keys: id, problem (slug), problem_name, user {id, name, email}, language, status, verdict,
    score, created_at (ISO 8601), tests_total, tests_done, tests [{index, name, verdict,
    time_ms, memory_kb, message}], compile_output, message, message_parts (the message as
    stored parts, or None), judging_id, judgings (count), queue_ahead (while queued: how many
    submissions sent earlier are still queued or running, else 0). Show it through
    ``redact_state``.
    """
    # The judging count comes with the row in one statement: read apart, a judging committed
    # in between gave a state that was never true ("queued" with one judging).
    judgings_of = (
        select(func.count())
        .select_from(Judging)
        .where(Judging.submission_id == Submission.id)
        .scalar_subquery()
    )
    found = (
        await db.execute(
            select(Submission, judgings_of)
            .where(Submission.id == submission_id)
            .options(selectinload(Submission.problem), selectinload(Submission.user))
        )
    ).one_or_none()
    if found is None:
        return None
    submission, judgings = found
    judging: Judging | None = None
    if submission.judging_id is not None:
        judging = (
            await db.execute(
                select(Judging)
                .where(Judging.id == submission.judging_id)
                .options(selectinload(Judging.results))
            )
        ).scalar_one_or_none()
    # The same builder as the live ``test`` events: a snapshot and the events agree.
    tests = [result_json(result) for result in (judging.results if judging is not None else [])]
    ahead = 0
    if submission.status is Status.QUEUED:
        ahead = int(
            await db.scalar(
                select(func.count())
                .select_from(Submission)
                .where(
                    Submission.id < submission.id,
                    Submission.status.in_((Status.QUEUED, Status.RUNNING)),
                )
            )
            or 0
        )
    total = judging.total if judging is not None and judging.total else 0
    return {
        "id": submission.id,
        "problem": submission.problem.slug,
        "problem_name": submission.problem.name,
        "user": {
            "id": submission.user.id,
            "name": submission.user.name,
            "email": submission.user.email,
        },
        "language": submission.language,
        "status": submission.status.value,
        "verdict": submission.verdict,
        "score": submission.score,
        "created_at": submission.created_at.isoformat(),
        "tests_total": total or submission.problem.test_count,
        "tests_done": len(tests),
        "tests": tests,
        "compile_output": judging.compile_output if judging is not None else "",
        "message": judging.message if judging is not None else "",
        "message_parts": judging.message_parts if judging is not None else [],
        "judging_id": submission.judging_id,
        "judgings": int(judgings or 0),
        "queue_ahead": ahead,
    }


#: Test names (paths under the package's data/) that students may see in full.
SAMPLE_PREFIX = "sample/"


def is_sample(test_name: str | None) -> bool:
    """Return whether a test is a sample (its data is public, so its message may be shown)."""
    return bool(test_name) and str(test_name).startswith(SAMPLE_PREFIX)


#: What a student gets instead of a secret test's fields: a message may quote the expected
#: answer, and time and memory are as good as output to a program that chooses how much it
#: spends (one read the first byte of every input through the memory column).
SECRET_TEST_HIDDEN: dict[str, Any] = {"message": "", "time_ms": None, "memory_kb": None}


def _redact_test(test: dict[str, Any]) -> dict[str, Any]:
    if is_sample(test.get("name")):
        return test
    return {**test, **SECRET_TEST_HIDDEN}


def is_public(part: MessagePart) -> bool:
    """Return whether a student may read a part of a judging's message.

    A part about a test is as visible as that test's own message (samples only); a part about
    the judging is, unless it comes from the judge's insides (an exception, a validator's
    build output), which may quote anything.
    """
    if part.test is not None:
        return is_sample(part.test)
    return not part.internal


def student_message(parts: list[dict[str, Any]] | None) -> str:
    """Return what a student sees of a judging's message: its public parts only.

    A judging stored before messages had parts (None) shows nothing: its text cannot be split
    by test safely.
    """
    shown = [MessagePart.from_json(part) for part in parts or []]
    return PART_SEPARATOR.join(part.render() for part in shown if is_public(part) and part.render())


def redact_state(state: dict[str, Any], *, staff: bool) -> dict[str, Any]:
    """Return ``state`` as ``staff`` or not may see it: nothing of a secret test but its verdict.

    A secret test keeps its name and verdict; its message, time and memory become
    ``SECRET_TEST_HIDDEN`` (they could carry its data out). Samples are public and staff see
    everything. The judging's message is rebuilt from its parts, each shown by its own test's
    visibility (``is_public``).
    """
    parts = state.get("message_parts")
    visible = {key: value for key, value in state.items() if key != "message_parts"}
    if staff:
        return visible
    return {
        **visible,
        "message": student_message(parts),
        "tests": [_redact_test(test) for test in state.get("tests") or []],
    }


def redact_event(event: dict[str, Any], *, staff: bool) -> dict[str, Any]:
    """Return a live event as ``staff`` or not may see it (the same rule as ``redact_state``)."""
    if staff or event.get("type") != "test":
        return event
    nested = event.get("test")
    if isinstance(nested, dict):
        return {**event, "test": _redact_test(nested)}
    return _redact_test(event)


async def visible_state(
    db: AsyncSession, submission_id: int, *, staff: bool
) -> dict[str, Any] | None:
    """Return ``submission_state`` redacted for a viewer who is ``staff`` or not."""
    state = await submission_state(db, submission_id)
    return None if state is None else redact_state(state, staff=staff)
