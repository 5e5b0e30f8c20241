"""Pydantic models of the JSON API: what requests carry and what responses hold.

The response models are the OpenAPI contract: every view returns an instance of one, so a
response can never drift from its documented schema.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from service.feedback.policy import FeedbackPolicy
from service.models import Problem, Submission, User

MAX_PAGE = 100_000
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 20
MAX_BATCH = 20
MAX_FILES = 20


class ErrorOut(BaseModel):
    """An error: a stable machine-readable code and a message saying what to change."""

    error: str = Field(description="Stable code, e.g. not_found, invalid_token, rate_limited.")
    message: str = Field(description="What went wrong and what to change, for people.")


class LanguageOut(BaseModel):
    """A language this server offers, with its toolchain's version."""

    id: str
    name: str
    version: str


class LanguageList(BaseModel):
    """The languages this server offers."""

    items: list[LanguageOut]


class UserOut(BaseModel):
    """A person."""

    id: int
    email: str
    name: str
    role: Literal["student", "staff", "admin"]

    @classmethod
    def of(cls, user: User) -> UserOut:
        """Describe ``user``."""
        return cls(id=user.id, email=user.email, name=user.name, role=user.role.value)


class ProblemOut(BaseModel):
    """A problem as listed: its slug names it in URLs and submissions."""

    slug: str
    name: str
    problem_set: str
    hidden: bool
    time_limit: float = Field(description="CPU seconds per test.")
    memory_mb: int
    output_mb: int
    test_count: int
    sample_count: int
    statement_kind: str = Field(description="markdown, pdf, latex or none.")
    url: str = Field(description="The problem's page on this site.")

    @classmethod
    def of(cls, problem: Problem) -> ProblemOut:
        """Describe ``problem``."""
        return cls(**_problem_fields(problem))


class ProblemDetailOut(ProblemOut):
    """A problem with its statement (sanitised HTML)."""

    statement_html: str

    @classmethod
    def of(cls, problem: Problem) -> ProblemDetailOut:
        """Describe ``problem`` with its statement."""
        return cls(**_problem_fields(problem), statement_html=problem.statement_html)


def _problem_fields(problem: Problem) -> dict[str, object]:
    return {
        "slug": problem.slug,
        "name": problem.name,
        "problem_set": problem.problem_set,
        "hidden": problem.hidden,
        "time_limit": problem.time_limit,
        "memory_mb": problem.memory_mb,
        "output_mb": problem.output_mb,
        "test_count": problem.test_count,
        "sample_count": problem.sample_count,
        "statement_kind": problem.statement_kind,
        "url": f"/problems/{problem.slug}",
    }


class ProblemPage(BaseModel):
    """One page of problems."""

    items: list[ProblemOut]
    page: int
    per_page: int
    total: int


class RuleOut(BaseModel):
    """One test group's level and its switches in time."""

    level: Literal["full", "verdict", "summary", "hidden"]
    full_after: datetime | None = Field(None, description="Full feedback from this time on.")
    verdict_after: int | None = Field(
        None, description="At least the verdict once the student sent this many submissions."
    )
    hidden_until: datetime | None = Field(None, description="Hidden before this time (exams).")


class FeedbackOut(BaseModel):
    """A problem's feedback policy: the groups set, every rule in force, and in one sentence."""

    groups: dict[str, RuleOut] = Field(description="The rules set for this problem.")
    effective: dict[str, RuleOut] = Field(description="Every rule in force, defaults included.")
    description: str = Field(description="The policy as the problem page says it.")

    @classmethod
    def of(cls, policy: FeedbackPolicy) -> FeedbackOut:
        """Describe ``policy``."""
        return cls(
            groups={name: RuleOut(**rule.to_json()) for name, rule in policy.groups.items()},
            effective={
                name: RuleOut(**rule.to_json()) for name, rule in policy.effective().items()
            },
            description=policy.describe(),
        )


class ImportOut(BaseModel):
    """What an import did."""

    problem: ProblemDetailOut
    created: bool = Field(description="True for a new problem, False for a re-import.")
    changed: bool = Field(description="False when the same package was already in place.")
    package_hash: str


class PageQuery(BaseModel):
    """Which page of a list to return."""

    page: int = Field(1, ge=1, le=MAX_PAGE, description="1-based page number.")
    per_page: int = Field(DEFAULT_PER_PAGE, ge=1, le=MAX_PER_PAGE)


class SubmissionQuery(PageQuery):
    """Which submissions to list (staff see everyone's; others only their own)."""

    problem: str | None = Field(None, max_length=64, description="A problem slug.")
    user: str | None = Field(None, max_length=320, description="A user's e-mail or id.")
    verdict: str | None = Field(None, max_length=8, description="AC, WA, TLE, ...")
    language: str | None = Field(None, max_length=32)


class FileIn(BaseModel):
    """One source file of a submission."""

    name: str = Field(max_length=255)
    content: str


class SubmissionIn(BaseModel):
    """A submission: one ``source`` text, or several named ``files``."""

    model_config = ConfigDict(extra="forbid")

    problem: str = Field(max_length=64, description="The problem's slug.")
    language: str = Field(max_length=32, description="A language id from GET /languages.")
    source: str | None = Field(None, description="The program's text (one file).")
    files: list[FileIn] | None = Field(None, max_length=MAX_FILES)

    @model_validator(mode="after")
    def one_kind_of_source(self) -> Self:
        """Require exactly one of ``source`` and ``files``."""
        if (self.source is None) == (self.files is None):
            raise ValueError("send either 'source' or 'files', not both and not neither")
        return self

    def encoded_files(self) -> list[tuple[str, bytes]]:
        """Return the files as (name, UTF-8 bytes); a lone ``source`` has no name yet."""
        if self.files is None:
            return [("", _utf8(self.source or ""))]
        return [(file.name, _utf8(file.content)) for file in self.files]


class RunIn(SubmissionIn):
    """Run on my input: sources as for a submission, and ``input`` or a ``sample``'s name."""

    input: str | None = Field(None, description="Standard input (at most 64 KiB).")
    sample: str | None = Field(
        None, max_length=255, description="A sample's name (``1`` or ``sample/1``) to run on."
    )


class RunDiffOut(BaseModel):
    """Where a run's output first differs from the sample's answer."""

    token: int | None = Field(description="The first differing token (1-based); null: none.")
    summary: str


class RunOut(BaseModel):
    """One run's result; nothing of it is stored."""

    status: Literal["done", "compile_error", "judge_error"]
    stdout: str = Field(description="Standard output (its first 64 KiB).")
    stderr: str = Field(description="Standard error (its first 64 KiB).")
    stdout_truncated: bool
    stderr_truncated: bool
    exit: int | None = Field(description="The exit status; null when killed or not run.")
    time_ms: int = Field(description="CPU time in milliseconds.")
    memory_kb: int = Field(description="Peak memory in KiB.")
    compile_output: str
    verdict: str | None = Field(
        description="On a sample: the checker's verdict (AC, WA...); on typed input: TLE, MLE, "
        "RE or OLE when the run failed by itself, else null; CE when it did not build."
    )
    message: str = Field(description="How the run ended, or the checker's message.")
    sample: str | None = Field(description="The sample run on, if any.")
    expected: str | None = Field(description="The sample's answer (its first 64 KiB).")
    diff: RunDiffOut | None = Field(description="On a wrong answer: the first difference.")


def _utf8(text: str) -> bytes:
    # A JSON string may hold a lone surrogate: keep it as invalid UTF-8, which is refused as
    # "not_text" by validation, rather than failing here.
    return text.encode("utf-8", "surrogatepass")


class BatchIn(BaseModel):
    """Up to 20 submissions sent at once."""

    submissions: list[SubmissionIn] = Field(min_length=1, max_length=MAX_BATCH)


class TestOut(BaseModel):
    """The verdict of one test."""

    __test__ = False  # not a pytest class

    index: int
    name: str
    verdict: str
    time_ms: int | None = Field(description="CPU time in milliseconds.")
    memory_kb: int | None = Field(description="Peak memory in KiB.")
    message: str = Field(description="The checker's message; empty below the full level.")


class SummaryOut(BaseModel):
    """The tests a student's feedback policy only counts (the ``summary`` level)."""

    passed: int
    done: int
    total: int


class SubmissionUserOut(BaseModel):
    """Who sent a submission."""

    id: int
    name: str
    email: str


class SubmissionOut(BaseModel):
    """A submission with its current judging: status, verdict, score and each test's result."""

    id: int
    problem: str
    problem_name: str
    user: SubmissionUserOut
    language: str
    status: Literal["queued", "running", "done"]
    verdict: str | None = Field(
        description="AC, WA, TLE, MLE, RE, OLE, CE, JE; null until done, or while the "
        "feedback policy does not disclose the test deciding it."
    )
    score: float | None = Field(
        description="Share of tests passed, 0 to 1; null until done, or while a test is hidden."
    )
    created_at: datetime
    tests_total: int = Field(description="Tests you are told of (hidden ones are not counted).")
    tests_done: int
    tests: list[TestOut] = Field(description="Tests shown at the verdict or full level.")
    summary: SummaryOut | None = Field(
        None, description="Tests only counted (summary level): passed of done of total."
    )
    compile_output: str
    message: str
    judgings: int = Field(description="How many times it was judged (rejudges add one).")


class SubmissionSummaryOut(BaseModel):
    """A submission as listed."""

    id: int
    problem: str
    user: SubmissionUserOut
    language: str
    status: Literal["queued", "running", "done"]
    verdict: str | None
    score: float | None
    created_at: datetime

    @classmethod
    def of(
        cls, submission: Submission, verdict: str | None, score: float | None
    ) -> SubmissionSummaryOut:
        """Describe ``submission`` (its problem and user loaded) with its verdict as shown."""
        user = submission.user
        return cls(
            id=submission.id,
            problem=submission.problem.slug,
            user=SubmissionUserOut(id=user.id, name=user.name, email=user.email),
            language=submission.language,
            status=submission.status.value,
            verdict=verdict,
            score=score,
            created_at=submission.created_at,
        )


class SubmissionPage(BaseModel):
    """One page of submissions, newest first."""

    items: list[SubmissionSummaryOut]
    page: int
    per_page: int
    total: int


class BatchItemOut(BaseModel):
    """The outcome of one submission of a batch: 202 with the submission, or an error."""

    status: int = Field(description="202 when accepted, else the error's HTTP status.")
    submission: SubmissionOut | None = None
    error: str | None = None
    message: str | None = None


class BatchOut(BaseModel):
    """The outcome of each submission of a batch, in the order sent."""

    results: list[BatchItemOut]


class ImportForm(BaseModel):
    """The fields of a package upload (multipart/form-data)."""

    verify: bool = Field(False, description="Judge the package's own submissions first.")
    hidden: bool = Field(False, description="Import the problem hidden from students.")
    problem_set: str | None = Field(None, max_length=64)
    slug: str | None = Field(None, max_length=64)
