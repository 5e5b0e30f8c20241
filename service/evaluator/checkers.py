"""Output checkers: the default token checker, or a problem's custom output validator.

A custom validator is compiled once through the language registry and run in the sandbox as
``validator input answer feedback_dir [flags] < program_output``. It exits 42 to accept, 43 to
reject; any other ending is a judge error (the problem is broken, not the submission). The
text it writes to ``feedback_dir/judgemessage.txt`` becomes the test's message.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from service.evaluator.languages import UnknownLanguageError, get_language, language_for_paths
from service.evaluator.programs import (
    Program,
    SubmissionError,
    build_program,
    make_readable_dir,
    program_spec,
    run_limits,
    run_program,
)
from service.evaluator.sandbox.base import Bind, Outcome, RunResult, RunSpec, Sandbox
from service.evaluator.validators import CheckResult, check_tokens
from service.evaluator.verdicts import describe_exit

ACCEPT_EXIT = 42
REJECT_EXIT = 43
#: What a multi-pass validator writes in its feedback dir to have the submission run again.
NEXT_INPUT_FILE = "nextpass.in"
#: Longest judge message kept from ``judgemessage.txt``.
MAX_MESSAGE_BYTES = 4096


class ValidatorError(Exception):
    """The problem's output validator cannot be built or failed: a judge error."""


class Checker(Protocol):
    """Decides whether a program's output answers one test."""

    async def check(
        self,
        *,
        input: Path,
        answer: Path,
        output: bytes,
        flags: Sequence[str] = (),
        scratch: Path,
    ) -> CheckResult:
        """Judge ``output`` for the test ``input``/``answer`` with the test's validator flags.

        ``scratch`` is an empty private directory. Raise ValidatorError when the checker
        itself fails.
        """
        ...


class DefaultChecker:
    """The token checker; ``flags`` are the validator flags of each test."""

    async def check(
        self,
        *,
        input: Path,
        answer: Path,
        output: bytes,
        flags: Sequence[str] = (),
        scratch: Path,
    ) -> CheckResult:
        """Compare ``output`` token by token with the answer file, off the event loop."""
        return await asyncio.to_thread(_check_against_file, output, answer, flags)


def _check_against_file(output: bytes, answer: Path, flags: Sequence[str]) -> CheckResult:
    """Read the answer file and compare tokens: one trip to a worker thread per test."""
    return check_tokens(output, answer.read_bytes(), flags)


class CustomValidator:
    """A compiled output validator run in the sandbox for every test."""

    def __init__(
        self,
        sandbox: Sandbox,
        program: Program,
        *,
        time_limit: float = 60,
        memory_mb: int = 2048,
        output_mb: int = 8,
    ) -> None:
        self.sandbox = sandbox
        self.program = program
        self.limits = run_limits(time_limit, memory_mb, output_mb, program.language)

    async def check(
        self,
        *,
        input: Path,
        answer: Path,
        output: bytes,
        flags: Sequence[str] = (),
        scratch: Path,
    ) -> CheckResult:
        """Run the validator on ``output``; exit 42 accepts, 43 rejects, else ValidatorError."""
        files = await asyncio.to_thread(_prepare_scratch, scratch, input, answer, output)
        result = await run_program(
            self.sandbox,
            self.program,
            limits=self.limits,
            stdin=files.output,
            args=["/judge/input", "/judge/answer", "/feedback/", *flags],
            binds=files.binds,
        )
        return self.judgement(result, files.feedback)

    async def check_pass(
        self,
        *,
        input: Path,
        answer: Path,
        output: bytes,
        flags: Sequence[str],
        scratch: Path,
        feedback: Path,
    ) -> CheckResult:
        """Run the validator on one pass of a multi-pass test, in the test's ``feedback`` dir.

        It may leave ``nextpass.in`` there for the next pass (the caller takes it away).
        """
        files = await asyncio.to_thread(_prepare_scratch, scratch, input, answer, output, feedback)
        result = await run_program(
            self.sandbox,
            self.program,
            limits=self.limits,
            stdin=files.output,
            args=["/judge/input", "/judge/answer", "/feedback/", *flags],
            binds=files.binds,
        )
        judged = self.judgement(result, feedback)
        if not judged.accepted and (feedback / NEXT_INPUT_FILE).exists():
            raise ValidatorError(f"output validator wrote {NEXT_INPUT_FILE} but did not accept")
        return judged

    async def interactor(
        self,
        *,
        input: Path,
        answer: Path,
        flags: Sequence[str],
        scratch: Path,
        stdin_fd: int,
        stdout_fd: int,
    ) -> tuple[RunSpec, Path]:
        """Return the spec running the validator as an interactor, and its feedback dir.

        Its standard input is ``stdin_fd`` (the submission's output), its standard output
        ``stdout_fd`` (the submission's input); the spec owns both.
        """
        files = await asyncio.to_thread(_prepare_scratch, scratch, input, answer, b"")
        spec = program_spec(
            self.program,
            limits=self.limits,
            args=["/judge/input", "/judge/answer", "/feedback/", *flags],
            binds=files.binds,
            stdin_fd=stdin_fd,
            stdout_fd=stdout_fd,
        )
        return spec, files.feedback

    def judgement(self, result: RunResult, feedback: Path) -> CheckResult:
        """Turn the validator's run into a judgement: 42 accepts, 43 rejects, else an error."""
        message = _read_message(feedback / "judgemessage.txt")
        if result.outcome is Outcome.EXITED and result.exit_code == ACCEPT_EXIT:
            return CheckResult(
                True,
                message,
                score=_read_number(feedback / "score.txt"),
                score_multiplier=_read_number(feedback / "score_multiplier.txt"),
            )
        if result.outcome is Outcome.EXITED and result.exit_code == REJECT_EXIT:
            return CheckResult(False, message or "wrong answer (output validator)")
        stderr = result.stderr[:MAX_MESSAGE_BYTES].decode("utf-8", "replace").strip()
        detail = describe_exit(result) or result.outcome.value
        raise ValidatorError(
            f"output validator failed ({detail})" + (f": {stderr}" if stderr else "")
        )


@dataclass(frozen=True)
class _ValidatorFiles:
    input: Path
    answer: Path
    output: Path
    feedback: Path

    @property
    def binds(self) -> list[Bind]:
        """Return the validator's view of the files: input and answer, its feedback dir."""
        return [
            Bind(self.input, "/judge/input"),
            Bind(self.answer, "/judge/answer"),
            Bind(self.feedback, "/feedback", writable=True),
        ]


def _prepare_scratch(
    scratch: Path, input: Path, answer: Path, output: bytes, feedback: Path | None = None
) -> _ValidatorFiles:
    """Write copies the sandbox uid can read (wherever the package lives) and a feedback dir
    (``feedback`` when given: a multi-pass validator keeps its files between passes)."""
    files = _ValidatorFiles(
        input=Path(shutil.copyfile(input, scratch / "input")),
        answer=Path(shutil.copyfile(answer, scratch / "answer")),
        output=scratch / "program_output",
        feedback=feedback or make_readable_dir(scratch, "feedback"),
    )
    files.output.write_bytes(output)
    for path in (files.input, files.answer, files.output):
        os.chmod(path, 0o644)
    os.chmod(files.feedback, 0o777)  # noqa: S103  # the validator writes its messages here
    return files


def _read_number(path: Path) -> float | None:
    """Read a score file the validator wrote (None: none); a bad one is a ValidatorError."""
    text = _read_message(path)
    if not text:
        return None
    try:
        value = float(text.split()[0])
    except ValueError:
        raise ValidatorError(f"output validator wrote {path.name} without a number") from None
    if not 0 <= value < float("inf"):
        raise ValidatorError(f"output validator wrote {path.name} = {value}: not a score")
    return value


def _read_message(path: Path) -> str:
    """Read a file the sandbox wrote, never following a link and only if it is regular."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return ""
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return ""
        data = os.read(fd, MAX_MESSAGE_BYTES)
    finally:
        os.close(fd)
    return data.decode("utf-8", "replace").strip()


async def build_validator(
    sandbox: Sandbox,
    files: Sequence[Path],
    directory: Path,
    *,
    compile_seconds: float = 60,
    compile_memory_mb: int = 2048,
    time_limit: float = 60,
    memory_mb: int = 2048,
    output_mb: int = 8,
) -> CustomValidator:
    """Compile a custom output validator from its source files once; raise ValidatorError."""
    try:
        language = get_language(language_for_paths(files).id)
    except (UnknownLanguageError, SubmissionError) as error:
        raise ValidatorError(f"cannot build the output validator: {error}") from error
    built = await build_program(
        sandbox,
        language,
        files,
        directory,
        problem_slug="validator",
        compile_seconds=compile_seconds,
        compile_memory_mb=compile_memory_mb,
    )
    if built.program is None:
        raise ValidatorError(f"cannot build the output validator: {built.output}")
    return CustomValidator(
        sandbox,
        built.program,
        time_limit=time_limit,
        memory_mb=memory_mb,
        output_mb=output_mb,
    )
