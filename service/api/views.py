"""The ``api`` blueprint: /api/v1 views, thin over the problems and submissions services.

Every view authenticates first (Bearer token, or the browser's session cookie plus the CSRF
header on state-changing calls), then validates its input against a pydantic model, and
returns a response model instance. Errors are JSON ``{"error", "message"}``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import aclosing
from typing import Any, TypeVar

from pydantic import ValidationError
from quart import Blueprint, Quart, ResponseReturnValue, current_app, request, url_for
from quart_auth import login_required
from quart_schema import (
    RequestSchemaValidationError,
    document_response,
    security_scheme,
    validate_querystring,
    validate_request,
    validate_response,
)
from werkzeug.exceptions import NotFound

from service.api.errors import ApiError, register_blueprint_handlers
from service.api.models import (
    BatchIn,
    BatchItemOut,
    BatchOut,
    ErrorOut,
    ImportForm,
    ImportOut,
    LanguageList,
    LanguageOut,
    PageQuery,
    ProblemDetailOut,
    ProblemOut,
    ProblemPage,
    SubmissionIn,
    SubmissionOut,
    SubmissionPage,
    SubmissionQuery,
    SubmissionSummaryOut,
    UserOut,
)
from service.auth.current import Surface, require_account, staff_required
from service.db import get_db
from service.evaluator.languages import offered_languages
from service.models import User
from service.problems.importer import import_upload
from service.problems.queries import (
    count_visible_problems,
    get_visible_problem,
    list_visible_problems,
)
from service.submissions import queries
from service.submissions.live import Change, Quiet, Snapshot, follow
from service.submissions.queries import MAX_ID, SubmissionFilters
from service.submissions.service import SubmissionItem, rejudge, submit, submit_batch
from service.submissions.state import visible_state
from service.submissions.validation import SubmissionRefused

bp = Blueprint("api", __name__, url_prefix="/api/v1")
register_blueprint_handlers(bp)

#: The route converter of an id in a path (larger ids are not looked up).
ID = f"int(max={MAX_ID})"

F = TypeVar("F", bound=Callable[..., Any])


def errors(*statuses: int) -> Callable[[F], F]:
    """Document that a view may answer with the JSON error body under ``statuses``."""

    def decorate(view: F) -> F:
        for status in statuses:
            view = document_response(ErrorOut, status)(view)
        return view

    return decorate


# -- who and what ---------------------------------------------------------------------------


@bp.get("/me")
@login_required
@errors(401)
@validate_response(UserOut)
async def me() -> UserOut:
    """Return the signed-in user."""
    return UserOut.of(await require_account(Surface.API))


@bp.get("/languages")
@security_scheme([])
@validate_response(LanguageList)
async def languages() -> LanguageList:
    """List the languages this server offers, with their versions."""
    offered = await asyncio.to_thread(offered_languages)
    return LanguageList(
        items=[
            LanguageOut(id=item.language.id, name=item.language.name, version=item.version)
            for item in offered
        ]
    )


# -- problems -------------------------------------------------------------------------------


@bp.get("/problems")
@login_required
@errors(401, 422)
@validate_querystring(PageQuery)
@validate_response(ProblemPage)
async def list_problems(query_args: PageQuery) -> ProblemPage:
    """List the problems you may see, by problem set and name, a page at a time."""
    account = await require_account(Surface.API)
    async with get_db().session() as db:
        total = await count_visible_problems(db, account)
        problems = await list_visible_problems(
            db,
            account,
            limit=query_args.per_page,
            offset=(query_args.page - 1) * query_args.per_page,
        )
    return ProblemPage(
        items=[ProblemOut.of(problem) for problem in problems],
        page=query_args.page,
        per_page=query_args.per_page,
        total=total,
    )


@bp.get("/problems/<slug>")
@login_required
@errors(401, 404)
@validate_response(ProblemDetailOut)
async def get_problem(slug: str) -> ProblemDetailOut:
    """Return one problem with its statement (hidden problems only for staff)."""
    account = await require_account(Surface.API)
    async with get_db().session() as db:
        problem = await get_visible_problem(db, slug, account)
    if problem is None:
        raise NotFound(f"There is no problem {slug!r}.")
    return ProblemDetailOut.of(problem)


@bp.post("/problems")
@staff_required
@errors(400, 401, 403, 413, 422)
@validate_response(ImportOut, 201)
@validate_response(ImportOut, 200)
async def import_problem() -> tuple[ImportOut, int, dict[str, str]]:
    """Import a problem package (staff): 201 for a new problem, 200 for a re-import."""
    account = await require_account(Surface.API)
    form = await request.form
    try:
        options = ImportForm.model_validate(
            {key: form[key] for key in ImportForm.model_fields if form.get(key, "") != ""}
        )
    except ValidationError as error:
        raise RequestSchemaValidationError(error) from None
    upload = (await request.files).get("package")
    if upload is None or not upload.filename:
        raise ApiError(
            422,
            "package_missing",
            "Send the package .zip as the multipart/form-data file field 'package'.",
        )
    from service.app import get_settings  # the factory imports this package

    async with get_db().session() as db:
        result = await import_upload(
            db,
            get_settings(current_app),
            upload.filename,
            upload.stream,
            imported_by=account,
            verify=options.verify,
            hidden=True if options.hidden else None,
            problem_set=options.problem_set,
            slug=options.slug,
        )
    body = ImportOut(
        problem=ProblemDetailOut.of(result.problem),
        created=result.created,
        changed=result.changed,
        package_hash=result.package_hash,
    )
    location = url_for("api.get_problem", slug=result.problem.slug)
    return body, 201 if result.created else 200, {"Location": location}


# -- submissions ----------------------------------------------------------------------------


async def _state(app: Quart, submission_id: int, *, staff: bool) -> SubmissionOut | None:
    async with get_db(app).session() as db:
        state = await visible_state(db, submission_id, staff=staff)
    return None if state is None else SubmissionOut.model_validate(state)


async def _visible_state(submission_id: int, account: User) -> SubmissionOut:
    state = await _state(current_app, submission_id, staff=account.is_staff)
    if state is None or (state.user.id != account.id and not account.is_staff):
        raise NotFound(f"There is no submission {submission_id}.")
    return state


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
    return SubmissionPage(
        items=[SubmissionSummaryOut.of(submission) for submission in submissions],
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
@errors(401, 404)
async def submission_events(submission_id: int) -> ResponseReturnValue:
    """Stream a submission's live events as Server-Sent Events, starting with a snapshot."""
    account = await require_account(Surface.API)
    await _visible_state(submission_id, account)  # 404 before the stream starts
    app: Quart = current_app._get_current_object()
    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    response = current_app.response_class(
        _event_stream(app, submission_id, staff=account.is_staff),
        mimetype="text/event-stream",
        headers=headers,
    )
    response.timeout = None  # the stream lasts as long as the judging
    return response


async def _event_stream(app: Quart, submission_id: int, *, staff: bool) -> AsyncIterator[bytes]:
    async with aclosing(follow(app, submission_id, staff=staff)) as feed:
        async for item in feed:
            match item:
                case Snapshot(state=None):  # the submission is gone
                    return
                case Snapshot(state=state):
                    yield _sse(
                        "snapshot", SubmissionOut.model_validate(state).model_dump(mode="json")
                    )
                case Change():
                    yield _sse(item.kind, item.event)
                case Quiet():  # no event for a while, and the state is unchanged
                    yield b": keep-alive\n\n"


def _sse(kind: str, data: dict[str, Any]) -> bytes:
    payload = json.dumps(data, separators=(",", ":"), default=str)
    return f"event: {kind}\ndata: {payload}\n\n".encode()
