"""The evaluator core: sandbox, languages, problem packages, checkers and the runner.

Nothing here imports Quart, SQLAlchemy or any other `service` module, so the same code
runs inside the web process, in a remote worker and on the command line.

This module is the core's public face: code outside ``service/evaluator/`` imports these
names from ``service.evaluator``, never from the submodules. The submodules import each
other directly, never this module, so there is no import cycle.

- judging: ``evaluate`` yields ``CompileStarted``, ``CompileFinished``, ``TestFinished`` and
  ``Finished`` (together ``Event``), each carrying a ``Verdict``;
- packages: ``load_package`` returns a ``ProblemPackage`` or raises ``PackageError``;
  ``extract_zip`` unpacks a package zip within ``ZipLimits``;
- languages: the registry (``get_language``, ``offered_languages``, ...);
- the sandbox contract: ``Sandbox`` runs a ``RunSpec`` within ``Limits`` and returns a
  ``RunResult``; ``create_sandbox`` picks one, ``SandboxUnavailable`` says why it cannot;
- ``verify`` judges a package's own submissions against the verdicts they expect;
- ``try_program`` runs sources once on one input ("run on my input"), nothing judged.
"""

from __future__ import annotations

from service.evaluator.archive import ArchiveError, ZipLimits
from service.evaluator.checkers import Checker, DefaultChecker, ValidatorError
from service.evaluator.languages import (
    LANGUAGES,
    Language,
    OfferedLanguage,
    UnknownLanguageError,
    get_language,
    known_language,
    language_for_files,
    language_for_paths,
    offered_ids,
    offered_languages,
)
from service.evaluator.package import (
    SLUG,
    PackagedSubmission,
    PackageError,
    ProblemLimits,
    ProblemPackage,
    TestCase,
    UnsupportedProblem,
    extract_zip,
    is_package,
    load_package,
)
from service.evaluator.runner import (
    DEFAULT_TIME_LIMIT,
    CompileFinished,
    CompileStarted,
    Event,
    Finished,
    Mode,
    TestFinished,
    evaluate,
)
from service.evaluator.sandbox import (
    MIB,
    Bind,
    BwrapSandbox,
    Limits,
    Outcome,
    RunResult,
    RunSpec,
    Sandbox,
    SandboxUnavailable,
    UnsafeRlimitSandbox,
    create_sandbox,
)
from service.evaluator.trial import TrialResult, try_program
from service.evaluator.validators import CheckResult
from service.evaluator.verdicts import Verdict
from service.evaluator.verify import SubmissionReport, VerifyError, VerifyReport, verify

__all__ = [
    "DEFAULT_TIME_LIMIT",
    "LANGUAGES",
    "MIB",
    "SLUG",
    "ArchiveError",
    "Bind",
    "BwrapSandbox",
    "CheckResult",
    "Checker",
    "CompileFinished",
    "CompileStarted",
    "DefaultChecker",
    "Event",
    "Finished",
    "Language",
    "Limits",
    "Mode",
    "OfferedLanguage",
    "Outcome",
    "PackageError",
    "PackagedSubmission",
    "ProblemLimits",
    "ProblemPackage",
    "RunResult",
    "RunSpec",
    "Sandbox",
    "SandboxUnavailable",
    "SubmissionReport",
    "TestCase",
    "TestFinished",
    "TrialResult",
    "UnknownLanguageError",
    "UnsafeRlimitSandbox",
    "UnsupportedProblem",
    "ValidatorError",
    "Verdict",
    "VerifyError",
    "VerifyReport",
    "ZipLimits",
    "create_sandbox",
    "evaluate",
    "extract_zip",
    "get_language",
    "is_package",
    "known_language",
    "language_for_files",
    "language_for_paths",
    "load_package",
    "offered_ids",
    "offered_languages",
    "try_program",
    "verify",
]
