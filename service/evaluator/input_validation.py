"""Run a package's input validators on every test input, as ``verdict verify`` does.

Each input validator (a file or a folder under ``input_validators/``, legacy
``input_format_validators/``, or DOMjudge's ``input_validator/``) is built once through the
language registry and run in the sandbox as ``validator [args] < test.in``, with the
arguments of the test's group (``input_validator_args`` / ``input_validator_flags``). Exit 42
means the input is valid; 43, or any other ending, that it is not (the spec counts a crash as
a rejection). A validator that cannot be built, or is written for another tool's set-up
(a folder with ``build``/``run`` scripts, checktestdata's ``.ctd``, VIVA's ``.viva``), is
listed as not run, with the reason.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

from service.evaluator.checkers import ACCEPT_EXIT, REJECT_EXIT
from service.evaluator.languages import UnknownLanguageError, get_language, language_for_paths
from service.evaluator.package import InputValidatorProgram, ProblemPackage, TestCase
from service.evaluator.programs import (
    Program,
    build_program,
    make_readable_dir,
    run_limits,
    run_program,
)
from service.evaluator.sandbox.base import Outcome, Sandbox
from service.evaluator.verdicts import describe_exit

#: Longest part of a validator's own message kept in a report.
MAX_MESSAGE_CHARS = 300
#: Files of other tools' validator set-ups, not programs Verdict builds.
FOREIGN_SETUPS = {
    "build": "a build/run script pair (DOMjudge's judgehost set-up)",
    "run": "a build/run script pair (DOMjudge's judgehost set-up)",
}
FOREIGN_SUFFIXES = {".ctd": "checktestdata", ".viva": "VIVA"}


@dataclass(frozen=True)
class InputFailure:
    """A test input that an input validator did not accept."""

    validator: str
    test: str
    message: str


@dataclass(frozen=True)
class InputValidation:
    """What the input validators said about every test input."""

    validators: tuple[str, ...] = ()  # the validators that ran
    checked: int = 0  # (validator, test) pairs run
    failures: tuple[InputFailure, ...] = field(default=())
    not_run: tuple[tuple[str, str], ...] = ()  # (validator, why it did not run)

    @property
    def ok(self) -> bool:
        """Return whether every test input was accepted by every validator that ran."""
        return not self.failures


async def validate_inputs(
    sandbox: Sandbox, problem: ProblemPackage, workdir: Path
) -> InputValidation:
    """Build each input validator of ``problem`` and run it on every test input."""
    built: list[tuple[str, Program]] = []
    not_run: list[tuple[str, str]] = []
    for index, validator in enumerate(problem.input_validators):
        reason = _foreign(validator)
        if reason:
            not_run.append((validator.name, reason))
            continue
        program, reason = await _build(sandbox, problem, validator, workdir, index)
        if program is None:
            not_run.append((validator.name, reason))
        else:
            built.append((validator.name, program))
    slots = asyncio.Semaphore(max(1, sandbox.slots))
    limits = problem.limits
    run = run_limits(
        limits.validation_time, limits.validation_memory_mb, limits.validation_output_mb
    )

    async def check(name: str, program: Program, test: TestCase) -> InputFailure | None:
        async with slots:
            result = await run_program(
                sandbox,
                program,
                limits=run,
                stdin=test.input,
                args=test.input_args(name),
            )
        if result.outcome is Outcome.EXITED and result.exit_code == ACCEPT_EXIT:
            return None
        said = (result.stdout + result.stderr).decode("utf-8", "replace").strip()
        if result.outcome is Outcome.EXITED and result.exit_code == REJECT_EXIT:
            how = "rejected it"
        else:
            how = f"did not accept it ({describe_exit(result) or result.outcome.value})"
        message = how + (f": {said[:MAX_MESSAGE_CHARS]}" if said else "")
        return InputFailure(name, test.name, message)

    results = await asyncio.gather(
        *(check(name, program, test) for name, program in built for test in problem.tests)
    )
    return InputValidation(
        validators=tuple(name for name, _ in built),
        checked=len(results),
        failures=tuple(failure for failure in results if failure is not None),
        not_run=tuple(not_run),
    )


def _foreign(validator: InputValidatorProgram) -> str:
    """Return why a validator is written for another tool's set-up, or ""."""
    for path in validator.files:
        if path.name in FOREIGN_SETUPS and len(validator.files) > 1:
            return FOREIGN_SETUPS[path.name]
        if path.suffix.lower() in FOREIGN_SUFFIXES:
            return f"a {FOREIGN_SUFFIXES[path.suffix.lower()]} script (no {path.suffix} here)"
    return ""


async def _build(
    sandbox: Sandbox,
    problem: ProblemPackage,
    validator: InputValidatorProgram,
    workdir: Path,
    index: int,
) -> tuple[Program | None, str]:
    try:
        language = get_language(language_for_paths(validator.files).id)
    except UnknownLanguageError as error:
        return None, f"cannot build it: {error}"
    directory = await asyncio.to_thread(make_readable_dir, workdir, f"input-validator-{index}")
    built = await build_program(
        sandbox,
        language,
        validator.files,
        directory,
        problem_slug=validator.name,
        compile_seconds=problem.limits.compilation_time,
        compile_memory_mb=problem.limits.compilation_memory_mb,
    )
    if built.program is None:
        first = built.output.strip().splitlines()[:1]
        return None, "cannot build it" + (f": {first[0]}" if first else "")
    return built.program, ""
