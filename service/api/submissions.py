"""The API's submissions: submit (one or a batch), list, read, rejudge, and follow live (SSE)."""

from __future__ import annotations

import json
import weakref
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

from quart import Quart, ResponseReturnValue, current_app, url_for
from quart_auth import login_required
from quart_schema import validate_querystring, validate_request, validate_response
from werkzeug.exceptions import NotFound

from service.api.models import (
    BatchIn,
    BatchItemOut,
    BatchOut,
    SubmissionIn,
    SubmissionOut,
    SubmissionPage,
    SubmissionQuery,
    SubmissionSummaryOut,
)
from service.api.views import ID, bp, errors
from service.auth.current import Surface, require_account, staff_required
from service.db import get_db
from service.feedback.queries import shown_outcomes
from service.models import User
from service.submissions import queries
from service.submissions.live import (
    Change,
    LiveSlot,
    Quiet,
    Snapshot,
    follow,
    get_live_connections,
)
from service.submissions.queries import SubmissionFilters
from service.submissions.service import SubmissionItem, rejudge, submit, submit_batch
from service.submissions.state import visible_state
from service.submissions.validation import SubmissionRefused


async def _visible_state(submission_id: int, account: User) -> SubmissionOut:
    async with get_db().session() as db:
        state = await visible_state(db, submission_id, staff=account.is_staff)
    found = None if state is None else SubmissionOut.model_validate(state)
    if found is None or (found.user.id != account.id and not account.is_staff):
        raise NotFound(f"There is no submission {submission_id}.")
    return found


def _location(submission_id: int) -> dict[str, str]:
    return {"Location": url_for("api.get_submission", submission_id=submission_id)}


@bp.post("/submissions")
@login_required
@errors(400, 401, 404, 413, 422, 429)
@validate_request(SubmissionIn)
@validate_response(SubmissionOut, 202)
async def create_submission(data: SubmissionIn) -> tuple[SubmissionOut, int, dict[str, str]]:
    """Submit a program: 202 with the queued submission and its Location."""
    account = await require_account(Surface.API)
    submission = await submit(
        current_app, account, data.problem, data.language, data.encoded_files()
    )
    state = await _visible_state(submission.id, account)
    return state, 202, _location(submission.id)


@bp.post("/submissions/batch")
@login_required
@errors(400, 401, 422)
@validate_request(BatchIn)
@validate_response(BatchOut)
async def create_submissions(data: BatchIn) -> BatchOut:
    """Submit up to 20 programs; each result is 202 with its submission, or an error."""
    account = await require_account(Surface.API)
    items = [
        SubmissionItem(item.problem, item.language, item.encoded_files())
        for item in data.submissions
    ]
    results: list[BatchItemOut] = []
    for outcome in await submit_batch(current_app, account, items):
        if isinstance(outcome, SubmissionRefused):
            results.append(
                BatchItemOut(status=outcome.status, error=outcome.code, message=outcome.message)
            )
        else:
            state = await _visible_state(outcome.id, account)
            results.append(BatchItemOut(status=202, submission=state))
    return BatchOut(results=results)


@bp.get("/submissions")
@login_required
@errors(401, 422)
@validate_querystring(SubmissionQuery)
@validate_response(SubmissionPage)
async def list_submissions(query_args: SubmissionQuery) -> SubmissionPage:
    """List your submissions (staff: everyone's), newest first, filtered and paginated."""
    account = await require_account(Surface.API)
    filters = SubmissionFilters.from_api_args(
        account,
        problem=query_args.problem,
        user=query_args.user,
        verdict=query_args.verdict,
        language=query_args.language,
    )
    async with get_db().session() as db:
        total = await queries.count_submissions(db, filters)
        submissions = await queries.list_submissions(
            db,
            filters,
            limit=query_args.per_page,
            offset=(query_args.page - 1) * query_args.per_page,
        )
        outcomes = await shown_outcomes(db, submissions, staff=account.is_staff)
    return SubmissionPage(
        items=[
            SubmissionSummaryOut.of(submission, *outcomes[submission.id])
            for submission in submissions
        ],
        page=query_args.page,
        per_page=query_args.per_page,
        total=total,
    )


@bp.get(f"/submissions/<{ID}:submission_id>")
@login_required
@errors(401, 404)
@validate_response(SubmissionOut)
async def get_submission(submission_id: int) -> SubmissionOut:
    """Return a submission with each test's result (yours; staff: anyone's)."""
    return await _visible_state(submission_id, await require_account(Surface.API))


@bp.post(f"/submissions/<{ID}:submission_id>/rejudge")
@staff_required
@errors(401, 403, 404)
@validate_response(SubmissionOut, 202)
async def rejudge_submission(submission_id: int) -> tuple[SubmissionOut, int, dict[str, str]]:
    """Judge a submission again (staff); the earlier judgings are kept."""
    account = await require_account(Surface.API)
    await rejudge(current_app, submission_id, account)
    state = await _visible_state(submission_id, account)
    return state, 202, _location(submission_id)


@bp.get(f"/submissions/<{ID}:submission_id>/events")
@login_required
@errors(401, 404, 429)
async def submission_events(submission_id: int) -> ResponseReturnValue:
    """Stream a submission's live events as Server-Sent Events, starting with a snapshot."""
    account = await require_account(Surface.API)
    await _visible_state(submission_id, account)  # 404 before the stream starts
    app: Quart = current_app._get_current_object()
    slot = get_live_connections(app).reserve(account.id)  # 429 before the stream starts
    stream = _event_stream(app, submission_id, staff=account.is_staff, slot=slot)
    # A client gone before the first byte leaves the stream unstarted: its finally never
    # runs, so the slot is also given back when the generator is collected.
    weakref.finalize(stream, slot.release)
    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    response = current_app.response_class(stream, mimetype="text/event-stream", headers=headers)
    response.timeout = None  # the stream lasts as long as the judging
    return response


async def _event_stream(
    app: Quart, submission_id: int, *, staff: bool, slot: LiveSlot
) -> AsyncIterator[bytes]:
    with slot:
        async with aclosing(follow(app, submission_id, staff=staff)) as feed:
            async for item in feed:
                match item:
                    case Snapshot(state=None):  # the submission is gone
                        return
                    case Snapshot(state=state):
                        out = SubmissionOut.model_validate(state).model_dump(mode="json")
                        yield _sse("snapshot", out)
                    case Change():
                        yield _sse(item.kind, item.event)
                    case Quiet():  # no event for a while, and the state is unchanged
                        yield b": keep-alive\n\n"


def _sse(kind: str, data: dict[str, Any]) -> bytes:
    payload = json.dumps(data, separators=(",", ":"), default=str)
    return f"event: {kind}\ndata: {payload}\n\n".encode()
