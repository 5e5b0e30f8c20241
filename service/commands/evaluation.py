"""Commands of the evaluator core: `judge`, `verify`, `languages`.

Exit codes of `judge`: 0 accepted, 1 rejected (WA, TLE, MLE, RE, OLE, CE), 2 bad input (package,
language or source files), 3 judge error (the sandbox or the output validator failed).
Exit codes of `verify`: 0 when no judged submission mismatched and every expectation could be
read, 1 otherwise, 2 bad package,
3 when the sandbox is unavailable or the output validator does not build.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import click

from service.evaluator import (
    CompileFinished,
    CompileStarted,
    Event,
    Finished,
    Language,
    Mode,
    PackageError,
    ProblemPackage,
    Sandbox,
    SandboxUnavailable,
    SubmissionReport,
    TestFinished,
    UnknownLanguageError,
    Verdict,
    VerifyError,
    VerifyReport,
    create_sandbox,
    evaluate,
    get_language,
    language_for_paths,
    load_package,
    offered_languages,
    verify,
)
from service.evaluator.languages import ANSWERS

EXIT_REJECTED = 1
EXIT_BAD_INPUT = 2
EXIT_JUDGE_ERROR = 3

_SANDBOX_OPTION = click.option(
    "--sandbox",
    "sandbox_mode",
    type=click.Choice(["bwrap", "unsafe-rlimit"]),
    default=lambda: os.environ.get("SANDBOX", "bwrap"),
    show_default="env SANDBOX or bwrap",
    help="How programs are isolated; unsafe-rlimit is for development machines only.",
)


class BadInput(click.ClickException):
    """A problem with what the user passed: exits with status 2."""

    exit_code = EXIT_BAD_INPUT


class JudgeFailure(click.ClickException):
    """The judge itself failed (sandbox, validator): exits with status 3."""

    exit_code = EXIT_JUDGE_ERROR


def _slots() -> int | None:
    """Return the sandbox slots asked for by env EVALUATOR_CONCURRENCY (None: one per CPU)."""
    text = os.environ.get("EVALUATOR_CONCURRENCY", "").strip()
    if not text:
        return None
    if not text.isdigit() or int(text) < 1:
        raise BadInput(f"EVALUATOR_CONCURRENCY must be a positive integer, not {text!r}")
    return int(text)


def _open_sandbox(mode: str) -> Sandbox:
    try:
        sandbox = create_sandbox(mode=mode, slots=_slots())
    except SandboxUnavailable as error:
        raise JudgeFailure(f"sandbox {mode!r} unavailable: {error}") from error
    if not sandbox.safe:
        click.echo(
            f"WARNING: sandbox {sandbox.name!r} does NOT isolate programs; development only",
            err=True,
        )
    return sandbox


@contextlib.contextmanager
def _problem(path: Path) -> Iterator[ProblemPackage]:
    with tempfile.TemporaryDirectory(prefix="verdict-package-") as extract:
        try:
            yield load_package(path, extract_to=None if path.is_dir() else Path(extract))
        except PackageError as error:
            raise BadInput(str(error)) from error


def _source_files(sources: Sequence[Path]) -> list[Path]:
    """Expand a directory argument into its files; reject anything else that is not a file."""
    files: list[Path] = []
    for source in sources:
        if source.is_dir():
            inside = sorted(
                p for p in source.iterdir() if p.is_file() and not p.name.startswith(".")
            )
            if not inside:
                raise BadInput(f"{source} holds no files")
            files.extend(inside)
        elif source.is_file():
            files.append(source)
        else:
            raise BadInput(f"{source} is not a file or a directory")
    return files


def _language(language_id: str | None, files: Sequence[Path]) -> Language:
    try:
        if language_id is None:
            language_id = language_for_paths(files).id
        return get_language(language_id)
    except UnknownLanguageError as error:
        raise BadInput(str(error)) from error


def _test_json(event: TestFinished) -> dict[str, Any]:
    return {
        "name": event.name,
        "verdict": event.verdict.value,
        "time_ms": event.time_ms,
        "wall_ms": event.wall_ms,
        "memory_kb": event.memory_kb,
        "message": event.message,
        **({} if event.score is None else {"score": event.score}),
    }


def _show_event(event: Event) -> None:
    if isinstance(event, CompileStarted):
        click.echo(f"compiling ({event.language}) ... ", nl=False)
    elif isinstance(event, CompileFinished):
        click.echo("ok" if event.ok else (event.verdict or Verdict.CE).value)
        if event.output.strip():
            click.echo(event.output.rstrip())
    elif isinstance(event, TestFinished):
        line = (
            f"{event.name:<24} {event.verdict.value:<4} {event.time_ms:>6} ms"
            f" {event.wall_ms:>6} ms wall {event.memory_kb:>8} KiB"
        )
        points = "" if event.score is None else f" {event.score:g} pts"
        click.echo(f"{line}{points}  {event.message}".rstrip())
    else:
        click.echo(f"verdict: {event.verdict.value} ({event.verdict.description})")
        if event.max_score is None:
            click.echo(f"score: {event.score:.2f} ({event.passed}/{event.total} tests passed)")
        else:
            click.echo(f"score: {event.score:g} of {event.max_score:g} points")
            for group in event.groups:
                most = "" if group.max_score is None else f" of {group.max_score:g}"
                click.echo(
                    f"  group {group.name or 'data'}: {group.score:g}{most} ({group.verdict})"
                )
        if event.message:
            click.echo(event.message)


@click.command("judge", short_help="Judge one submission on a problem package.")
@click.argument("package", type=click.Path(exists=True, path_type=Path))
@click.argument("sources", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--language", "-l", "language_id", help="Language id (see `verdict languages`).")
@click.option(
    "--mode",
    type=click.Choice([mode.value for mode in Mode]),
    default=Mode.CONTEST.value,
    show_default=True,
    help="contest stops at the first failed test; teaching runs them all.",
)
@click.option(
    "--time-limit", type=click.FloatRange(min=0.1), help="Seconds; overrides the package."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object at the end.")
@_SANDBOX_OPTION
def judge(
    package: Path,
    sources: tuple[Path, ...],
    language_id: str | None,
    mode: str,
    time_limit: float | None,
    as_json: bool,
    sandbox_mode: str,
) -> None:
    """Judge one submission (files or a directory) on a problem package.

    Exits 0 when accepted, 1 when rejected, 2 on bad input, 3 on a judge error.
    """
    files = _source_files(sources)
    with _problem(package) as problem:
        language = ANSWERS if problem.submit_answer else _language(language_id, files)
        sandbox = _open_sandbox(sandbox_mode)
        events = asyncio.run(
            _collect(sandbox, problem, language, files, Mode(mode), time_limit, not as_json)
        )
    finished = events[-1]
    assert isinstance(finished, Finished)
    if as_json:
        compile_output = next(
            (event.output for event in events if isinstance(event, CompileFinished)), ""
        )
        document = {
            "verdict": finished.verdict.value,
            "score": finished.score,
            "compile_output": compile_output,
            **(
                {}
                if finished.max_score is None
                else {
                    "max_score": finished.max_score,
                    "groups": [
                        {
                            "name": group.name,
                            "score": group.score,
                            "max_score": group.max_score,
                            "verdict": group.verdict,
                        }
                        for group in finished.groups
                    ],
                }
            ),
            "tests": [_test_json(event) for event in events if isinstance(event, TestFinished)],
        }
        click.echo(json.dumps(document, indent=2))
    if finished.verdict is Verdict.JE:
        if as_json:  # the table already showed the reason
            click.echo(f"judge error: {finished.message}", err=True)
        raise SystemExit(EXIT_JUDGE_ERROR)
    if finished.verdict is not Verdict.AC:
        raise SystemExit(EXIT_REJECTED)


async def _collect(
    sandbox: Sandbox,
    problem: ProblemPackage,
    language: Language,
    files: Sequence[Path],
    mode: Mode,
    time_limit: float | None,
    show: bool,
) -> list[Event]:
    events: list[Event] = []
    try:
        async for event in evaluate(
            sandbox, problem, language, files, mode=mode, time_limit=time_limit
        ):
            events.append(event)
            if show:
                _show_event(event)
    finally:
        await _close(sandbox)
    return events


async def _close(sandbox: Sandbox) -> None:
    """Stop the sandbox's helpers (slot supervisors), when it has any."""
    aclose = getattr(sandbox, "aclose", None)
    if aclose is not None:
        await aclose()


async def _verify(
    sandbox: Sandbox,
    problem: ProblemPackage,
    time_limit: float | None,
    on_report: Callable[[SubmissionReport], None] | None,
) -> VerifyReport:
    try:
        return await verify(sandbox, problem, time_limit=time_limit, on_report=on_report)
    finally:
        await _close(sandbox)


def _report_json(report: SubmissionReport) -> dict[str, Any]:
    return {
        "path": report.path,
        "language": report.language,
        "expected": list(report.expected),
        "verdict": None if report.verdict is None else report.verdict.value,
        "ok": report.ok,
        "skipped": report.skipped,
        "problem": report.problem,
        "check_manually": report.check_manually,
        "max_time_ms": report.max_time_ms,
        **(
            {}
            if report.max_score is None
            else {"score": report.score, "max_score": report.max_score}
        ),
    }


def _report_line(report: SubmissionReport) -> str:
    expected = "/".join(report.expected) or "-"
    language = report.language or "-"
    if report.problem is not None:
        return f"{report.path:<36} {language:<10} {expected:<8} PROBLEM: {report.problem}"
    if report.skipped is not None:
        return f"{report.path:<36} {language:<10} {expected:<8} skipped: {report.skipped}"
    assert report.verdict is not None
    result = "check manually" if report.check_manually else "ok" if report.ok else "MISMATCH"
    points = "" if report.max_score is None else f" {report.score:g}/{report.max_score:g} pts"
    line = (
        f"{report.path:<36} {report.language or '-':<10} {expected:<8}"
        f" {report.verdict.value:<4} {report.max_time_ms:>6} ms{points}  {result}"
    )
    if report.ok is False and report.message:
        line += f"  ({report.message.splitlines()[0]})"
    return line


def _verify_json(report: VerifyReport) -> dict[str, Any]:
    return {
        "problem": report.problem,
        "time_limit_s": report.time_limit_s,
        "samples_only": report.samples_only,
        "input_validation": {
            "validators": list(report.inputs.validators),
            "checked": report.inputs.checked,
            "failures": [
                {"validator": item.validator, "test": item.test, "message": item.message}
                for item in report.inputs.failures
            ],
            "not_run": [
                {"validator": name, "reason": reason} for name, reason in report.inputs.not_run
            ],
        },
        "submissions": [_report_json(item) for item in report.submissions],
        "summary": {
            "judged": report.judged,
            "ok": report.matched,
            "mismatched": report.mismatched,
            "skipped": report.skipped,
            "problems": report.problems,
            "check_manually": report.to_check,
        },
    }


@click.command("verify", short_help="Check a package's submissions get their expected verdicts.")
@click.argument("package", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--time-limit", type=click.FloatRange(min=0.1), help="Seconds; else the package's or derived."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object at the end.")
@_SANDBOX_OPTION
def verify_command(
    package: Path, time_limit: float | None, as_json: bool, sandbox_mode: str
) -> None:
    """Judge every submission of a package and compare with the verdicts it expects.

    Exits 0 only when no judged submission got an unexpected verdict.
    """
    with _problem(package) as problem:
        sandbox = _open_sandbox(sandbox_mode)
        on_report = None if as_json else (lambda item: click.echo(_report_line(item)))
        try:
            report = asyncio.run(_verify(sandbox, problem, time_limit, on_report))
        except VerifyError as error:
            raise JudgeFailure(str(error)) from error
    if as_json:
        click.echo(json.dumps(_verify_json(report), indent=2))
    else:
        for item in report.inputs.failures:
            click.echo(f"input {item.test}: validator {item.validator} {item.message}")
        for name, reason in report.inputs.not_run:
            click.echo(f"input validator {name}: not run: {reason}")
        if report.inputs.validators:
            bad = len(report.inputs.failures)
            click.echo(
                f"{report.problem}: input validators {', '.join(report.inputs.validators)}:"
                f" {report.inputs.checked - bad} of {report.inputs.checked} checks passed"
            )
        if report.samples_only:
            click.echo(f"{report.problem}: the package has sample tests only; judged on those")
        click.echo(
            f"{report.problem}: time limit {report.time_limit_s:g} s ({report.time_limit_source});"
            f" judged {report.judged}, ok {report.matched}, mismatched {report.mismatched},"
            f" skipped {report.skipped}, problems {report.problems},"
            f" to check manually {report.to_check}"
        )
    if not report.ok:
        raise SystemExit(EXIT_REJECTED)


@click.command("languages", short_help="List the languages offered here.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
def languages_command(as_json: bool) -> None:
    """List the languages offered on this machine, with their versions."""
    offered = offered_languages()
    if as_json:
        document = [
            {
                "id": item.language.id,
                "name": item.language.name,
                "version": item.version,
                "extensions": list(item.language.extensions),
            }
            for item in offered
        ]
        click.echo(json.dumps(document, indent=2))
        return
    for item in offered:
        language = item.language
        extensions = " ".join(language.extensions)
        click.echo(f"{language.id:<12} {language.name:<24} {item.version:<10} {extensions}")


COMMANDS: list[click.Command] = [judge, verify_command, languages_command]
