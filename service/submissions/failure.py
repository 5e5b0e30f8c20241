"""The first failed test a viewer may see in full: its input, the expected and actual output.

Only a test at the full level of the viewer's :class:`~service.feedback.disclosure.Disclosure`
is ever read here (staff: any test), so the input and answer of a test the policy keeps back
never leave the package store. The texts are read up to :data:`READ_BYTES` for the page; the
downloads (:func:`test_data`) serve the whole input and answer, and the program's output as
far as it was kept (``OUTPUT_HEAD``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from quart import Quart
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.config import get_settings
from service.evaluator import PackageError, TestCase
from service.feedback.diff import Difference, compare
from service.feedback.disclosure import Disclosure
from service.feedback.policy import Level
from service.models import Judging, TestResult
from service.packages import MissingPackage, load_stored

log = logging.getLogger(__name__)

#: Bytes of an input or answer read to show on the page (the download has the whole file).
READ_BYTES = 256 * 1024
#: Bytes of an input shown on the page.
INPUT_PREVIEW_BYTES = 4 * 1024
#: What may be downloaded of a test.
KINDS = ("input", "answer", "output")


@dataclass(frozen=True)
class FailedTest:
    """The first failed test shown in full, with its texts and where they differ."""

    name: str
    verdict: str
    message: str
    input: str
    input_cut: bool
    difference: Difference
    output_bytes: int  # the program's whole output, of which the start was kept
    output_kept: int


async def _result(db: AsyncSession, judging_id: int, name: str) -> TestResult | None:
    return await db.scalar(
        select(TestResult).where(TestResult.judging_id == judging_id, TestResult.name == name)
    )


async def _test_case(app: Quart, package_hash: str, name: str) -> TestCase | None:
    try:
        package = await load_stored(get_settings(app), package_hash)
    except (MissingPackage, PackageError, OSError) as error:
        log.warning("package %s: cannot load it: %s", package_hash, error)
        return None
    return next((test for test in package.tests if test.name == name), None)


def _read(path: Path, limit: int) -> tuple[str, bool]:
    with path.open("rb") as source:
        data = source.read(limit + 1)
    return data[:limit].decode("utf-8", errors="replace"), len(data) > limit


async def first_failure(
    app: Quart, db: AsyncSession, state: Mapping[str, Any], disclosure: Disclosure
) -> FailedTest | None:
    """Return the first failed test of ``state`` the viewer sees in full, or None."""
    failed = next(
        (
            test
            for test in state.get("tests") or []
            if test.get("verdict") not in ("AC", None)
            and disclosure.shows(str(test.get("name")), Level.FULL)
        ),
        None,
    )
    judging_id = state.get("judging_id")
    if failed is None or judging_id is None:
        return None
    name = str(failed["name"])
    judging = await db.get(Judging, judging_id)
    result = await _result(db, judging_id, name)
    if judging is None or result is None:
        return None
    test = await _test_case(app, judging.package_hash, name)
    if test is None:
        return None
    given, given_cut = await asyncio.to_thread(_read, test.input, INPUT_PREVIEW_BYTES)
    answer, _ = await asyncio.to_thread(_read, test.answer, READ_BYTES)
    return FailedTest(
        name=name,
        verdict=str(failed["verdict"]),
        message=str(failed.get("message") or ""),
        input=given,
        input_cut=given_cut,
        difference=compare(answer, result.output),
        output_bytes=result.output_bytes,
        output_kept=len(result.output.encode()),
    )


async def download_of(
    app: Quart,
    db: AsyncSession,
    state: Mapping[str, Any],
    disclosure: Disclosure,
    name: str,
    kind: str,
) -> bytes | None:
    """Return a test's ``kind`` (input, answer, output) if the viewer sees it in full."""
    judging_id = state.get("judging_id")
    if kind not in KINDS or judging_id is None or not disclosure.shows(name, Level.FULL):
        return None
    judging = await db.get(Judging, judging_id)
    result = await _result(db, judging_id, name)
    if judging is None or result is None:
        return None
    if kind == "output":
        return result.output.encode()
    test = await _test_case(app, judging.package_hash, name)
    if test is None:
        return None
    path = test.input if kind == "input" else test.answer
    return await asyncio.to_thread(path.read_bytes)
