"""The ``submissions`` blueprint: the submit form's target, the lists, a submission's page,
its source, staff rejudges, and live verdicts over a WebSocket (with a JSON polling fallback).

Views parse the request, call the pipeline (``service.submissions.service``) or a query
(``service.submissions.queries``), and render; validation of what is submitted lives in the
pipeline, the live feed in ``service.submissions.live``.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Mapping
from contextlib import aclosing
from typing import Any
from urllib.parse import urlencode

from quart import (
    Blueprint,
    Quart,
    Response,
    ResponseReturnValue,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
    websocket,
)
from sqlalchemy.ext.asyncio import AsyncSession
from werkzeug.exceptions import NotFound

from service.auth import (
    CLOSE_POLICY_VIOLATION,
    Surface,
    login_required,
    require_account,
    staff_required,
)
from service.config import get_settings
from service.db import get_db
from service.evaluator import OfferedLanguage, Verdict, offered_languages
from service.feedback.queries import shown_outcomes
from service.models import Status, Submission, User
from service.problems.queries import get_visible_problem
from service.security import origin_allowed
from service.submissions.download import source_download
from service.submissions.failure import download_of, first_failure
from service.submissions.form import files_from_form
from service.submissions.highlight import get_highlighter, stylesheet
from service.submissions.live import (
    Change,
    Snapshot,
    TooManyLiveConnections,
    follow,
    get_live_connections,
)
from service.submissions.queries import (
    SubmissionFilters,
    count_submissions,
    get_visible_submission,
    judging_history,
    list_submissions,
    parse_page,
    submission_owner,
)
from service.submissions.service import SubmissionRefused, rejudge, rejudge_problem, submit
from service.submissions.state import viewed_state, visible_state

bp = Blueprint("submissions", __name__)

PAGE_SIZE = 50
PYGMENTS_CSS_MAX_AGE = 24 * 3600
#: The WebSocket close code of "no such submission" (ours; 1008 refuses everything else).
CLOSE_NOT_FOUND = 4404
#: The WebSocket close code of "you hold too many live feeds" (ours, after HTTP's 429).
CLOSE_TOO_MANY = 4429


# ---------------------------------------------------------------- submitting


@bp.post("/problems/<slug>/submissions")
@login_required
async def create(slug: str) -> ResponseReturnValue:
    """Submit the form's source text or uploaded files, then show the submission."""
    account = await require_account(Surface.PAGE)
    form = await request.form
    uploads = (await request.files).getlist("files")
    language = form.get("language", "").strip()
    source = form.get("source", "")
    limit = get_settings(current_app).max_source_bytes
    try:
        files = files_from_form(source, uploads, limit)
        submission = await submit(current_app, account, slug, language, files)
    except SubmissionRefused as refusal:
        return await _refused(slug, refusal, language, source)
    return redirect(url_for("submissions.show", submission_id=submission.id), 303)


async def _refused(
    slug: str, refusal: SubmissionRefused, language: str, source: str
) -> ResponseReturnValue:
    headers: dict[str, str] = {}
    if refusal.retry_after is not None:
        headers["Retry-After"] = str(max(1, math.ceil(refusal.retry_after)))
    show_form = refusal.status != 404
    page = await render_template(
        "submissions/refused.html",
        status=refusal.status,
        message=refusal.message,
        slug=slug,
        show_form=show_form,
        languages=await _languages() if show_form else (),
        chosen_language=language,
        source="" if refusal.status == 413 else source,  # too large to send back and again
        retry_after=headers.get("Retry-After"),
    )
    return page, refusal.status, headers


async def _languages() -> tuple[OfferedLanguage, ...]:
    # The first call probes the toolchains (subprocesses): keep it off the event loop.
    return await asyncio.to_thread(offered_languages)


# ---------------------------------------------------------------- lists


@bp.get("/submissions")
@login_required
async def index() -> ResponseReturnValue:
    """List the user's own submissions (staff: everyone's, filterable), newest first."""
    account = await require_account(Surface.PAGE)
    filters = SubmissionFilters.from_page_args(request.args, account)
    page = parse_page(request.args)
    async with get_db().session() as db:
        total = await count_submissions(db, filters)
        submissions = await list_submissions(
            db, filters, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
        )
        outcomes = await shown_outcomes(db, submissions, staff=account.is_staff)
    pages = max(1, math.ceil(total / PAGE_SIZE))
    return await render_template(
        "submissions/index.html",
        submissions=submissions,
        outcomes=outcomes,
        filters=filters,
        page=page,
        pages=pages,
        total=total,
        page_url=filters.page_url,
        verdicts=list(Verdict.__members__),
        statuses=[member.value for member in Status],
        languages=await _languages(),
        staff=account.is_staff,
    )


# ---------------------------------------------------------------- one submission


@bp.get("/submissions/<int:submission_id>")
@login_required
async def show(submission_id: int) -> ResponseReturnValue:
    """Show a submission: progress, test results, compile output and the highlighted source."""
    account = await require_account(Surface.PAGE)
    async with get_db().session() as db:
        submission = await _visible_submission(db, submission_id, account, with_files=True)
        viewed = await viewed_state(db, submission_id, staff=account.is_staff)
        if viewed is None:
            raise NotFound()
        state, disclosure = viewed
        failure = await first_failure(current_app, db, state, disclosure)
        history = await judging_history(db, submission_id) if account.is_staff else []
    offered = [offered.language for offered in await _languages()]
    sources = await get_highlighter(current_app).render(
        [(file.name, file.content) for file in submission.files], submission.language, offered
    )
    return await render_template(
        "submissions/show.html",
        submission=submission,
        state=state,
        tests=_test_rows(state),
        failure=failure,
        sources=sources,
        history=history,
        staff=account.is_staff,
    )


def _test_rows(state: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Return one row per test: the finished ones, then placeholders up to the total."""
    finished = {int(test["index"]): test for test in state.get("tests") or []}
    total = max([int(state.get("tests_total") or 0), *[index + 1 for index in finished]])
    return [finished.get(index, {"index": index, "pending": True}) for index in range(total)]


@bp.get("/submissions/pygments.css")
async def pygments_css() -> ResponseReturnValue:
    """Serve the syntax-highlighting colours (cacheable: they change only with Pygments)."""
    response = Response(stylesheet(), mimetype="text/css")
    response.cache_control.public = True
    response.cache_control.max_age = PYGMENTS_CSS_MAX_AGE
    return response


@bp.get("/submissions/<int:submission_id>/state")
@login_required
async def state(submission_id: int) -> ResponseReturnValue:
    """Return the submission's state as JSON (the live page polls this without WebSockets)."""
    account = await require_account(Surface.PAGE)
    async with get_db().session() as db:
        await _visible_submission(db, submission_id, account)
        current = await visible_state(db, submission_id, staff=account.is_staff)
    if current is None:
        raise NotFound()
    response = Response(_to_json(current), mimetype="application/json")
    response.cache_control.no_store = True
    return response


@bp.get("/submissions/<int:submission_id>/tests/<kind>/<path:name>")
@login_required
async def test_file(submission_id: int, kind: str, name: str) -> ResponseReturnValue:
    """Download a test's input, answer or your output, where the feedback policy shows it."""
    account = await require_account(Surface.PAGE)
    async with get_db().session() as db:
        submission = await _visible_submission(db, submission_id, account)
        viewed = await viewed_state(db, submission_id, staff=account.is_staff)
        if viewed is None:
            raise NotFound()
        content = await download_of(current_app, db, viewed[0], viewed[1], name, kind)
    if content is None:
        raise NotFound(f"There is no {kind} of a test {name!r} you may see on this submission.")
    suffix = {"input": "in", "answer": "ans", "output": "out"}[kind]
    filename = f"{submission.problem.slug}-{name.replace('/', '-')}.{suffix}"
    response = Response(content, mimetype="text/plain")
    response.headers.set("Content-Disposition", "attachment", filename=filename)
    return response


@bp.get("/submissions/<int:submission_id>/source")
@login_required
async def source(submission_id: int) -> ResponseReturnValue:
    """Download the source: the single file as text, or every file in a zip."""
    account = await require_account(Surface.PAGE)
    async with get_db().session() as db:
        submission = await _visible_submission(db, submission_id, account, with_files=True)
    download = source_download(
        submission_id, [(file.name, file.content) for file in submission.files]
    )
    response = Response(download.content, mimetype=download.mimetype)
    response.headers.set("Content-Disposition", "attachment", filename=download.filename)
    return response


# ---------------------------------------------------------------- staff: rejudge


@bp.post("/submissions/<int:submission_id>/rejudge")
@staff_required
async def rejudge_one(submission_id: int) -> ResponseReturnValue:
    """Judge a submission again (a new judging; the old ones stay in the history)."""
    account = await require_account(Surface.PAGE)
    try:
        await rejudge(current_app, submission_id, account)
    except SubmissionRefused:  # no such submission
        raise NotFound() from None
    await flash(f"Submission {submission_id} is queued for rejudging.", "info")
    return redirect(url_for("submissions.show", submission_id=submission_id), 303)


#: The form field that confirms "rejudge every submission" (without it a page asks first).
CONFIRM_FIELD = "confirmed"


@bp.post("/problems/<slug>/rejudge")
@staff_required
async def rejudge_all(slug: str) -> ResponseReturnValue:
    """Judge every submission of a problem again, once the confirmation page said yes."""
    account = await require_account(Surface.PAGE)
    async with get_db().session() as db:
        problem = await get_visible_problem(db, slug, account)  # staff see every problem
        if problem is None:
            raise NotFound()
        if (await request.form).get(CONFIRM_FIELD) != "yes":
            total = await count_submissions(db, SubmissionFilters(problem=problem.slug))
            return await render_template(
                "submissions/confirm_rejudge.html", problem=problem, total=total
            )
    count = await rejudge_problem(current_app, problem.id, account)
    noun = "submission" if count == 1 else "submissions"
    await flash(f"{count} {noun} of {problem.name} queued for rejudging.", "info")
    return redirect("/submissions?" + urlencode({"problem": slug}), 303)


# ---------------------------------------------------------------- live verdicts


@bp.websocket("/submissions/<int:submission_id>/live")
async def live(submission_id: int) -> None:
    """Send a snapshot of the submission, then each change until it is done (``follow``)."""
    public_url = get_settings(current_app).public_url
    if not origin_allowed(websocket.headers.get("Origin"), public_url):
        await websocket.close(CLOSE_POLICY_VIOLATION, "cross-site WebSocket refused")
        return
    account = await require_account(Surface.WEBSOCKET)
    async with get_db().session() as db:
        owner_id = await submission_owner(db, submission_id)
    if owner_id is None or not (account.is_staff or owner_id == account.id):
        await websocket.close(CLOSE_NOT_FOUND, "no such submission")
        return
    app: Quart = current_app._get_current_object()
    try:
        slot = get_live_connections(app).reserve(account.id)
    except TooManyLiveConnections:
        await websocket.close(CLOSE_TOO_MANY, "too many live connections")
        return
    with slot:
        await websocket.accept()
        async with aclosing(follow(app, submission_id, staff=account.is_staff)) as feed:
            async for item in feed:
                if isinstance(item, Snapshot):
                    await websocket.send(_to_json({"type": "snapshot", "state": item.state}))
                elif isinstance(item, Change):
                    await websocket.send(_to_json(item.event))
        await websocket.close(1000)


# ---------------------------------------------------------------- helpers


async def _visible_submission(
    db: AsyncSession, submission_id: int, account: User, *, with_files: bool = False
) -> Submission:
    """Return the submission if ``account`` may see it; 404 otherwise (existence not leaked)."""
    submission = await get_visible_submission(db, submission_id, account, with_files=with_files)
    if submission is None:
        raise NotFound()
    return submission


def _to_json(value: Any) -> str:
    # The state is JSON-ready; str() is a fallback for any odd value in a worker's event.
    return json.dumps(value, default=str, separators=(",", ":"))
