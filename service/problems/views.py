"""The ``problems`` blueprint: the list, a problem's page, its PDF statement, staff import and
hide/show. Views parse the request, call the importer or a query, and render."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from quart import (
    Blueprint,
    ResponseReturnValue,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import NotFound

from service.auth import Surface, login_required, require_account, staff_required
from service.config import get_settings
from service.db import get_db
from service.evaluator import OfferedLanguage, PackageError, ProblemPackage, offered_languages
from service.feedback.policy import FeedbackPolicy, PolicyError
from service.feedback.queries import policy_of, set_policy, shown_outcomes
from service.models import Problem, Submission, User
from service.packages import MissingPackage, load_stored
from service.problems.importer import ImportRefused, import_upload
from service.problems.queries import get_visible_problem, list_visible_problems, set_hidden
from service.problems.statement import statement_pdf

log = logging.getLogger(__name__)

bp = Blueprint("problems", __name__)

#: Sample files longer than this are shown cut, with a note.
SAMPLE_PREVIEW_BYTES = 64 * 1024
RECENT_SUBMISSIONS = 10


@dataclass(frozen=True)
class SampleText:
    """A sample test as shown on the page."""

    name: str
    input: str
    answer: str
    input_cut: bool
    answer_cut: bool


async def _visible_or_404(slug: str, user: User) -> Problem:
    async with get_db().session() as db:
        problem = await get_visible_problem(db, slug, user)
    if problem is None:
        raise NotFound(f"There is no problem '{slug}'. Check the link or pick one from the list.")
    return problem


@bp.get("/problems")
@login_required
async def problem_list() -> ResponseReturnValue:
    """List the problems the signed-in person may see."""
    user = await require_account(Surface.PAGE)
    async with get_db().session() as db:
        problems = await list_visible_problems(db, user)
    return await render_template("problems/list.html", problems=problems)


@bp.get("/problems/<slug>")
@login_required
async def problem_page(slug: str) -> ResponseReturnValue:
    """Show a problem: statement, limits, samples, the submit form and recent submissions."""
    user = await require_account(Surface.PAGE)
    problem = await _visible_or_404(slug, user)
    async with get_db().session() as db:
        recent = (
            (
                await db.execute(
                    select(Submission)
                    .options(selectinload(Submission.problem))
                    .where(Submission.user_id == user.id, Submission.problem_id == problem.id)
                    .order_by(Submission.created_at.desc(), Submission.id.desc())
                    .limit(RECENT_SUBMISSIONS)
                )
            )
            .scalars()
            .all()
        )
        outcomes = await shown_outcomes(db, recent, staff=user.is_staff)
    samples = await _samples(problem)
    languages: Sequence[OfferedLanguage] = await asyncio.to_thread(offered_languages)
    return await render_template(
        "problems/page.html",
        problem=problem,
        samples=samples,
        samples_missing=samples is None,
        languages=languages,
        recent=recent,
        outcomes=outcomes,
        feedback=policy_of(problem).describe(),
        policy_json=json.dumps(policy_of(problem).to_json(), indent=2),
        preview_kib=SAMPLE_PREVIEW_BYTES // 1024,
    )


async def _package(problem: Problem) -> ProblemPackage | None:
    try:
        return await load_stored(get_settings(current_app), problem.package_hash)
    except (MissingPackage, PackageError, OSError) as error:
        log.warning(
            "problem %s: cannot load package %s: %s", problem.slug, problem.package_hash, error
        )
        return None


async def _samples(problem: Problem) -> list[SampleText] | None:
    package = await _package(problem)
    if package is None:
        return None
    return await asyncio.to_thread(_read_samples, package)


def _read_samples(package: ProblemPackage) -> list[SampleText]:
    samples = []
    for test in package.samples:
        given, given_cut = _preview(test.input)
        answer, answer_cut = _preview(test.answer)
        samples.append(SampleText(test.name.split("/")[-1], given, answer, given_cut, answer_cut))
    return samples


def _preview(path: Path) -> tuple[str, bool]:
    with path.open("rb") as source:
        data = source.read(SAMPLE_PREVIEW_BYTES + 1)
    cut = len(data) > SAMPLE_PREVIEW_BYTES
    return data[:SAMPLE_PREVIEW_BYTES].decode("utf-8", errors="replace"), cut


@bp.get("/problems/<slug>/statement.pdf")
@login_required
async def statement_pdf_file(slug: str) -> ResponseReturnValue:
    """Send the problem's PDF statement, shown inline by the browser."""
    problem = await _visible_or_404(slug, await require_account(Surface.PAGE))
    package = await _package(problem) if problem.statement_kind == "pdf" else None
    pdf = None if package is None else statement_pdf(package)
    if pdf is None:
        raise NotFound(f"Problem '{slug}' has no PDF statement.")
    response = await send_file(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{problem.slug}.pdf"'
    return response


@bp.route("/problems/import", methods=["GET", "POST"])
@staff_required
async def import_form() -> ResponseReturnValue:
    """Show the import form, or import the uploaded package zip."""
    if request.method == "GET":
        return await render_template("problems/import.html", form={})
    form = await request.form
    files = await request.files
    upload = files.get("package")
    chosen = {
        "problem_set": form.get("problem_set", "").strip(),
        "slug": form.get("slug", "").strip(),
        "verify": bool(form.get("verify")),
        "hidden": bool(form.get("hidden")),
    }
    if upload is None or not upload.filename:
        return await _import_error("Choose a package .zip file to upload.", chosen)
    try:
        async with get_db().session() as db:
            result = await import_upload(
                db,
                get_settings(current_app),
                upload.filename,
                upload.stream,
                imported_by=await require_account(Surface.PAGE),
                verify=bool(chosen["verify"]),
                hidden=True if chosen["hidden"] else None,
                problem_set=str(chosen["problem_set"]) or None,
                slug=str(chosen["slug"]) or None,
            )
    except ImportRefused as refused:
        return await _import_error(refused.message, chosen)
    problem = result.problem
    if result.created:
        message = f"Imported {problem.name} ({problem.slug})."
    elif result.changed:
        message = f"Updated {problem.name} ({problem.slug}) to package {result.package_hash[:12]}."
    else:
        message = f"{problem.name} ({problem.slug}) is unchanged: the same package is in place."
    if result.verification is not None:
        report = result.verification
        message += f" Verified: {report.matched} of {report.judged} submissions as expected."
    await flash(message, "info")
    return redirect(url_for("problems.problem_page", slug=problem.slug))


async def _import_error(message: str, chosen: dict[str, object]) -> ResponseReturnValue:
    page = await render_template("problems/import.html", error=message, form=chosen)
    return page, 400


@bp.post("/problems/<slug>/hide")
@staff_required
async def hide(slug: str) -> ResponseReturnValue:
    """Hide a problem from students."""
    return await _set_hidden(slug, True)


@bp.post("/problems/<slug>/show")
@staff_required
async def show(slug: str) -> ResponseReturnValue:
    """Show a hidden problem to students again."""
    return await _set_hidden(slug, False)


async def _set_hidden(slug: str, hidden: bool) -> ResponseReturnValue:
    async with get_db().session() as db:
        problem = await set_hidden(db, slug, hidden)
        if problem is None:
            raise NotFound(f"There is no problem '{slug}'.")
        await db.commit()
    state = "hidden from students" if hidden else "visible to students"
    await flash(f"{problem.name} ({problem.slug}) is now {state}.", "info")
    return redirect(_back_to(slug))


@bp.post("/problems/<slug>/feedback")
@staff_required
async def set_feedback(slug: str) -> ResponseReturnValue:
    """Set the problem's feedback policy from the staff form (the JSON the API takes)."""
    account = await require_account(Surface.PAGE)
    text = (await request.form).get("policy", "").strip() or '{"groups": {}}'
    try:
        policy = FeedbackPolicy.from_json(json.loads(text))
    except json.JSONDecodeError as error:
        await flash(
            f"The policy is not JSON ({error.msg} at line {error.lineno}); unchanged.", "error"
        )
        return redirect(url_for("problems.problem_page", slug=slug), 303)
    except PolicyError as error:
        await flash(f"The policy was not changed: {error}.", "error")
        return redirect(url_for("problems.problem_page", slug=slug), 303)
    async with get_db().session() as db:
        problem = await get_visible_problem(db, slug, account)
        if problem is None:
            raise NotFound(f"There is no problem '{slug}'.")
        await set_policy(db, problem, policy)
        await db.commit()
    await flash(f"Feedback policy saved: {policy.describe()}", "info")
    return redirect(url_for("problems.problem_page", slug=slug), 303)


def _back_to(slug: str) -> str:
    """Return where a hide/show button came from: the list, else the problem's page."""
    if request.args.get("from") == "list":
        return url_for("problems.problem_list")
    return url_for("problems.problem_page", slug=slug)
