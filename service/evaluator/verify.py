"""Verify a problem package: judge every packaged submission and compare with what it expects.

What a submission expects comes from the package loader (its folder, DOMjudge's
``@EXPECTED_RESULTS@`` tag or ``expected_result.txt``). The time limit is, in order: the one
given, the package's, or derived as problemtools does: the slowest accepted submission's CPU
time times the package's time multiplier (default 5), rounded up to whole seconds.
Submissions expected to exceed the time limit are judged at the limit times the safety margin
(default 2), so that a merely borderline one is caught; ``slow_accepted`` ones are judged there
too and must be accepted (at the limit itself they may be too slow).

The package's input validators run first on every test input (``input_validation``); an
input one of them does not accept makes the report not ok.

A submission whose expectation cannot be read (an unknown tag) is reported as a problem of
its own and the others are still judged; DOMjudge's ``check_manually`` submissions are judged
and reported for a person to check, never compared; a Python 2 program is reported skipped.
"""

from __future__ import annotations

import asyncio
import math
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from service.evaluator.checkers import Checker, ValidatorError
from service.evaluator.input_validation import InputValidation, validate_inputs
from service.evaluator.languages import (
    ANSWERS,
    Language,
    UnknownLanguageError,
    get_language,
    language_for_paths,
    looks_like_python2,
)
from service.evaluator.package import (
    PARTIAL,
    PackagedSubmission,
    ProblemPackage,
    SubmissionRule,
    glob_matches,
)
from service.evaluator.programs import make_readable_dir, make_scratch_dir
from service.evaluator.runner import (
    DEFAULT_TIME_LIMIT,
    CompileFinished,
    Finished,
    Mode,
    TestFinished,
    evaluate,
    prepare_checker,
)
from service.evaluator.sandbox.base import Sandbox
from service.evaluator.scoring import EPSILON
from service.evaluator.verdicts import Verdict

#: Time limit (seconds) given to accepted submissions while deriving the real one.
DERIVATION_TIME_LIMIT = 10.0
#: Why a Python 2 submission is not judged.
PYTHON2_SKIPPED = "a Python 2 program: no Python 2 here (Debian 12 ships none)"


class VerifyError(Exception):
    """The package cannot be verified at all (e.g. its output validator does not build)."""


@dataclass(frozen=True)
class SubmissionReport:
    """How one packaged submission was judged, against what it expects."""

    path: str
    language: str | None
    expected: tuple[str, ...]
    verdict: Verdict | None = None
    ok: bool | None = None  # None when skipped
    skipped: str | None = None  # why it was not judged
    max_time_ms: int = 0
    message: str = ""
    time_limit_s: float | None = None  # the limit it was judged at
    problem: str | None = None  # why its expectation could not be read (then not judged)
    check_manually: bool = False  # judged for a person to check; ``ok`` is None
    score: float | None = None  # scoring problems: the points it got ...
    max_score: float | None = None  # ... of these


@dataclass(frozen=True)
class VerifyReport:
    """The outcome of verifying a package."""

    problem: str
    time_limit_s: float
    time_limit_source: str  # "given", "package", "derived" or "default"
    submissions: tuple[SubmissionReport, ...] = field(default=())
    samples_only: bool = False  # the package has sample tests only, and they were judged
    inputs: InputValidation = field(default_factory=InputValidation)

    @property
    def judged(self) -> int:
        """Return how many submissions were judged."""
        return sum(report.verdict is not None for report in self.submissions)

    @property
    def problems(self) -> int:
        """Return how many submissions have an expectation that cannot be read."""
        return sum(report.problem is not None for report in self.submissions)

    @property
    def to_check(self) -> int:
        """Return how many judged submissions a person has to check."""
        return sum(report.check_manually for report in self.submissions)

    @property
    def matched(self) -> int:
        """Return how many judged submissions got an expected verdict."""
        return sum(report.ok is True for report in self.submissions)

    @property
    def mismatched(self) -> int:
        """Return how many judged submissions got a verdict they do not expect."""
        return sum(report.ok is False and report.problem is None for report in self.submissions)

    @property
    def skipped(self) -> int:
        """Return how many submissions were not judged."""
        return sum(report.skipped is not None for report in self.submissions)

    @property
    def ok(self) -> bool:
        """Return whether nothing mismatched, every expectation was read, every input valid."""
        return self.mismatched == 0 and self.problems == 0 and self.inputs.ok


def derive_time_limit(slowest_ms: int, multiplier: float) -> float:
    """Return the slowest accepted time times ``multiplier``, rounded up to whole seconds."""
    # Round to the millisecond first so that 0.2 s x 5 stays exactly 1 s.
    scaled_ms = round(slowest_ms * multiplier)
    return float(max(1, math.ceil(scaled_ms / 1000)))


def is_accepted_for_timing(submission: PackagedSubmission) -> bool:
    """Return whether a submission's CPU time sets the time limit (``accepted/`` only)."""
    return submission.category == "accepted" and submission.expected == ("AC",)


async def verify(
    sandbox: Sandbox,
    problem: ProblemPackage,
    *,
    time_limit: float | None = None,
    scratch: Path | None = None,
    on_report: Callable[[SubmissionReport], None] | None = None,
) -> VerifyReport:
    """Judge every submission of ``problem`` concurrently and compare with its expectations.

    Raise VerifyError when the problem's output validator cannot be built.
    """
    reports: dict[str, SubmissionReport] = {}
    judgeable: list[tuple[PackagedSubmission, Language]] = []
    for submission in problem.submissions:
        language: Language | None
        known_id: str | None
        if problem.submit_answer:  # the files are the answers: no language to find
            language, known_id, reason = ANSWERS, ANSWERS.id, ""
        else:
            language, known_id, reason = _language_of(submission)
        if submission.problem:
            reports[submission.path] = SubmissionReport(
                path=submission.path,
                language=known_id,
                expected=(),
                ok=False,
                problem=submission.problem,
                message=submission.problem,
            )
        elif language is None:
            reports[submission.path] = _skip(submission, reason, known_id)
        elif submission.check_manually:
            judgeable.append((submission, language))
        elif not submission.expected:
            reports[submission.path] = _skip(
                submission, "its folder says nothing about the expected verdict", language.id
            )
        else:
            judgeable.append((submission, language))
    for report in reports.values():
        if on_report is not None:
            on_report(report)

    workdir = await asyncio.to_thread(make_scratch_dir, scratch, "verdict-verify-")
    try:
        try:
            checker = await prepare_checker(sandbox, problem, make_readable_dir(workdir, "checker"))
        except ValidatorError as error:
            raise VerifyError(str(error)) from error
        judge = _Judge(sandbox, problem, checker, workdir, on_report)
        inputs = await validate_inputs(sandbox, problem, workdir)

        limits = problem.limits
        if time_limit is not None:
            limit, source = time_limit, "given"
        elif limits.time_limit is not None:
            limit, source = limits.time_limit, "package"
        else:
            timing = [item for item in judgeable if is_accepted_for_timing(item[0])]
            judgeable = [item for item in judgeable if not is_accepted_for_timing(item[0])]
            timed = await judge.all(timing, DERIVATION_TIME_LIMIT)
            reports.update((report.path, report) for report in timed)
            times = [report.max_time_ms for report in timed if report.verdict is Verdict.AC]
            if times:
                limit, source = derive_time_limit(max(times), limits.time_multiplier), "derived"
            else:
                limit, source = DEFAULT_TIME_LIMIT, "default"
        margin = limits.time_safety_margin
        slow = [item for item in judgeable if _judged_with_margin(item[0])]
        rest = [item for item in judgeable if not _judged_with_margin(item[0])]
        results = await asyncio.gather(judge.all(rest, limit), judge.all(slow, limit * margin))
        for group in results:
            reports.update((report.path, report) for report in group)
    finally:
        await asyncio.to_thread(shutil.rmtree, workdir, ignore_errors=True)

    ordered = tuple(reports[s.path] for s in problem.submissions)
    return VerifyReport(
        problem.slug, limit, source, ordered, samples_only=problem.samples_only, inputs=inputs
    )


def _judged_with_margin(submission: PackagedSubmission) -> bool:
    """Return whether a submission runs at the time limit times the safety margin.

    Those expected to exceed the limit (so that a borderline one is caught), and
    ``slow_accepted`` ones, which must pass there though they may be too slow at the limit.
    """
    return "TLE" in submission.expected or submission.category == "slow_accepted"


def _language_of(submission: PackagedSubmission) -> tuple[Language | None, str | None, str]:
    """Return the offered language, else the known language id (if any) and why it is skipped."""
    try:
        known = language_for_paths(submission.files)
    except UnknownLanguageError as error:
        return None, None, str(error)
    try:
        return get_language(known.id), known.id, ""
    except UnknownLanguageError:
        return None, known.id, f"{known.name} is not installed on this machine"


def _as_expected(submission: PackagedSubmission, finished: Finished) -> bool:
    """Return whether a judged submission got what it expects.

    ``partially_accepted`` expects a score strictly between 0 and the maximum; an accepted
    scoring submission gets AC only at the maximum (see runner._scored).
    """
    if PARTIAL in submission.expected:
        if finished.max_score is None:
            return False  # a pass-fail problem has no partial scores
        return EPSILON < finished.score < finished.max_score - EPSILON
    return finished.verdict.value in submission.expected


#: Verdicts as submissions.yaml names them (the spec counts memory and output as run errors).
_SPEC_NAMES = {"AC": "AC", "WA": "WA", "TLE": "TLE", "RE": "RTE", "MLE": "RTE", "OLE": "RTE"}


def _broken(rule: SubmissionRule, tests: Sequence[TestFinished], finished: Finished) -> str:
    """Return how a submissions.yaml requirement is not met ("" when it is)."""
    chosen = [test for test in tests if not rule.tests or glob_matches(rule.tests, test.name)]
    names = [_SPEC_NAMES.get(test.verdict.value, test.verdict.value) for test in chosen]
    where = f"{rule.source}" + (f" {rule.tests}" if rule.tests else "")
    if rule.permitted is not None:
        bad = [
            test.name
            for test, name in zip(chosen, names, strict=True)
            if name not in rule.permitted
        ]
        if bad or (finished.verdict in (Verdict.CE, Verdict.JE) and not chosen):
            shown = ", ".join(bad) or finished.verdict.value
            return f"{where}: permitted {'/'.join(sorted(rule.permitted))}, got {shown}"
    if rule.required is not None and not any(name in rule.required for name in names):
        return f"{where}: required one of {'/'.join(sorted(rule.required))}, got none"
    if rule.score is not None:
        low, high = rule.score
        score = finished.score
        if rule.tests:
            group = next((g for g in finished.groups if glob_matches(rule.tests, g.name)), None)
            score = group.score if group is not None else 0.0
        if not low - EPSILON <= score <= high + EPSILON:
            wanted = f"{low:g}" if low == high else f"{low:g} to {high:g}"
            return f"{where}: score {wanted} expected, got {score:g}"
    if rule.message is not None and not any(rule.message in test.message for test in chosen):
        return f"{where}: no test's message says {rule.message!r}"
    return ""


def _python2(submission: PackagedSubmission, language: Language) -> bool:
    """Return whether a submission that failed Python 3's syntax check is Python 2."""
    if language.id not in ("python3", "pypy3"):
        return False
    sources = [path for path in submission.files if language.matches(path.name)]
    return any(
        looks_like_python2(path.read_bytes()[:65536].decode("utf-8", "replace")) for path in sources
    )


def _skip(submission: PackagedSubmission, reason: str, language: str | None) -> SubmissionReport:
    return SubmissionReport(
        path=submission.path, language=language, expected=submission.expected, skipped=reason
    )


class _Judge:
    """Judges packaged submissions, at most the sandbox's slots at once."""

    def __init__(
        self,
        sandbox: Sandbox,
        problem: ProblemPackage,
        checker: Checker,
        workdir: Path,
        on_report: Callable[[SubmissionReport], None] | None,
    ) -> None:
        self.sandbox = sandbox
        self.problem = problem
        self.checker = checker
        self.workdir = workdir
        self.on_report = on_report
        self.slots = asyncio.Semaphore(max(1, sandbox.slots))

    async def all(
        self, submissions: Sequence[tuple[PackagedSubmission, Language]], time_limit: float
    ) -> list[SubmissionReport]:
        """Judge ``submissions`` concurrently at ``time_limit``."""
        return list(
            await asyncio.gather(
                *(
                    self.one(submission, language, time_limit)
                    for submission, language in submissions
                )
            )
        )

    async def one(
        self, submission: PackagedSubmission, language: Language, time_limit: float
    ) -> SubmissionReport:
        """Judge one submission in contest mode and compare its verdict."""
        async with self.slots:
            finished: Finished | None = None
            slowest = 0
            compile_output = ""
            tests: list[TestFinished] = []
            # submissions.yaml's requirements are about every test: judge them all then.
            mode = Mode.TEACHING if submission.rules else Mode.CONTEST
            async for event in evaluate(
                self.sandbox,
                self.problem,
                language,
                submission.files,
                mode=mode,
                time_limit=time_limit,
                checker=self.checker,
                concurrency=1,
                scratch=self.workdir,
            ):
                if isinstance(event, TestFinished):
                    slowest = max(slowest, event.time_ms)
                    tests.append(event)
                elif isinstance(event, CompileFinished) and not event.ok:
                    compile_output = event.output.strip()
                elif isinstance(event, Finished):
                    finished = event
        assert finished is not None  # evaluate always ends with Finished
        broken = [_broken(rule, tests, finished) for rule in submission.rules]
        unmet = [reason for reason in broken if reason]
        if finished.verdict is Verdict.CE and _python2(submission, language):
            report = _skip(submission, PYTHON2_SKIPPED, language.id)
        else:
            folder_ok = submission.replaces_folder or _as_expected(submission, finished)
            message = finished.message or compile_output
            if unmet:
                message = "; ".join(unmet) + (f" ({message})" if message else "")
            report = SubmissionReport(
                path=submission.path,
                language=language.id,
                expected=submission.expected,
                verdict=finished.verdict,
                ok=None if submission.check_manually else folder_ok and not unmet,
                max_time_ms=slowest,
                message=message,
                time_limit_s=time_limit,
                check_manually=submission.check_manually,
                score=None if finished.max_score is None else finished.score,
                max_score=finished.max_score,
            )
        if self.on_report is not None:
            self.on_report(report)
        return report
