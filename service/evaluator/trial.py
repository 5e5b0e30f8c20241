"""Run a program once on one input, as a test of a submission would be, without judging it.

``try_program`` builds the sources exactly as :func:`~service.evaluator.runner.evaluate`
does, runs them once under the problem's limits on ``stdin`` and, when ``answer`` is a test
case (a sample), checks the output with the problem's checker. Nothing is stored: the work
directory is removed at the end.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from service.evaluator.checkers import Checker, ValidatorError
from service.evaluator.languages import Language
from service.evaluator.package import ProblemPackage, TestCase
from service.evaluator.programs import (
    build_program,
    make_readable_dir,
    make_scratch_dir,
    run_limits,
    run_program,
)
from service.evaluator.runner import DEFAULT_TIME_LIMIT, prepare_checker
from service.evaluator.sandbox.base import Sandbox
from service.evaluator.verdicts import Verdict, describe_exit, run_verdict


@dataclass(frozen=True)
class TrialResult:
    """One run: ``status`` is ``done``, ``compile_error`` or ``judge_error``."""

    status: str
    compile_output: str = ""
    stdout: bytes = b""
    stderr: bytes = b""
    exit_code: int | None = None
    signal: int | None = None
    time_ms: int = 0
    wall_ms: int = 0
    memory_kb: int = 0
    verdict: Verdict | None = None  # the run's own (TLE, RE...) or, on a sample, the checker's
    message: str = ""  # how the run ended, or the checker's message on a sample


async def try_program(
    sandbox: Sandbox,
    problem: ProblemPackage,
    language: Language,
    files: Sequence[Path],
    *,
    stdin: bytes,
    answer: TestCase | None = None,
    time_limit: float | None = None,
    main_name: str | None = None,
    scratch: Path | None = None,
    checker: Checker | None = None,
) -> TrialResult:
    """Build ``files`` and run them once on ``stdin``; check against ``answer`` if given."""
    workdir = await asyncio.to_thread(make_scratch_dir, scratch, "verdict-run-")
    try:
        return await _try(
            sandbox,
            problem,
            language,
            files,
            stdin=stdin,
            answer=answer,
            time_limit=time_limit,
            main_name=problem.slug if main_name is None else main_name,
            workdir=workdir,
            checker=checker,
        )
    finally:
        await asyncio.to_thread(shutil.rmtree, workdir, ignore_errors=True)


async def _try(
    sandbox: Sandbox,
    problem: ProblemPackage,
    language: Language,
    files: Sequence[Path],
    *,
    stdin: bytes,
    answer: TestCase | None,
    time_limit: float | None,
    main_name: str,
    workdir: Path,
    checker: Checker | None,
) -> TrialResult:
    limits = problem.limits
    build = await build_program(
        sandbox,
        language,
        files,
        make_readable_dir(workdir, "build"),
        problem_slug=main_name,
        compile_seconds=limits.compilation_time,
        compile_memory_mb=limits.compilation_memory_mb,
    )
    if build.program is None:
        status = "judge_error" if build.verdict is Verdict.JE else "compile_error"
        return TrialResult(status, build.output, verdict=build.verdict or Verdict.CE)
    given = workdir / "input"
    await asyncio.to_thread(given.write_bytes, stdin)
    seconds = time_limit or limits.time_limit or DEFAULT_TIME_LIMIT
    result = await run_program(
        sandbox,
        build.program,
        limits=run_limits(seconds, limits.memory_mb, limits.output_mb, language),
        stdin=given,
    )
    verdict = run_verdict(result)
    message = describe_exit(result) if verdict is not None else ""
    if verdict is None and answer is not None:
        try:
            if checker is None:
                checker = await prepare_checker(
                    sandbox, problem, make_readable_dir(workdir, "validator")
                )
            check = await checker.check(
                input=answer.input,
                answer=answer.answer,
                output=result.stdout,
                flags=answer.validator_flags,
                scratch=make_readable_dir(workdir, "check"),
            )
        except (ValidatorError, OSError) as error:
            verdict, message = Verdict.JE, str(error)
        else:
            verdict = Verdict.AC if check.accepted else Verdict.WA
            message = check.message
    return TrialResult(
        "judge_error" if verdict is Verdict.JE else "done",
        build.output,
        stdout=result.stdout,
        stderr=result.stderr,
        exit_code=result.exit_code,
        signal=result.signal,
        time_ms=result.cpu_ms,
        wall_ms=result.wall_ms,
        memory_kb=result.memory_kb,
        verdict=verdict,
        message=message,
    )
