"""Run on my input: check the request, run the sources once in the run lane, report.

Refusals are :class:`~service.submissions.validation.SubmissionRefused`, as for a submission
(the API answers each with its status and ``{"error", "message"}``), and nothing is kept:

- the sources as for a submission (unknown language, empty, too large, NUL bytes...);
- ``input`` over :data:`MAX_INPUT_BYTES` (413), holding NUL bytes (422), or sent together
  with ``sample`` (422); a ``sample`` the problem does not have (422);
- a problem the person may not see (404); a second run at once or too many runs (429);
- the sandbox or the problem's package unavailable on this server (503 ``run_unavailable``,
  logged; never a 500).
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from quart import Quart

from service.config import get_settings
from service.db import get_db
from service.evaluator import (
    PackageError,
    SandboxUnavailable,
    TestCase,
    TrialResult,
    try_program,
)
from service.feedback.diff import compare
from service.models import User
from service.packages import MissingPackage, load_stored
from service.runs.lane import MAX_INPUT_BYTES, SHOWN_OUTPUT_BYTES, get_run_lane
from service.submissions.service import find_problem
from service.submissions.validation import SubmissionRefused, check_sources

log = logging.getLogger(__name__)


def _unavailable() -> SubmissionRefused:
    return SubmissionRefused(
        503,
        "run_unavailable",
        "runs are not available on this server right now; try again later",
        retry_after=30,
    )


def _check_input(given: str | None, sample: str | None) -> bytes:
    if given is not None and sample is not None:
        raise SubmissionRefused(
            422, "input_and_sample", "send either 'input' or 'sample', not both"
        )
    data = (given or "").encode("utf-8", "surrogatepass")
    if len(data) > MAX_INPUT_BYTES:
        raise SubmissionRefused(
            413,
            "input_too_large",
            f"the input is {len(data)} bytes; at most {MAX_INPUT_BYTES} bytes",
        )
    if b"\x00" in data:
        raise SubmissionRefused(422, "not_text", "the input contains NUL bytes; send text only")
    return data


def _pick_sample(samples: Sequence[TestCase], wanted: str) -> TestCase:
    for test in samples:
        if wanted in (test.name, test.name.removeprefix("sample/")):
            return test
    names = ", ".join(test.name.removeprefix("sample/") for test in samples) or "none"
    raise SubmissionRefused(
        422, "no_such_sample", f"the problem has no sample {wanted!r}; its samples: {names}"
    )


def _shown(data: bytes) -> tuple[str, bool]:
    return data[:SHOWN_OUTPUT_BYTES].decode("utf-8", errors="replace"), (
        len(data) > SHOWN_OUTPUT_BYTES
    )


def _write_sources(files: Sequence[tuple[str, str]]) -> tuple[Path, list[Path]]:
    directory = Path(tempfile.mkdtemp(prefix="verdict-run-sources-"))
    paths = []
    for name, content in files:
        path = directory / Path(name).name
        path.write_text(content, encoding="utf-8")
        paths.append(path)
    return directory, paths


async def run_code(
    app: Quart,
    user: User,
    *,
    slug: str,
    language: str,
    files: Sequence[tuple[str, bytes]],
    given: str | None = None,
    sample: str | None = None,
) -> dict[str, Any]:
    """Run ``files`` once on ``given`` or on a sample of ``slug``; return the result as JSON."""
    settings = get_settings(app)
    sources = check_sources(language, files, max_bytes=settings.max_source_bytes)
    stdin = _check_input(given, sample)
    async with get_db(app).session() as db:
        problem = await find_problem(db, slug, user)
    lane = get_run_lane(app)
    async with lane.admitted(user.id):
        try:
            package = await load_stored(settings, problem.package_hash)
        except (MissingPackage, PackageError, OSError) as error:
            log.error("a run on %s found no package %s: %s", slug, problem.package_hash, error)
            raise _unavailable() from None
        test = _pick_sample(package.samples, sample) if sample is not None else None
        if test is not None:
            stdin = await asyncio.to_thread(test.input.read_bytes)
        named = [(file.name, file.content) for file in sources.files]
        scratch, paths = await asyncio.to_thread(_write_sources, named)
        try:
            async with lane.lane() as sandbox:
                result = await try_program(
                    sandbox,
                    package,
                    sources.language,
                    paths,
                    stdin=stdin,
                    answer=test,
                    time_limit=problem.time_limit,
                    main_name=problem.slug,
                )
        except (SandboxUnavailable, OSError) as error:
            log.error("a run on %s failed in the sandbox: %s", slug, error)
            raise _unavailable() from None
        finally:
            await asyncio.to_thread(shutil.rmtree, scratch, True)
        expected = await asyncio.to_thread(test.answer.read_bytes) if test is not None else None
    return _report(result, test, expected)


def _report(result: TrialResult, test: TestCase | None, expected: bytes | None) -> dict[str, Any]:
    stdout, stdout_cut = _shown(result.stdout)
    stderr, stderr_cut = _shown(result.stderr)
    report: dict[str, Any] = {
        "status": result.status,
        "stdout": stdout,
        "stderr": stderr,
        "stdout_truncated": stdout_cut,
        "stderr_truncated": stderr_cut,
        "exit": result.exit_code,
        "time_ms": result.time_ms,
        "memory_kb": result.memory_kb,
        "compile_output": result.compile_output,
        "verdict": result.verdict.value if result.verdict is not None else None,
        "message": result.message,
        "sample": test.name if test is not None else None,
        "expected": None,
        "diff": None,
    }
    if test is not None and expected is not None and result.status == "done":
        answer, _ = _shown(expected)
        difference = compare(answer, result.stdout.decode("utf-8", errors="replace"))
        report["expected"] = answer
        if result.verdict is not None and result.verdict.value == "WA":
            report["diff"] = {"token": difference.token, "summary": difference.summary}
    return report
