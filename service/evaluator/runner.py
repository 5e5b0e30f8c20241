"""Judge one submission against a problem: compile once, run the tests, report events.

``evaluate`` is an async generator, so the web process, a worker and the command line can all
show progress as it happens; every sandbox run is awaited, never blocking the event loop.
Tests run concurrently (at most the sandbox's slots at once) but are reported in order, so the
submission's verdict is always the first non-AC test, whatever the timing. With a wall-clock
budget, once the tests reported so far have used more wall-clock time together than the
budget, the rest are not run and are reported as TLE: a program that sleeps cannot hold the
judge for every test's wall limit in turn.
"""

from __future__ import annotations

import asyncio
import enum
import os
import shutil
import stat
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from service.evaluator.checkers import (
    NEXT_INPUT_FILE,
    Checker,
    CustomValidator,
    DefaultChecker,
    ValidatorError,
    build_validator,
)
from service.evaluator.languages import Language
from service.evaluator.package import ProblemPackage, TestCase
from service.evaluator.programs import (
    Program,
    build_program,
    make_readable_dir,
    make_scratch_dir,
    program_spec,
    run_limits,
    run_program,
)
from service.evaluator.sandbox.base import MIB, Limits, Outcome, PairResult, RunResult, Sandbox
from service.evaluator.scoring import EPSILON, GroupResult, Scoring, TestScore, aggregate
from service.evaluator.verdicts import Verdict, describe_exit, run_verdict

#: The largest next-pass input a multi-pass validator may write.
MAX_NEXT_PASS = 256 * MIB
#: A run the sandbox itself failed.
JE_OUTCOME = Outcome.SANDBOX_ERROR
#: Time limit used when neither the caller nor the package gives one.
DEFAULT_TIME_LIMIT = 1.0
#: Bytes of a program's standard output a test result keeps (to show beside the answer).
OUTPUT_HEAD = 64 * 1024


class Mode(enum.StrEnum):
    """How far to judge: contest stops at the first failed test, teaching runs them all."""

    CONTEST = "contest"
    TEACHING = "teaching"


@dataclass(frozen=True)
class CompileStarted:
    """The submission's build began."""

    language: str


@dataclass(frozen=True)
class CompileFinished:
    """The build ended; ``verdict`` is CE or JE when it failed."""

    ok: bool
    output: str
    verdict: Verdict | None = None
    time_ms: int = 0


@dataclass(frozen=True)
class TestFinished:
    """One test was judged."""

    index: int
    name: str
    verdict: Verdict
    time_ms: int  # CPU time
    wall_ms: int
    memory_kb: int
    message: str = ""
    exit_code: int | None = None
    signal: int | None = None
    output: bytes = b""  # the first OUTPUT_HEAD bytes of the program's standard output
    output_bytes: int = 0  # the whole output's length
    score: float | None = None  # the points it earned (scoring problems only)


@dataclass(frozen=True)
class Finished:
    """Judging ended with the submission's verdict and score.

    The score is the share of tests passed for pass-fail problems and the points for scoring
    ones (``max_score`` their maximum, ``groups`` every group's result, outermost first).
    """

    verdict: Verdict
    score: float
    passed: int
    total: int
    max_time_ms: int = 0
    max_memory_kb: int = 0
    message: str = ""
    stopped_early: str = ""  # why the last tests were not run (the wall-clock budget), if so
    max_score: float | None = None  # scoring problems: the most a submission can score
    groups: tuple[GroupResult, ...] = ()  # scoring problems: each group's result


Event = CompileStarted | CompileFinished | TestFinished | Finished


async def prepare_checker(
    sandbox: Sandbox, problem: ProblemPackage, directory: Path
) -> DefaultChecker | CustomValidator:
    """Return the problem's checker, compiling its custom validator into ``directory``."""
    if problem.validation != "custom":
        return DefaultChecker()
    if not problem.validator_files:
        raise ValidatorError("validation is custom but output_validators/ holds no sources")
    limits = problem.limits
    return await build_validator(
        sandbox,
        problem.validator_files,
        directory,
        compile_seconds=limits.compilation_time,
        compile_memory_mb=limits.compilation_memory_mb,
        time_limit=limits.validation_time,
        memory_mb=limits.validation_memory_mb,
        output_mb=limits.validation_output_mb,
    )


async def evaluate(
    sandbox: Sandbox,
    problem: ProblemPackage,
    language: Language,
    files: Sequence[Path],
    *,
    mode: Mode = Mode.CONTEST,
    time_limit: float | None = None,
    checker: Checker | None = None,
    concurrency: int | None = None,
    scratch: Path | None = None,
    main_name: str | None = None,
    wall_budget_factor: float | None = None,
) -> AsyncGenerator[Event]:
    """Judge ``files`` written in ``language`` on ``problem``, yielding events as they happen.

    ``checker`` defaults to the problem's own (its custom validator is then built here: pass a
    prepared one to judge many submissions). ``time_limit`` overrides the package's. Among
    several files the main one is named ``main`` or ``main_name`` (default: the package's
    slug), e.g. ``hello.py`` for ``main_name="hello"``. Work files live in a fresh directory
    under ``scratch`` (the system temp dir by default), removed at the end. With
    ``wall_budget_factor``, the tests together get that many times (number of tests x time
    limit) seconds of wall-clock time; the tests after the one that goes past it are not run.
    """
    workdir = await asyncio.to_thread(make_scratch_dir, scratch, "verdict-")
    try:
        async for event in _evaluate(
            sandbox,
            problem,
            language,
            files,
            mode=mode,
            time_limit=time_limit,
            checker=checker,
            concurrency=concurrency,
            workdir=workdir,
            main_name=problem.slug if main_name is None else main_name,
            wall_budget_factor=wall_budget_factor,
        ):
            yield event
    finally:
        await asyncio.to_thread(shutil.rmtree, workdir, ignore_errors=True)


async def _evaluate(
    sandbox: Sandbox,
    problem: ProblemPackage,
    language: Language,
    files: Sequence[Path],
    *,
    mode: Mode,
    time_limit: float | None,
    checker: Checker | None,
    concurrency: int | None,
    workdir: Path,
    main_name: str,
    wall_budget_factor: float | None,
) -> AsyncIterator[Event]:
    limits = problem.limits
    total = len(problem.tests)
    yield CompileStarted(language.id)
    if problem.submit_answer:
        async for event in _judge_answers(
            sandbox, problem, files, checker, workdir, concurrency, mode
        ):
            yield event
        return
    build = await build_program(
        sandbox,
        language,
        files,
        make_readable_dir(workdir, "build"),
        problem_slug=main_name,
        compile_seconds=limits.compilation_time,
        compile_memory_mb=limits.compilation_memory_mb,
    )
    yield CompileFinished(build.ok, build.output, build.verdict, build.cpu_ms)
    if build.program is None:
        verdict = build.verdict or Verdict.CE
        message = build.output if verdict is Verdict.JE else ""
        yield Finished(verdict, 0.0, 0, total, message=message)
        return
    if checker is None:
        try:
            checker = await prepare_checker(
                sandbox, problem, make_readable_dir(workdir, "validator")
            )
        except ValidatorError as error:
            yield Finished(Verdict.JE, 0.0, 0, total, message=str(error))
            return
    seconds = time_limit or limits.time_limit or DEFAULT_TIME_LIMIT
    run = _TestRun(
        sandbox,
        build.program,
        checker,
        run_limits(seconds, limits.memory_mb, limits.output_mb, language),
        workdir,
        problem.scoring,
        problem.interactive,
        limits.validation_passes if problem.multi_pass else 0,
    )
    window = max(1, concurrency or sandbox.slots)
    if problem.interactive:
        window = max(1, min(window, sandbox.slots // 2))  # each test takes two slots
    budget = WallBudget(wall_budget_factor * total * seconds if wall_budget_factor else None)
    async for event in _judge_tests(problem, run, window, mode, budget):
        yield event


async def _judge_tests(
    problem: ProblemPackage,
    run: _TestRun | _AnswerCheck,
    window: int,
    mode: Mode,
    budget: WallBudget,
) -> AsyncIterator[Event]:
    """Judge every test with ``run`` in order, then yield the submission's end."""
    total = len(problem.tests)
    results: list[TestFinished] = []
    # A scoring problem runs every test whatever the mode: each one may add points.
    stop_on_failure = mode is Mode.CONTEST and problem.scoring is None
    async for result in _in_order(
        run, problem.tests, window, stop_on_failure=stop_on_failure, budget=budget
    ):
        results.append(result)
        yield result
    failed = next((r for r in results if r.verdict is not Verdict.AC), None)
    passed = sum(r.verdict is Verdict.AC for r in results)
    if problem.scoring is not None:
        yield _scored(problem.scoring, results, total, budget.note)
        return
    yield Finished(
        verdict=Verdict.AC if failed is None else failed.verdict,
        score=passed / total if total else 1.0,
        passed=passed,
        total=total,
        max_time_ms=max((r.time_ms for r in results), default=0),
        max_memory_kb=max((r.memory_kb for r in results), default=0),
        message="" if failed is None else f"{failed.name}: {failed.message}".rstrip(": "),
        stopped_early=budget.note,
    )


def _scored(
    scoring: Scoring, results: Sequence[TestFinished], total: int, stopped_early: str
) -> Finished:
    """Return the end of a scoring submission: AC only at the maximum score."""
    outcome = aggregate(
        scoring,
        {r.name: TestScore(r.verdict.value, score=r.score) for r in results},
    )
    maximum = scoring.max_score
    failed = next((r for r in results if r.verdict is not Verdict.AC), None)
    full = outcome.score >= maximum - EPSILON
    if full:
        verdict, message = Verdict.AC, ""
    else:
        verdict = Verdict.WA if failed is None else failed.verdict
        message = f"{outcome.score:g} of {maximum:g} points"
        if failed is not None:
            message += f"; {failed.name}: {failed.message}".rstrip(": ")
    return Finished(
        verdict=verdict,
        score=outcome.score,
        passed=sum(r.verdict is Verdict.AC for r in results),
        total=total,
        max_time_ms=max((r.time_ms for r in results), default=0),
        max_memory_kb=max((r.memory_kb for r in results), default=0),
        message=message,
        stopped_early=stopped_early,
        max_score=maximum,
        groups=outcome.groups,
    )


class WallBudget:
    """The wall-clock time a submission's tests may use together (None: no bound)."""

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self.spent_ms = 0
        self.not_run = 0

    def spend(self, result: TestFinished) -> bool:
        """Count a reported test's wall-clock time; return whether the budget is used up."""
        self.spent_ms += result.wall_ms
        return self.seconds is not None and self.spent_ms > self.seconds * 1000

    def skipped(self, index: int, test: TestCase) -> TestFinished:
        """Return the result of a test not run because the budget was used up."""
        self.not_run += 1
        return TestFinished(index, test.name, Verdict.TLE, 0, 0, 0, f"not run: {self._used_up()}")

    @property
    def note(self) -> str:
        """Return why tests were not run, or "" when every test ran."""
        if not self.not_run:
            return ""
        tests = "test was" if self.not_run == 1 else "tests were"
        return f"stopped: {self._used_up()}; {self.not_run} {tests} not run (TLE)"

    def _used_up(self) -> str:
        return (
            f"the tests used {self.spent_ms / 1000:.1f} s of wall-clock time together, past "
            f"the submission's wall-clock budget of {self.seconds:g} s"
        )


async def _in_order(
    run: _TestRun | _AnswerCheck,
    tests: Sequence[TestCase],
    window: int,
    *,
    stop_on_failure: bool,
    budget: WallBudget,
) -> AsyncIterator[TestFinished]:
    """Run tests with up to ``window`` at once and yield their results in test order.

    Once ``budget`` is used up, the tests still running are cancelled and every test left is
    yielded as not run.
    """
    upcoming = iter(enumerate(tests))
    pending: deque[tuple[int, TestCase, asyncio.Task[TestFinished]]] = deque()

    def launch() -> None:
        for index, test in upcoming:
            pending.append((index, test, asyncio.create_task(run.test(index, test))))
            return

    async def cancel_pending() -> None:
        for _, _, task in pending:
            task.cancel()
        await asyncio.gather(*(task for _, _, task in pending), return_exceptions=True)

    try:
        for _ in range(window):
            launch()
        while pending:
            result = await pending.popleft()[2]
            yield result
            if stop_on_failure and result.verdict is not Verdict.AC:
                return
            if budget.spend(result):
                left = [(index, test) for index, test, _ in pending] + list(upcoming)
                await cancel_pending()
                pending.clear()
                for index, test in left:
                    yield budget.skipped(index, test)
                return
            launch()
    finally:
        await cancel_pending()


#: Extensions of the answer files of a submit-answer submission.
ANSWER_EXTENSIONS = (".out", ".ans", ".txt")


def answer_names(test: TestCase, tests: Sequence[TestCase]) -> list[str]:
    """Return the file stems that answer ``test``, most specific first.

    ``secret/g1/03`` is answered by ``secret-g1-03.out``, ``g1-03.out``, or ``03.out``
    when no other test ends in ``03`` (``.ans`` and ``.txt`` do too).
    """
    parts = test.name.split("/")
    names = ["-".join(parts)]
    if len(parts) > 2:
        names.append("-".join(parts[1:]))
    if sum(other.name.rsplit("/", 1)[-1] == parts[-1] for other in tests) == 1:
        names.append(parts[-1])
    return list(dict.fromkeys(names))


async def _judge_answers(
    sandbox: Sandbox,
    problem: ProblemPackage,
    files: Sequence[Path],
    checker: Checker | None,
    workdir: Path,
    concurrency: int | None,
    mode: Mode,
) -> AsyncIterator[Event]:
    """Judge a submit-answer submission: its files are the outputs; nothing is built or run."""
    yield CompileFinished(True, "a submit-answer problem: the files are the answers")
    total = len(problem.tests)
    if checker is None:
        try:
            checker = await prepare_checker(
                sandbox, problem, make_readable_dir(workdir, "validator")
            )
        except ValidatorError as error:
            yield Finished(Verdict.JE, 0.0, 0, total, message=str(error))
            return
    answers = {
        path.stem.lower(): path for path in files if path.suffix.lower() in ANSWER_EXTENSIONS
    }
    check = _AnswerCheck(problem, checker, answers, workdir)
    window = max(1, concurrency or sandbox.slots)
    async for event in _judge_tests(problem, check, window, mode, WallBudget(None)):
        yield event


class _AnswerCheck:
    """Checks a submitted answer file per test (submit-answer problems)."""

    def __init__(
        self,
        problem: ProblemPackage,
        checker: Checker,
        answers: dict[str, Path],
        workdir: Path,
    ) -> None:
        self.problem = problem
        self.checker = checker
        self.answers = answers
        self.workdir = workdir
        self.output_limit = problem.limits.output_mb * MIB

    async def test(self, index: int, test: TestCase) -> TestFinished:
        """Check the answer file of test ``index``; a missing one is a WA that names it."""
        names = answer_names(test, self.problem.tests)
        path = next(
            (self.answers[name.lower()] for name in names if name.lower() in self.answers), None
        )
        if path is None:
            message = f"no answer file: name it {names[-1]}.out"
            return self._result(index, test, Verdict.WA, message)
        output = await asyncio.to_thread(_read_capped, path, self.output_limit)
        if output is None:
            limit = self.problem.limits.output_mb
            return self._result(index, test, Verdict.OLE, f"{path.name} is over {limit} MiB")
        try:
            check = await self.checker.check(
                input=test.input,
                answer=test.answer,
                output=output,
                flags=test.validator_flags,
                scratch=make_readable_dir(self.workdir, f"test-{index}"),
            )
        except (ValidatorError, OSError) as error:
            return self._result(index, test, Verdict.JE, str(error))
        verdict = Verdict.AC if check.accepted else Verdict.WA
        reported = TestScore("AC", check.score, check.score_multiplier)
        return self._result(index, test, verdict, check.message, reported)

    def _result(
        self,
        index: int,
        test: TestCase,
        verdict: Verdict,
        message: str,
        reported: TestScore | None = None,
    ) -> TestFinished:
        scoring = self.problem.scoring
        score = None if scoring is None else scoring.test_score(test.name, verdict.value, reported)
        return TestFinished(index, test.name, verdict, 0, 0, 0, message, score=score)


def _read_capped(path: Path, limit: int) -> bytes | None:
    """Read a submitted file, or return None when it is larger than ``limit`` bytes."""
    with path.open("rb") as source:
        data = source.read(limit + 1)
    return None if len(data) > limit else data


def _interaction_verdict(
    checker: CustomValidator,
    program: RunResult,
    interactor: RunResult,
    feedback: Path,
    *,
    program_first: bool,
) -> tuple[Verdict, str, TestScore]:
    """Decide an interactive test as the spec orders it.

    The interactor's 42/43 decides, unless the submission failed (a non-zero exit, a signal,
    a limit) before it ended, or failed at all when the interactor accepted. An interactor
    that fails after the submission failed failed because of it (a closed pipe): the
    submission's verdict; one that fails first is a judge error.
    """
    if JE_OUTCOME in (program.outcome, interactor.outcome):
        failed = program if program.outcome is JE_OUTCOME else interactor
        return Verdict.JE, f"sandbox failed: {failed.message}", TestScore("JE")
    own = run_verdict(program)
    try:
        judged = checker.judgement(interactor, feedback)
    except ValidatorError as error:
        if own is not None and program_first:  # it broke the interactor (a closed pipe)
            return own, _describe(own, program), TestScore(own.value)
        return Verdict.JE, f"interactor: {error}", TestScore("JE")
    if own is not None and (program_first or judged.accepted):
        return own, _describe(own, program), TestScore(own.value)
    if not judged.accepted:
        return Verdict.WA, judged.message, TestScore("WA")
    return Verdict.AC, judged.message, TestScore("AC", judged.score, judged.score_multiplier)


def _writable_dir(parent: Path, name: str) -> Path:
    """Create a directory the validator (a sandbox uid) may write its feedback in."""
    path = parent / name
    path.mkdir()
    os.chmod(path, 0o777)  # noqa: S103  # the validator writes its messages here
    return path


def _share_feedback(feedback: Path) -> None:
    """Make the regular files a validator left in ``feedback`` writable by the next one."""
    with os.scandir(feedback) as entries:
        for entry in entries:
            if entry.is_file(follow_symlinks=False):
                os.chmod(entry.path, 0o666)  # noqa: S103  # only this test's validators see it


def _take_next_pass(following: Path, scratch: Path, number: int) -> Path:
    """Move the validator's ``nextpass.in`` out of its feedback dir as the next input.

    Read without following links (the validator wrote it), at most the input size limit.
    """
    fd = os.open(following, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{NEXT_INPUT_FILE} is not a regular file")
        data = b""
        while chunk := os.read(fd, 1 << 20):
            data += chunk
            if len(data) > MAX_NEXT_PASS:
                raise OSError(f"{NEXT_INPUT_FILE} is larger than {MAX_NEXT_PASS // MIB} MiB")
    finally:
        os.close(fd)
    following.unlink()
    target = scratch / f"pass-{number}.in"
    target.write_bytes(data)
    os.chmod(target, 0o644)
    return target


def _describe(verdict: Verdict, result: RunResult) -> str:
    return describe_exit(result) if verdict is Verdict.RE else result.message


class _TestRun:
    """Runs one built program on tests and checks each output."""

    def __init__(
        self,
        sandbox: Sandbox,
        program: Program,
        checker: Checker,
        limits: Limits,
        workdir: Path,
        scoring: Scoring | None = None,
        interactive: bool = False,
        passes: int = 0,
    ) -> None:
        self.sandbox = sandbox
        self.program = program
        self.checker = checker
        self.limits = limits
        self.workdir = workdir
        self.scoring = scoring
        self.interactive = interactive
        self.passes = passes

    async def _passes(self, index: int, test: TestCase) -> TestFinished:
        """Run a multi-pass test: again on the validator's ``nextpass.in``, at most
        ``passes`` times; each pass has the test's limits, the slowest is reported."""
        checker = self.checker
        assert isinstance(checker, CustomValidator)  # the loader requires one for multi-pass
        scratch = make_readable_dir(self.workdir, f"test-{index}")
        feedback = await asyncio.to_thread(_writable_dir, scratch, "feedback")
        stdin = test.input
        slowest: RunResult | None = None
        for number in range(1, self.passes + 1):
            result = await run_program(self.sandbox, self.program, limits=self.limits, stdin=stdin)
            if slowest is None or result.cpu_ms > slowest.cpu_ms:
                slowest = result
            verdict = run_verdict(result)
            if verdict is not None:
                return self._finished(index, test, verdict, _describe(verdict, result), slowest)
            try:
                check = await checker.check_pass(
                    input=test.input,
                    answer=test.answer,
                    output=result.stdout,
                    flags=test.validator_flags,
                    scratch=make_readable_dir(scratch, f"pass-{number}"),
                    feedback=feedback,
                )
            except ValidatorError as error:
                return self._finished(index, test, Verdict.JE, str(error), slowest)
            if not check.accepted:
                return self._finished(index, test, Verdict.WA, check.message, slowest)
            following = feedback / NEXT_INPUT_FILE
            if not await asyncio.to_thread(following.is_file):
                reported = TestScore("AC", check.score, check.score_multiplier)
                return self._finished(index, test, Verdict.AC, check.message, slowest, reported)
            if number == self.passes:
                message = f"the validator asked for more than {self.passes} passes"
                return self._finished(index, test, Verdict.JE, message, slowest)
            stdin = await asyncio.to_thread(_take_next_pass, following, scratch, number + 1)
            # The next pass's validator may run as another slot's uid: let it change the files.
            await asyncio.to_thread(_share_feedback, feedback)
        raise AssertionError("the loop returns")  # pragma: no cover

    def _finished(
        self,
        index: int,
        test: TestCase,
        verdict: Verdict,
        message: str,
        result: RunResult,
        reported: TestScore | None = None,
    ) -> TestFinished:
        score = None
        if self.scoring is not None:
            score = self.scoring.test_score(test.name, verdict.value, reported)
        return TestFinished(
            index=index,
            name=test.name,
            verdict=verdict,
            time_ms=result.cpu_ms,
            wall_ms=result.wall_ms,
            memory_kb=result.memory_kb,
            message=message,
            exit_code=result.exit_code,
            signal=result.signal,
            score=score,
        )

    async def _interact(self, index: int, test: TestCase) -> TestFinished:
        """Run the program and the interactor on test ``index``, each one's output the other's
        input, in two sandboxes; the submission's own failure decides when it came first."""
        checker = self.checker
        pair = getattr(self.sandbox, "run_pair", None)
        if not isinstance(checker, CustomValidator) or pair is None:
            reason = "the sandbox cannot run" if pair is None else "no interactor for"
            return TestFinished(
                index, test.name, Verdict.JE, 0, 0, 0, f"{reason} an interactive problem"
            )
        to_validator = os.pipe()
        to_program = os.pipe()
        try:
            validator, feedback = await checker.interactor(
                input=test.input,
                answer=test.answer,
                flags=test.validator_flags,
                scratch=make_readable_dir(self.workdir, f"test-{index}"),
                stdin_fd=to_validator[0],
                stdout_fd=to_program[1],
            )
        except BaseException:
            for fd in (*to_validator, *to_program):
                os.close(fd)
            raise
        submission = program_spec(
            self.program, limits=self.limits, stdin_fd=to_program[0], stdout_fd=to_validator[1]
        )
        ran: PairResult = await pair(submission, validator)
        result, interactor = ran.first, ran.second
        verdict, message, reported = _interaction_verdict(
            checker, result, interactor, feedback, program_first=ran.first_ended_first
        )
        return self._finished(index, test, verdict, message, result, reported)

    async def test(self, index: int, test: TestCase) -> TestFinished:
        """Run test ``index`` and judge its output; host I/O failures make it a JE."""
        special = self._interact if self.interactive else self._passes if self.passes else None
        if special is not None:
            try:
                return await special(index, test)
            except OSError as error:
                return TestFinished(index, test.name, Verdict.JE, 0, 0, 0, f"judge error: {error}")
        try:
            result = await run_program(
                self.sandbox, self.program, limits=self.limits, stdin=test.input
            )
        except OSError as error:
            return TestFinished(index, test.name, Verdict.JE, 0, 0, 0, f"judge error: {error}")
        verdict = run_verdict(result)
        message = ""
        reported = TestScore("AC")
        if verdict is None:
            try:
                check = await self.checker.check(
                    input=test.input,
                    answer=test.answer,
                    output=result.stdout,
                    flags=test.validator_flags,
                    scratch=make_readable_dir(self.workdir, f"test-{index}"),
                )
            except (ValidatorError, OSError) as error:
                verdict, message = Verdict.JE, str(error)
            else:
                verdict = Verdict.AC if check.accepted else Verdict.WA
                message = check.message
                reported = TestScore("AC", check.score, check.score_multiplier)
        elif verdict is Verdict.JE:
            message = f"sandbox failed: {result.message}"
        elif verdict is Verdict.RE:
            message = describe_exit(result)
        else:
            message = result.message
        return TestFinished(
            index=index,
            name=test.name,
            verdict=verdict,
            time_ms=result.cpu_ms,
            wall_ms=result.wall_ms,
            memory_kb=result.memory_kb,
            message=message,
            exit_code=result.exit_code,
            signal=result.signal,
            output=result.stdout[:OUTPUT_HEAD],
            output_bytes=len(result.stdout),
            score=None
            if self.scoring is None
            else self.scoring.test_score(test.name, verdict.value, reported),
        )
