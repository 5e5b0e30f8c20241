"""Import a problem package (folder or zip): check it, optionally verify it, store it, upsert it.

Nothing is written (no zip in the store, no row) unless every check passed; the database
transaction is committed here, last. Re-importing a slug keeps the problem's id and its
submissions, points it at the new package hash and records another PackageVersion.

Exceptions::

    ImportRefused   the package is malformed, too large, or failed verification
"""

from __future__ import annotations

import asyncio
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from service.config import Settings
from service.evaluator import (
    DEFAULT_TIME_LIMIT,
    SLUG,
    PackageError,
    ProblemPackage,
    Sandbox,
    SandboxUnavailable,
    VerifyError,
    VerifyReport,
    create_sandbox,
    load_package,
    verify,
)
from service.models import PackageVersion, Problem, User
from service.packages import PackageStore
from service.problems.statement import RenderedStatement, render_statement

PROBLEM_SET = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}")
DEFAULT_PROBLEM_SET = "default"
#: Slugs that name pages under /problems/ and so cannot name a problem.
RESERVED_SLUGS = frozenset({"import"})
#: How many mismatched submissions a refused verification names.
MAX_LISTED_MISMATCHES = 10


class ImportRefused(Exception):
    """The package cannot be imported; the message says what to change."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ImportResult:
    """What an import did: the problem row, whether it was new, and the stored package."""

    problem: Problem
    created: bool
    package_hash: str
    changed: bool
    verification: VerifyReport | None = None


@dataclass(frozen=True)
class _Checked:
    """A package that loaded, with its statement rendered."""

    package: ProblemPackage
    statement: RenderedStatement


def slug_from_filename(filename: str) -> str:
    """Return a problem slug made from an uploaded file's name (``package`` when none fits)."""
    stem = Path(filename).name
    if stem.lower().endswith(".zip"):
        stem = stem[:-4]
    slug = re.sub(r"[^a-z0-9_-]+", "-", stem.lower()).strip("-_")[:64].strip("-_")
    return slug if SLUG.fullmatch(slug) else "package"


def check_problem_set(name: str) -> str:
    """Return the problem set name, stripped, or raise ImportRefused saying what is allowed."""
    name = name.strip()
    if not PROBLEM_SET.fullmatch(name):
        raise ImportRefused(
            f"problem set {name!r}: use 1-64 letters, digits, spaces, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return name


async def import_upload(
    db: AsyncSession,
    settings: Settings,
    filename: str,
    stream: IO[bytes],
    **options: Any,
) -> ImportResult:
    """Import an uploaded package zip (web form or API): staged in a temp dir, then removed.

    ``options`` are those of :func:`import_package`.
    """
    staging = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="verdict-upload-"))
    try:
        archive = staging / f"{slug_from_filename(filename)}.zip"
        await asyncio.to_thread(_save_stream, stream, archive)
        return await import_package(db, settings, archive, **options)
    finally:
        await asyncio.to_thread(shutil.rmtree, staging, ignore_errors=True)


def _save_stream(stream: IO[bytes], target: Path) -> None:
    with target.open("wb") as sink:
        shutil.copyfileobj(stream, sink, 1 << 20)


async def import_package(
    db: AsyncSession,
    settings: Settings,
    source: Path,
    *,
    imported_by: User | None = None,
    verify: bool = False,
    hidden: bool | None = None,
    problem_set: str | None = None,
    slug: str | None = None,
    sandbox: Sandbox | None = None,
) -> ImportResult:
    """Import the package at ``source`` and commit; raise ImportRefused with nothing stored.

    ``hidden`` and ``problem_set`` left as None keep an existing problem's values (a new
    problem is visible, in the default set).
    """
    source = Path(source)
    if slug is not None and not SLUG.fullmatch(slug):
        raise ImportRefused(
            f"slug {slug!r}: use 1-64 lowercase letters, digits, '-' or '_', "
            "starting with a letter or digit"
        )
    if problem_set is not None:
        problem_set = check_problem_set(problem_set)
    await asyncio.to_thread(_check_source, source, settings.max_package_bytes)

    staging = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="verdict-import-"))
    try:
        checked = await asyncio.to_thread(_load_and_render, source, staging / "package")
        package = checked.package
        slug = slug or package.slug
        if slug in RESERVED_SLUGS:
            raise ImportRefused(
                f"slug '{slug}' is reserved for a page of the site; choose another slug"
            )
        report = await _verify(settings, package, sandbox) if verify else None
        store = PackageStore(settings.package_dir)
        package_hash, size = await asyncio.to_thread(store.put_file, package.root)
    finally:
        await asyncio.to_thread(shutil.rmtree, staging, ignore_errors=True)

    return await _upsert(
        db,
        slug=slug,
        checked=checked,
        report=report,
        package_hash=package_hash,
        size=size,
        imported_by=imported_by,
        hidden=hidden,
        problem_set=problem_set,
    )


def _check_source(source: Path, max_bytes: int) -> None:
    if source.is_dir():
        return
    if not source.is_file():
        raise ImportRefused(f"{source}: no such package (expected a folder or a .zip file)")
    size = source.stat().st_size
    if size > max_bytes:
        raise ImportRefused(
            f"{source.name}: the zip is {size / (1 << 20):.1f} MiB; at most "
            f"{max_bytes / (1 << 20):.1f} MiB is accepted (MAX_PACKAGE_BYTES)"
        )


def _load_and_render(source: Path, extract_to: Path) -> _Checked:
    try:
        package = load_package(source, extract_to=None if source.is_dir() else extract_to)
    except PackageError as error:
        raise ImportRefused(str(error)) from None
    return _Checked(package, render_statement(package))


async def _verify(
    settings: Settings, package: ProblemPackage, sandbox: Sandbox | None
) -> VerifyReport:
    own_sandbox = sandbox is None
    active: Sandbox
    if sandbox is not None:
        active = sandbox
    else:
        try:
            # Opening a sandbox may build its helper (bwrap compiles slotd.c): off the loop.
            active = await asyncio.to_thread(
                create_sandbox, settings.sandbox, settings.evaluator_concurrency
            )
        except SandboxUnavailable as error:
            raise ImportRefused(f"cannot verify: the sandbox is unavailable ({error})") from None
    try:
        report = await verify(active, package)
    except VerifyError as error:
        raise ImportRefused(f"cannot verify: {error}") from None
    finally:
        if own_sandbox:
            await _close(active)
    if report.judged == 0:
        raise ImportRefused(
            "verify judged no submission (none in a language offered here); "
            "import without verification or add submissions/accepted/"
        )
    if not report.inputs.ok:
        lines = [
            f"{item.test}: input validator {item.validator} {item.message.splitlines()[0]}"
            for item in report.inputs.failures
        ]
        if len(lines) > MAX_LISTED_MISMATCHES:
            more = len(lines) - MAX_LISTED_MISMATCHES
            lines = [*lines[:MAX_LISTED_MISMATCHES], f"and {more} more"]
        raise ImportRefused(
            f"verification failed: {len(report.inputs.failures)} test input(s) fail the "
            "package's input validators: " + "; ".join(lines)
        )
    if not report.ok:
        lines = [
            f"{item.path}: {item.problem}"
            if item.problem
            else f"{item.path}: expected {'/'.join(item.expected)}, got "
            f"{item.verdict.value if item.verdict else '?'}"
            + (f" ({item.message.splitlines()[0]})" if item.message.strip() else "")
            for item in report.submissions
            if item.ok is False
        ]
        count = len(lines)
        if len(lines) > MAX_LISTED_MISMATCHES:
            more = len(lines) - MAX_LISTED_MISMATCHES
            lines = [*lines[:MAX_LISTED_MISMATCHES], f"and {more} more"]
        raise ImportRefused(
            f"verification failed: {count} submission(s) got a verdict they do not "
            "expect or have an unreadable expectation: " + "; ".join(lines)
        )
    return report


async def _close(sandbox: Any) -> None:
    aclose = getattr(sandbox, "aclose", None)
    if aclose is not None:
        await aclose()


async def _upsert(
    db: AsyncSession,
    *,
    slug: str,
    checked: _Checked,
    report: VerifyReport | None,
    package_hash: str,
    size: int,
    imported_by: User | None,
    hidden: bool | None,
    problem_set: str | None,
) -> ImportResult:
    package = checked.package
    row = (await db.execute(select(Problem).where(Problem.slug == slug))).scalar_one_or_none()
    created = row is None
    unchanged = row is not None and row.package_hash == package_hash
    if package.limits.time_limit is not None:
        time_limit = package.limits.time_limit
    elif report is not None:
        time_limit = report.time_limit_s
    elif row is not None and unchanged:
        time_limit = row.time_limit  # measured by an earlier verified import of these bytes
    else:
        time_limit = DEFAULT_TIME_LIMIT
    if row is None:
        row = Problem(
            slug=slug, hidden=bool(hidden), problem_set=problem_set or DEFAULT_PROBLEM_SET
        )
        db.add(row)
    else:
        if hidden is not None:
            row.hidden = hidden
        if problem_set is not None:
            row.problem_set = problem_set
    row.name = package.name
    row.package_hash = package_hash
    row.time_limit = time_limit
    row.memory_mb = package.limits.memory_mb
    row.output_mb = package.limits.output_mb
    row.test_count = len(package.tests)
    row.sample_count = len(package.samples)
    row.test_names = [test.name for test in package.tests]
    row.validation = package.validation
    row.statement_kind = checked.statement.kind
    row.statement_html = checked.statement.html
    try:
        await db.flush()
        if not unchanged:
            db.add(
                PackageVersion(
                    problem_id=row.id,
                    package_hash=package_hash,
                    size_bytes=size,
                    imported_by_id=None if imported_by is None else imported_by.id,
                    verified=report is not None,
                )
            )
        elif report is not None:
            await _mark_verified(db, row.id, package_hash)
        await db.commit()
    except IntegrityError:
        await db.rollback()
        raise ImportRefused(
            f"another import of '{slug}' finished at the same time; import again"
        ) from None
    return ImportResult(row, created, package_hash, not unchanged, report)


async def _mark_verified(db: AsyncSession, problem_id: int, package_hash: str) -> None:
    latest = (
        await db.execute(
            select(PackageVersion)
            .where(
                PackageVersion.problem_id == problem_id,
                PackageVersion.package_hash == package_hash,
            )
            .order_by(PackageVersion.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    if latest is not None:
        latest.verified = True
