"""The API's problems: list them, read one, and import a package (staff)."""

from __future__ import annotations

from pydantic import ValidationError
from quart import current_app, request, url_for
from quart_auth import login_required
from quart_schema import RequestSchemaValidationError, validate_querystring, validate_response
from werkzeug.exceptions import NotFound

from service.api.errors import ApiError
from service.api.models import (
    FeedbackOut,
    ImportForm,
    ImportOut,
    PageQuery,
    ProblemDetailOut,
    ProblemOut,
    ProblemPage,
)
from service.api.views import bp, errors
from service.auth.current import Surface, require_account, staff_required
from service.config import get_settings
from service.db import get_db
from service.feedback.policy import FeedbackPolicy, PolicyError
from service.feedback.queries import policy_of, set_policy
from service.problems.importer import import_upload
from service.problems.queries import (
    count_visible_problems,
    get_visible_problem,
    list_visible_problems,
)


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


@bp.get("/problems/<slug>/feedback")
@login_required
@errors(401, 404)
@validate_response(FeedbackOut)
async def get_feedback(slug: str) -> FeedbackOut:
    """Return the problem's feedback policy: what students see of each test group, and when."""
    account = await require_account(Surface.API)
    async with get_db().session() as db:
        problem = await get_visible_problem(db, slug, account)
    if problem is None:
        raise NotFound(f"There is no problem {slug!r}.")
    return FeedbackOut.of(policy_of(problem))


@bp.put("/problems/<slug>/feedback")
@staff_required
@errors(400, 401, 403, 404, 422)
@validate_response(FeedbackOut)
async def set_feedback(slug: str) -> FeedbackOut:
    """Replace the problem's feedback policy (staff); groups left out follow the defaults."""
    account = await require_account(Surface.API)
    body = await request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(
            422,
            "invalid_policy",
            'Send the policy as a JSON object {"groups": {...}} with Content-Type: '
            "application/json.",
        )
    try:
        policy = FeedbackPolicy.from_json(body)
    except PolicyError as error:
        message = str(error)
        raise ApiError(422, "invalid_policy", f"{message[:1].upper()}{message[1:]}.") from None
    async with get_db().session() as db:
        problem = await get_visible_problem(db, slug, account)
        if problem is None:
            raise NotFound(f"There is no problem {slug!r}.")
        await set_policy(db, problem, policy)
        await db.commit()
    return FeedbackOut.of(policy)
