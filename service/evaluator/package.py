"""Problem packages in the Kattis/ICPC format (legacy and 2025-09), from a directory or a zip.

``load_package`` reads ``problem.yaml`` (name, limits, validation, validator flags), DOMjudge's
``.timelimit``, the test data under ``data/sample`` and ``data/secret`` (nested groups in sorted
order), the output validator's sources, the statements and the example submissions with the
verdicts they expect. A zip is unpacked by ``archive.extract_archive``, which checks every
member's name, type and size first (no absolute paths, ``..``, symlinks, duplicates, bombs); its
ArchiveError reaches the callers here as a PackageError.

Exceptions::

    PackageError          the package is malformed or unsafe; the message names the file
    └── UnsupportedProblem  a valid package of a kind not judged yet (interactive, scoring, ...)

Unknown ``problem.yaml`` keys are ignored (the 2025-09 spec would reject them) so packages made
for newer tools still load. See docs/problem-packages.md.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from service.evaluator.archive import DEFAULT_ZIP_LIMITS, ArchiveError, ZipLimits, extract_archive
from service.evaluator.scoring import GroupRules, ScoreGroup, Scoring
from service.evaluator.validators import CheckerFlagError, parse_flags

SLUG = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
NEW_FORMAT_VERSIONS = ("2025-09", "2023-07", "2023-07-draft", "2025-09-draft", "draft")
LEGACY_FORMAT_VERSIONS = ("legacy", "legacy-icpc")
MAX_YAML_BYTES = 1 << 20
#: At most this many values (scalars, lists, maps) in one YAML file, each alias counted as
#: everything it repeats: a few hundred bytes of nested aliases would expand to billions.
MAX_YAML_NODES = 100_000
#: Lists and maps in a YAML file nest at most this deep.
MAX_YAML_DEPTH = 50

#: What ``partially_accepted`` expects: a score strictly between 0 and the maximum.
PARTIAL = "partial"
#: Verdict codes a submission in each ``submissions/`` folder may get (Kattis and DOMjudge names).
CATEGORY_VERDICTS: Mapping[str, tuple[str, ...]] = {
    "accepted": ("AC",),
    "slow_accepted": ("AC",),
    "wrong_answer": ("WA",),
    "time_limit_exceeded": ("TLE",),
    "run_time_error": ("RE", "MLE"),
    "memory_limit_exceeded": ("MLE",),
    "compiler_error": ("CE",),
    "output_limit": ("OLE",),
    "no_output": ("WA",),
    "rejected": ("WA", "TLE", "RE", "MLE", "OLE"),
    "brute_force": ("TLE", "RE", "MLE"),
    # Scoring problems: more than 0 points and less than the maximum (see verify).
    "partially_accepted": (PARTIAL,),
}

#: DOMjudge's ``@EXPECTED_RESULTS@`` names, as verdict codes: the older names and the ones
#: DOMjudge writes now (``ACCEPTED``, ``RUN_TIME_ERROR``, ...). ``_`` and ``-`` are the same.
EXPECTED_RESULT_VERDICTS: Mapping[str, tuple[str, ...]] = {
    "CORRECT": ("AC",),
    "ACCEPTED": ("AC",),
    "WRONG-ANSWER": ("WA",),
    "TIMELIMIT": ("TLE",),
    "TIME-LIMIT-EXCEEDED": ("TLE",),
    "RUN-ERROR": ("RE", "MLE"),
    "RUN-TIME-ERROR": ("RE", "MLE"),
    "MEMORY-LIMIT": ("MLE",),
    "MEMORY-LIMIT-EXCEEDED": ("MLE",),
    "COMPILER-ERROR": ("CE",),
    "COMPILE-ERROR": ("CE",),
    "NO-OUTPUT": ("WA",),
    "OUTPUT-LIMIT": ("OLE",),
    "OUTPUT-LIMIT-EXCEEDED": ("OLE",),
}
#: The tag with its colon, as DOMjudge writes it (a mention in prose without one is no tag).
_EXPECTED_TAG = re.compile(rb"@EXPECTED_RESULTS@:[ \t]*([A-Za-z_, \t-]*)")
_TAG_SCAN_BYTES = 256 * 1024
#: DOMjudge's file beside the sources of a multi-file submission, holding its expected results.
EXPECTED_RESULT_FILE = "expected_result.txt"
#: DOMjudge's folder of submissions whose result a person checks: judged, never compared.
CHECK_MANUALLY = "check_manually"


class PackageError(Exception):
    """The package is malformed or unsafe; the message names the file and what is wrong."""


class UnsupportedProblem(PackageError):
    """The package is well formed but of a kind Verdict does not judge yet."""


@dataclass(frozen=True)
class TestCase:
    """One test: ``name`` is its path under ``data/`` without extension, e.g. ``secret/g1/03``."""

    __test__ = False  # not a pytest class

    name: str
    input: Path
    answer: Path
    sample: bool
    validator_flags: tuple[str, ...] = ()  # problem flags + the test's group/test yaml args
    # Arguments of the input validators from the nearest group yaml: (validator name, args),
    # the name "" standing for every validator.
    input_validator_args: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def input_args(self, validator: str) -> tuple[str, ...]:
        """Return the arguments input validator ``validator`` gets on this test."""
        named = dict(self.input_validator_args)
        return named.get(validator, named.get("", ()))


@dataclass(frozen=True)
class InputValidatorProgram:
    """One input validator of the package: its name and source files."""

    name: str  # the folder's name, or the file's without its extension
    files: tuple[Path, ...]


@dataclass(frozen=True)
class ProblemLimits:
    """Limits from ``problem.yaml`` and ``.timelimit``; seconds and MiB."""

    time_limit: float | None = None
    time_multiplier: float = 5.0  # ac_to_time_limit
    time_safety_margin: float = 2.0  # time_limit_to_tle
    memory_mb: int = 2048
    output_mb: int = 8
    compilation_time: int = 60
    compilation_memory_mb: int = 2048
    validation_time: int = 60
    validation_memory_mb: int = 2048
    validation_output_mb: int = 8
    validation_passes: int = 2  # multi-pass problems: the most runs of the submission per test


@dataclass(frozen=True)
class SubmissionRule:
    """A requirement of ``submissions/submissions.yaml`` (2025-09) on one submission.

    On the tests matching ``tests`` (a glob under ``data/``; "" for every test): each verdict
    must be in ``permitted``, at least one in ``required`` (the spec's names: AC, WA, TLE,
    RTE); the score (of the submission, or of the group ``tests`` names) within ``score``;
    ``message`` in at least one test's message.
    """

    tests: str = ""
    permitted: frozenset[str] | None = None
    required: frozenset[str] | None = None
    score: tuple[float, float] | None = None
    message: str | None = None
    source: str = ""  # the glob of submissions.yaml it comes from


@dataclass(frozen=True)
class PackagedSubmission:
    """An example submission under ``submissions/`` and the verdicts it may get."""

    path: str  # relative to submissions/, e.g. "accepted/a.py" or "accepted/multi"
    files: tuple[Path, ...]
    expected: tuple[str, ...]
    category: str = ""  # the folder, e.g. "slow_accepted"
    problem: str = ""  # what is wrong with its expectation (an unknown tag), if anything
    rules: tuple[SubmissionRule, ...] = ()  # from submissions.yaml
    replaces_folder: bool = False  # submissions.yaml redefines its folder's requirement

    @property
    def check_manually(self) -> bool:
        """Return whether a person checks its result (DOMjudge's ``check_manually``)."""
        return self.category == CHECK_MANUALLY


@dataclass(frozen=True)
class ProblemPackage:
    """A loaded problem package (the database row of a problem is ``service.models.Problem``)."""

    root: Path
    slug: str
    name: str
    limits: ProblemLimits
    validation: str  # "default" or "custom"
    validator_flags: tuple[str, ...]
    tests: tuple[TestCase, ...]
    validator_files: tuple[Path, ...]
    submissions: tuple[PackagedSubmission, ...]
    statements: tuple[Path, ...] = ()
    format_version: str = "legacy"
    input_validators: tuple[InputValidatorProgram, ...] = ()
    problem_type: str = "pass-fail"  # or "scoring"
    submit_answer: bool = False  # a submission is the answer files, not a program
    interactive: bool = False  # the validator talks with the submission (the interactor)
    multi_pass: bool = False  # the validator may ask for another run (nextpass.in)
    scoring: Scoring | None = None  # the groups' scoring rules, for scoring problems

    @property
    def samples(self) -> tuple[TestCase, ...]:
        """Return the sample tests."""
        return tuple(test for test in self.tests if test.sample)

    @property
    def samples_only(self) -> bool:
        """Return whether every test is a sample (DOMjudge accepts such packages)."""
        return all(test.sample for test in self.tests)


def is_package(path: Path) -> bool:
    """Return whether ``path`` looks like a problem package (a zip, or a dir with problem.yaml)."""
    if path.is_dir():
        return (path / "problem.yaml").is_file()
    return path.is_file() and zipfile.is_zipfile(path)


def load_package(
    path: Path, *, extract_to: Path | None = None, zip_limits: ZipLimits = DEFAULT_ZIP_LIMITS
) -> ProblemPackage:
    """Load a problem package from a directory or a .zip (extracted to ``extract_to`` or tmp)."""
    path = Path(path)
    if path.is_dir():
        slug = _slug(path.resolve().name, path)
        root = path.resolve()
        _check_directory_links(root)
        return _load_root(root, slug)
    if not path.is_file():
        raise PackageError(f"{path}: no such package (expected a directory or a .zip file)")
    stem = path.name[: -len(path.suffix)] if path.suffix else path.name
    slug = _slug(stem, path)
    if extract_to is not None:
        extract_zip(path, extract_to, zip_limits)
        return _load_root(_zip_root(extract_to, path), slug)
    target = Path(tempfile.mkdtemp(prefix=f"verdict-{slug}-"))
    try:
        extract_zip(path, target, zip_limits)
        return _load_root(_zip_root(target, path), slug)
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise


def _slug(name: str, path: Path) -> str:
    if not SLUG.fullmatch(name):
        raise PackageError(
            f"{path}: the package name '{name}' must be 1-64 lowercase letters, digits, '-' or '_' "
            "starting with a letter or digit: rename the directory or zip"
        )
    return name


# --- zips -----------------------------------------------------------------------------------


def extract_zip(archive: Path, target: Path, limits: ZipLimits = DEFAULT_ZIP_LIMITS) -> None:
    """Extract a package zip into ``target`` (created, must be empty); raise PackageError."""
    try:
        extract_archive(archive, target, limits)
    except ArchiveError as error:
        raise PackageError(str(error)) from error


def _zip_root(target: Path, archive: Path) -> Path:
    if (target / "problem.yaml").is_file():
        return target
    entries = [
        entry
        for entry in target.iterdir()
        if not entry.name.startswith(".") and entry.name != "__MACOSX"  # macOS resource forks
    ]
    if len(entries) == 1 and entries[0].is_dir() and (entries[0] / "problem.yaml").is_file():
        return entries[0]
    raise PackageError(
        f"{archive.name}: no problem.yaml at the top of the zip or in its single top folder"
    )


def _check_directory_links(root: Path) -> None:
    real_root = os.path.realpath(root)
    for current, directories, files in os.walk(root):
        for entry in (*directories, *files):
            path = os.path.join(current, entry)
            if not os.path.islink(path):
                continue
            resolved = os.path.realpath(path)
            relative = os.path.relpath(path, root)
            if os.path.commonpath([real_root, resolved]) != real_root:
                raise PackageError(f"{relative}: symbolic link pointing outside the package")
            if not os.path.exists(resolved):
                raise PackageError(f"{relative}: broken symbolic link")


# --- problem.yaml ---------------------------------------------------------------------------


class _YamlTooLarge(Exception):
    """A YAML file nests too deep or expands to too many values; the message says how."""


class _BoundedLoader(yaml.SafeLoader):
    """The safe loader, refusing nesting beyond MAX_YAML_DEPTH and expansion beyond MAX_YAML_NODES.

    Each node's expanded size (itself plus everything under it, an alias counting as all it
    repeats) is worked out once, as it is composed, from its children's: a bomb is refused at
    the first level past the bound, before anything walks (or prints) the expanded value.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        # id(node) -> expanded size; a node stays alive in the document while it is composed.
        self._sizes: dict[int, int] = {}

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        """Compose one node, refusing it when it nests too deep or expands too far."""
        if self.check_event(yaml.AliasEvent):
            node = super().compose_node(parent, index)
            if node is not None and id(node) not in self._sizes:  # still being composed
                name = next((key for key, known in self.anchors.items() if known is node), "")
                raise _YamlTooLarge(f"an alias (*{name}) inside the list or map it names")
            return node
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                raise _YamlTooLarge(f"lists and maps nested deeper than {MAX_YAML_DEPTH} levels")
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        if node is not None:
            size = 1 + sum(self._sizes[id(child)] for child in _children(node))
            if size > MAX_YAML_NODES:
                raise _YamlTooLarge(
                    f"more than {MAX_YAML_NODES} values once its aliases are expanded"
                    " (write the values out, or use fewer aliases)"
                )
            self._sizes[id(node)] = size
        return node


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _read_yaml(path: Path, root: Path) -> dict[str, Any]:
    """Load a package's YAML file, bounded in size, nesting and alias expansion."""
    relative = path.relative_to(root).as_posix()
    with path.open("rb") as source:
        raw = source.read(MAX_YAML_BYTES + 1)
    if len(raw) > MAX_YAML_BYTES:
        raise PackageError(f"{relative}: larger than {MAX_YAML_BYTES} bytes")
    loader: _BoundedLoader | None = None
    try:
        loader = _BoundedLoader(raw.decode("utf-8"))
        data = loader.get_single_data()
    except UnicodeDecodeError:
        raise PackageError(f"{relative}: not UTF-8 text") from None
    except _YamlTooLarge as error:
        raise PackageError(f"{relative}: refused: {error}") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error)
        raise PackageError(f"{relative}: invalid YAML{where}: {problem}") from None
    finally:
        if loader is not None:
            loader.dispose()
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise PackageError(f"{relative}: expected a map of keys at the top, got {_kind(data)}")
    return data


def _kind(value: object) -> str:
    if isinstance(value, list):
        return "a list"
    text = str(value)
    if len(text) > 40:
        text = text[:40] + "..."
    return f"the text '{text}'" if isinstance(value, str) else f"'{text}'"


def _number(
    section: Mapping[str, Any], key: str, where: str, *, integer: bool, minimum: float | None = None
) -> float | None:
    if key not in section or section[key] is None:
        return None
    value = section[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PackageError(f"{where}: '{key}' must be a number, got {_kind(value)}")
    if not -1e15 < value < 1e15:  # also catches inf, nan and ints too big for a float
        raise PackageError(f"{where}: '{key}' is out of range, got {_kind(value)}")
    if integer and not float(value).is_integer():
        raise PackageError(f"{where}: '{key}' must be a whole number, got {value}")
    if minimum is not None and value < minimum:
        raise PackageError(f"{where}: '{key}' must be at least {minimum:g}, got {value}")
    return float(value)


def _positive(section: Mapping[str, Any], key: str, where: str, *, integer: bool) -> float | None:
    value = _number(section, key, where, integer=integer)
    if value is not None and value <= 0:
        raise PackageError(f"{where}: '{key}' must be greater than 0, got {section[key]}")
    return value


def _flags(value: object, where: str, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(value.split())
    if isinstance(value, list) and all(
        isinstance(item, str | int | float) and not isinstance(item, bool) for item in value
    ):
        return tuple(str(item) for item in value)
    raise PackageError(
        f"{where}: '{key}' must be a string or a list of strings, got {_kind(value)}"
    )


def _format_version(config: Mapping[str, Any]) -> str:
    raw = config.get("problem_format_version")
    if raw is None:
        return "legacy"
    version = str(raw).strip()
    if version in LEGACY_FORMAT_VERSIONS or version in NEW_FORMAT_VERSIONS:
        return version
    known = ", ".join(LEGACY_FORMAT_VERSIONS + NEW_FORMAT_VERSIONS)
    raise PackageError(f"problem.yaml: unknown problem_format_version '{version}' (known: {known})")


def _name(config: Mapping[str, Any], slug: str) -> str:
    name = config.get("name")
    if name is None:
        return slug
    if isinstance(name, str | int | float) and not isinstance(name, bool):
        return str(name).strip() or slug
    if isinstance(name, dict) and name:
        chosen = name.get("en", next(iter(name.values())))
        if isinstance(chosen, str) and chosen.strip():
            return chosen.strip()
    raise PackageError("problem.yaml: 'name' must be a string or a map of language to name")


#: Problem types judged here.
JUDGED_TYPES = ("pass-fail", "scoring", "submit-answer", "interactive", "multi-pass")
KNOWN_TYPES = ("pass-fail", "scoring", "interactive", "multi-pass", "submit-answer")


def _validation(
    config: Mapping[str, Any], new_format: bool, has_validator: bool
) -> tuple[str, str, str]:
    """Return the validation, the problem type, and how a submission runs: "" (a program on
    each test), "submit-answer", "interactive" or "multi-pass"."""
    if new_format:
        kinds = config.get("type", "pass-fail")
        kinds = [kinds] if isinstance(kinds, str) else kinds
        if not isinstance(kinds, list) or not all(isinstance(kind, str) for kind in kinds):
            raise PackageError("problem.yaml: 'type' must be a string or a list of strings")
        unknown = [kind for kind in kinds if kind not in KNOWN_TYPES]
        if unknown:
            raise PackageError(
                f"problem.yaml: unknown problem type '{unknown[0]}' (known: "
                + ", ".join(KNOWN_TYPES)
                + ")"
            )
        unsupported = [kind for kind in kinds if kind not in JUDGED_TYPES]
        if unsupported:
            raise UnsupportedProblem(
                f"problem.yaml: problem type '{' '.join(unsupported)}' is not supported yet "
                "(pass-fail, scoring, interactive and submit-answer problems are judged)"
            )
        for other in ("interactive", "multi-pass"):
            if "submit-answer" in kinds and other in kinds:
                raise PackageError(
                    f"problem.yaml: the types 'submit-answer' and '{other}' exclude each other"
                )
        if "multi-pass" in kinds and "interactive" in kinds:
            raise UnsupportedProblem(
                "problem.yaml: interactive multi-pass problems are not supported yet"
            )
        problem_type = "scoring" if "scoring" in kinds else "pass-fail"
        validation = "custom" if has_validator else "default"
        kind = next((k for k in ("submit-answer", "interactive", "multi-pass") if k in kinds), "")
        return validation, problem_type, kind
    raw = config.get("validation", "default")
    if not isinstance(raw, str):
        raise PackageError(f"problem.yaml: 'validation' must be a string, got {_kind(raw)}")
    words = raw.split()
    if not words or words[0] not in ("default", "custom"):
        raise PackageError(f"problem.yaml: 'validation' must be 'default' or 'custom', got '{raw}'")
    extra = words[1:]
    unknown = [word for word in extra if word not in ("score", "interactive")]
    if unknown:
        raise PackageError(f"problem.yaml: unknown validation option '{unknown[0]}'")
    legacy_type = config.get("type", "pass-fail")
    if legacy_type not in ("pass-fail", "scoring"):
        raise PackageError(
            f"problem.yaml: 'type' must be 'pass-fail' or 'scoring', got {_kind(legacy_type)}"
        )
    scoring = legacy_type == "scoring" or "score" in extra
    return (
        words[0],
        "scoring" if scoring else "pass-fail",
        ("interactive" if "interactive" in extra else ""),
    )


def _limits(config: Mapping[str, Any], new_format: bool, root: Path) -> ProblemLimits:
    raw = config.get("limits", {})
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise PackageError(f"problem.yaml: 'limits' must be a map, got {_kind(raw)}")
    where = "problem.yaml limits"
    defaults = ProblemLimits()
    multiplier = defaults.time_multiplier
    margin = defaults.time_safety_margin
    if new_format:
        multiplier, margin = 2.0, 1.5  # the 2025-09 defaults of time_multipliers
    multipliers = raw.get("time_multipliers", {}) or {}
    if not isinstance(multipliers, dict):
        raise PackageError(f"{where}: 'time_multipliers' must be a map, got {_kind(multipliers)}")
    inner = f"{where} time_multipliers"
    multiplier = _first(
        _number(multipliers, "ac_to_time_limit", inner, integer=False, minimum=1),
        _number(raw, "time_multiplier", where, integer=False, minimum=1),
        multiplier,
    )
    margin = _first(
        _number(multipliers, "time_limit_to_tle", inner, integer=False, minimum=1),
        _number(raw, "time_safety_margin", where, integer=False, minimum=1),
        margin,
    )
    time_limit = _positive(raw, "time_limit", where, integer=False)
    if time_limit is None:
        time_limit = _timelimit_file(root)

    def whole(key: str, default: int) -> int:
        value = _positive(raw, key, where, integer=True)
        return default if value is None else int(value)

    return ProblemLimits(
        time_limit=time_limit,
        time_multiplier=multiplier,
        time_safety_margin=margin,
        memory_mb=whole("memory", defaults.memory_mb),
        output_mb=whole("output", defaults.output_mb),
        compilation_time=whole("compilation_time", defaults.compilation_time),
        compilation_memory_mb=whole("compilation_memory", defaults.compilation_memory_mb),
        validation_time=whole("validation_time", defaults.validation_time),
        validation_memory_mb=whole("validation_memory", defaults.validation_memory_mb),
        validation_output_mb=whole("validation_output", defaults.validation_output_mb),
        validation_passes=_passes(raw, where, defaults.validation_passes),
    )


def _passes(raw: Mapping[str, Any], where: str, default: int) -> int:
    value = _number(raw, "validation_passes", where, integer=True, minimum=2)
    return default if value is None else int(value)


def _first(*values: float | None) -> float:
    for value in values:
        if value is not None:
            return value
    raise AssertionError("the last value is a default")  # pragma: no cover


def _timelimit_file(root: Path) -> float | None:
    path = root / ".timelimit"
    if not path.is_file():
        return None
    text = path.read_text(encoding="utf-8", errors="replace").strip()
    try:
        value = float(text)
    except ValueError:
        raise PackageError(f".timelimit: expected a number of seconds, got '{text[:40]}'") from None
    if not 0 < value < float("inf"):
        raise PackageError(f".timelimit: the time limit must be greater than 0, got '{text}'")
    return value


# --- data ------------------------------------------------------------------------------------


def _visible(path: Path) -> bool:
    return not path.name.startswith((".", "-"))


def _group_flags(directory: Path, root: Path, inherited: tuple[str, ...]) -> tuple[str, ...]:
    for file_name in ("test_group.yaml", "testdata.yaml"):
        path = directory / file_name
        if path.is_file():
            config = _read_yaml(path, root)
            where = path.relative_to(root).as_posix()
            for key in ("output_validator_args", "output_validator_flags"):
                if key in config:
                    return _flags(config[key], where, key)
            return inherited
    return inherited


InputArgs = tuple[tuple[str, tuple[str, ...]], ...]


def _group_input_args(directory: Path, root: Path, inherited: InputArgs) -> InputArgs:
    """Return the input validators' arguments of a group: its yaml's, else its parent's.

    ``input_validator_args`` (2025-09: a list, or a map of validator name to list) or
    ``input_validator_flags`` (legacy: a string, or a map of validator name to string).
    """
    for file_name in ("test_group.yaml", "testdata.yaml"):
        path = directory / file_name
        if not path.is_file():
            continue
        config = _read_yaml(path, root)
        where = path.relative_to(root).as_posix()
        for key in ("input_validator_args", "input_validator_flags"):
            if key not in config:
                continue
            value = config[key]
            if isinstance(value, dict):
                return tuple(
                    (str(name), _flags(args, where, f"{key}: {name}"))
                    for name, args in value.items()
                )
            return (("", _flags(value, where, key)),)
        return inherited
    return inherited


def _collect_tests(
    directory: Path,
    root: Path,
    sample: bool,
    problem_flags: tuple[str, ...],
    inherited: tuple[str, ...],
    inherited_input: InputArgs = (),
) -> list[TestCase]:
    flags = _group_flags(directory, root, inherited)
    input_args = _group_input_args(directory, root, inherited_input)
    entries: dict[str, Path] = {}
    for entry in directory.iterdir():
        if not _visible(entry):
            continue
        if entry.is_dir():
            key = entry.name
        elif entry.name.endswith(".in") and entry.is_file():
            key = entry.name[:-3]
        else:
            continue
        if key in entries:
            relative = entry.relative_to(root).as_posix()
            raise PackageError(f"{relative}: a test case and a test group share the name '{key}'")
        entries[key] = entry
    tests: list[TestCase] = []
    for key in sorted(entries):
        entry = entries[key]
        if entry.is_dir():
            tests.extend(_collect_tests(entry, root, sample, problem_flags, flags, input_args))
            continue
        answer = entry.with_name(key + ".ans")
        name = entry.relative_to(root / "data").with_suffix("").as_posix()
        if not answer.is_file():
            raise PackageError(
                f"{entry.relative_to(root).as_posix()}: the test has no answer file "
                f"{answer.relative_to(root).as_posix()}"
            )
        test_flags = flags
        settings = entry.with_name(key + ".yaml")
        if settings.is_file():
            config = _read_yaml(settings, root)
            if "output_validator_args" in config:
                where = settings.relative_to(root).as_posix()
                test_flags = _flags(config["output_validator_args"], where, "output_validator_args")
        tests.append(TestCase(name, entry, answer, sample, problem_flags + test_flags, input_args))
    return tests


def _tests(root: Path, problem_flags: tuple[str, ...]) -> tuple[TestCase, ...]:
    data = root / "data"
    if not data.is_dir():
        raise PackageError("data/: missing (the tests go in data/sample and data/secret)")
    top_flags = _group_flags(data, root, ())
    top_input = _group_input_args(data, root, ())
    tests: list[TestCase] = []
    sample_dir = data / "sample"
    if sample_dir.is_dir():
        tests.extend(_collect_tests(sample_dir, root, True, problem_flags, top_flags, top_input))
    secret_dir = data / "secret"
    if secret_dir.is_dir():
        tests.extend(_collect_tests(secret_dir, root, False, problem_flags, top_flags, top_input))
    if not tests:
        # Samples alone are enough (DOMjudge judges them); no test at all is not.
        raise PackageError(
            "data/: no test cases (expected .in and .ans files in data/sample or data/secret)"
        )
    return tuple(tests)


# --- programs and statements -----------------------------------------------------------------


def _program_files(path: Path) -> tuple[Path, ...]:
    if path.is_file():
        return (path,)
    found: list[Path] = []
    for current, directories, files in os.walk(path):
        directories[:] = sorted(name for name in directories if not name.startswith("."))
        found.extend(
            Path(current) / name for name in sorted(files) if not name.startswith((".", "-"))
        )
    return tuple(found)


def _validator_files(root: Path, new_format: bool) -> tuple[Path, ...]:
    single = root / "output_validator"
    several = root / "output_validators"
    order = (single, several) if new_format else (several, single)
    for directory in order:
        if not directory.is_dir():
            continue
        if directory is single:
            return _program_files(directory)
        programs = sorted(entry for entry in directory.iterdir() if _visible(entry))
        if len(programs) > 1:
            names = ", ".join(entry.name for entry in programs)
            raise PackageError(
                f"output_validators/: holds several validators ({names}); only one is supported"
            )
        if programs:
            return _program_files(programs[0])
    return ()


class _BadExpectation(Exception):
    """A submission's expected results cannot be read; the message says why."""


def _result_codes(text: str, where: str) -> tuple[str, ...]:
    """Return the verdict codes of a comma-separated list of DOMjudge result names."""
    codes: list[str] = []
    for raw in text.split(","):
        name = raw.strip().upper().replace("_", "-")
        if not name:
            continue
        if name not in EXPECTED_RESULT_VERDICTS:
            known = ", ".join(EXPECTED_RESULT_VERDICTS)
            raise _BadExpectation(
                f"{where}: unknown @EXPECTED_RESULTS@ result '{raw.strip()}' (known: {known})"
            )
        codes.extend(code for code in EXPECTED_RESULT_VERDICTS[name] if code not in codes)
    if not codes:
        raise _BadExpectation(f"{where}: @EXPECTED_RESULTS@ lists no result")
    return tuple(codes)


# --- scoring ----------------------------------------------------------------------------------


_VERDICT_MODES = ("worst_error", "first_error", "always_accept")
_SCORE_MODES = ("sum", "avg", "min", "max")
_GRADER_FLAGS = (*_VERDICT_MODES, *_SCORE_MODES, "ignore_sample", "accept_if_any_accepted")


def _legacy_rules(config: Mapping[str, Any], where: str) -> GroupRules:
    """Return a group's rules from its (or its closest ancestor's) testdata.yaml."""
    grading = config.get("grading", "default")
    if grading != "default":
        raise UnsupportedProblem(f"{where}: grading '{grading}' is not supported yet")
    on_reject = config.get("on_reject", "break")
    if on_reject not in ("break", "continue"):
        raise PackageError(f"{where}: 'on_reject' must be 'break' or 'continue'")
    verdict_mode, score_mode = "worst_error", "sum"
    ignore_sample = accept_any = False
    for flag in _flags(config.get("grader_flags"), where, "grader_flags"):
        if flag not in _GRADER_FLAGS:
            raise PackageError(
                f"{where}: unknown grader flag '{flag}' (known: {', '.join(_GRADER_FLAGS)})"
            )
        if flag in _VERDICT_MODES:
            verdict_mode = flag
        elif flag in _SCORE_MODES:
            score_mode = flag
        elif flag == "ignore_sample":
            ignore_sample = True
        else:
            accept_any = True
    accept = _number(config, "accept_score", where, integer=False)
    reject = _number(config, "reject_score", where, integer=False)
    low, high = -float("inf"), float("inf")
    if config.get("range") is not None:
        words = str(config["range"]).split()
        try:
            low, high = (float(word) for word in words)
        except ValueError:
            raise PackageError(
                f"{where}: 'range' must be two numbers (or inf), got '{config['range']}'"
            ) from None
    return GroupRules(
        on_reject=on_reject,
        verdict_mode=verdict_mode,
        score_mode=score_mode,
        ignore_sample=ignore_sample,
        accept_if_any_accepted=accept_any,
        accept_score=1.0 if accept is None else accept,
        reject_score=0.0 if reject is None else reject,
        low=low,
        high=high,
    )


def _new_rules(config: Mapping[str, Any], where: str, secret: bool) -> GroupRules:
    """Return a 2025-09 group's rules from its test_group.yaml (defaults for secret or not)."""
    aggregation = config.get("score_aggregation", "sum" if secret else "pass-fail")
    if aggregation not in ("pass-fail", "sum", "min"):
        raise PackageError(f"{where}: 'score_aggregation' must be pass-fail, sum or min")
    raw = config.get("max_score", 100 if secret else "unbounded")
    if raw == "unbounded":
        max_score = None
    else:
        value = _number(config, "max_score", where, integer=True, minimum=0)
        max_score = 100.0 if value is None else value
    if aggregation == "pass-fail" and max_score is None:
        raise PackageError(f"{where}: a pass-fail group needs a max_score")
    return GroupRules(aggregation=aggregation, max_score=max_score)


def _scoring(root: Path, tests: Iterable[TestCase], new_format: bool) -> Scoring:
    """Build the tree of scored groups from the test names and the groups' yaml files."""
    data = root / "data"
    names = [test.name for test in tests]
    if new_format:
        secret_config = _group_config(data / "secret", root, "test_group.yaml")
        top = _new_rules(secret_config, "data/secret/test_group.yaml", secret=True)
        groups: dict[str, list[str]] = {}
        direct: list[str] = []
        for name in names:
            parts = name.split("/")
            if parts[0] != "secret":
                continue  # samples do not score
            if len(parts) > 2:
                groups.setdefault("/".join(parts[:2]), []).append(name)
            else:
                direct.append(name)
        children: list[ScoreGroup | str] = list(direct)
        for group, members in groups.items():
            config = _group_config(data / group, root, "test_group.yaml")
            rules = _new_rules(config, f"data/{group}/test_group.yaml", secret=False)
            children.append(ScoreGroup(group, rules, tuple(members)))
        return Scoring(legacy=False, root=ScoreGroup("secret", top, tuple(children)))
    return Scoring(legacy=True, root=_legacy_group(data, root, "", names, {}))


def _group_config(directory: Path, root: Path, file_name: str) -> dict[str, Any]:
    path = directory / file_name
    return _read_yaml(path, root) if path.is_file() else {}


def _legacy_group(
    data: Path, root: Path, name: str, names: list[str], inherited: Mapping[str, Any]
) -> ScoreGroup:
    directory = data / name if name else data
    path = directory / "testdata.yaml"
    config = _read_yaml(path, root) if path.is_file() else inherited
    where = path.relative_to(root).as_posix()
    prefix = f"{name}/" if name else ""
    children: list[ScoreGroup | str] = []
    seen: set[str] = set()
    for test in names:
        if not test.startswith(prefix):
            continue
        rest = test[len(prefix) :].split("/")
        if len(rest) == 1:
            children.append(test)
        elif rest[0] not in seen:
            seen.add(rest[0])
            children.append(_legacy_group(data, root, prefix + rest[0], names, config))
    return ScoreGroup(name, _legacy_rules(config, where), tuple(children))


#: Folders of input validators: the spec's, legacy problemtools' and DOMjudge's spelling.
INPUT_VALIDATOR_FOLDERS = ("input_validators", "input_format_validators", "input_validator")


def _input_validators(root: Path) -> tuple[InputValidatorProgram, ...]:
    """Return every input validator: each file or folder in the input validator folders."""
    found: list[InputValidatorProgram] = []
    for folder in INPUT_VALIDATOR_FOLDERS:
        directory = root / folder
        if not directory.is_dir():
            continue
        for entry in sorted(directory.iterdir()):
            if _visible(entry) and (files := _program_files(entry)):
                name = entry.name if entry.is_dir() else entry.stem  # "range" for range.py
                found.append(InputValidatorProgram(name, files))
    return tuple(found)


def _expected_from_tags(files: Iterable[Path], root: Path) -> tuple[str, ...] | None:
    """Return what the ``@EXPECTED_RESULTS@`` tags of ``files`` expect (None: no tag).

    Tags in several files must agree; raise _BadExpectation otherwise or for unknown names.
    """
    found: dict[str, tuple[str, ...]] = {}
    for path in files:
        with path.open("rb") as source:
            head = source.read(_TAG_SCAN_BYTES)
        match = _EXPECTED_TAG.search(head)
        if match is None:
            continue
        where = path.relative_to(root).as_posix()
        found[where] = _result_codes(match.group(1).decode(), where)
    if len(set(found.values())) > 1:
        raise _BadExpectation(
            f"{', '.join(found)}: their @EXPECTED_RESULTS@ tags disagree; keep one"
        )
    return next(iter(found.values()), None)


def _expected_from_file(entry: Path, root: Path) -> tuple[str, ...] | None:
    """Return what a folder's ``expected_result.txt`` expects (None: no such file)."""
    path = entry / EXPECTED_RESULT_FILE
    if not entry.is_dir() or not path.is_file():
        return None
    text = path.read_bytes()[:_TAG_SCAN_BYTES].decode("utf-8", errors="replace")
    match = _EXPECTED_TAG.search(text.encode())
    if match is not None:
        names = match.group(1).decode()
    else:  # the names alone, on the first line
        names = text.strip().splitlines()[0] if text.strip() else ""
    return _result_codes(names, path.relative_to(root).as_posix())


def _submissions(root: Path) -> tuple[PackagedSubmission, ...]:
    base = root / "submissions"
    if not base.is_dir():
        return ()
    found: list[PackagedSubmission] = []
    for category in sorted(base.iterdir()):
        if not category.is_dir() or not _visible(category):
            continue  # submissions.yaml, README
        for entry in sorted(category.iterdir()):
            if not _visible(entry):
                continue
            files = tuple(
                path for path in _program_files(entry) if path.name != EXPECTED_RESULT_FILE
            )
            if not files:
                continue
            path = f"{category.name}/{entry.name}"
            # The folder's expectation, unless expected_result.txt or a tag says otherwise;
            # a folder of another tool without either expects nothing (verify skips it).
            expected = CATEGORY_VERDICTS.get(category.name, ())
            problem = ""
            try:
                written = _expected_from_file(entry, root)
                if written is None:
                    written = _expected_from_tags(files, root)
            except _BadExpectation as error:
                expected, problem = (), str(error)
            else:
                expected = expected if written is None else written
            found.append(PackagedSubmission(path, files, expected, category.name, problem))
    config = base / "submissions.yaml"
    if not config.is_file():
        return tuple(found)
    return tuple(_with_rules(found, _read_yaml(config, root)))


#: Keys of a submissions.yaml entry that are no requirement Verdict checks.
_SUBMISSION_INFO_KEYS = (
    "language",
    "entrypoint",
    "authors",
    "model_solution",
    "use_for_time_limit",
)
_RULE_KEYS = ("permitted", "required", "score", "message")
_SPEC_VERDICTS = ("AC", "WA", "TLE", "RTE")


def _with_rules(
    found: list[PackagedSubmission], config: Mapping[str, Any]
) -> list[PackagedSubmission]:
    """Attach the requirements of submissions.yaml to the submissions its globs match."""
    where = "submissions/submissions.yaml"
    result: list[PackagedSubmission] = []
    parsed: list[tuple[str, list[SubmissionRule]]] = []
    for pattern, entry in config.items():
        if not isinstance(entry, dict):
            raise PackageError(f"{where}: '{pattern}' must map to a map of requirements")
        entry_rules = [_rule(entry, "", str(pattern), where)]
        for key, value in entry.items():
            if key in _RULE_KEYS or key in _SUBMISSION_INFO_KEYS:
                continue
            if not isinstance(value, dict):
                raise PackageError(f"{where}: '{pattern}': '{key}' must map to requirements")
            entry_rules.append(_rule(value, str(key), str(pattern), where))
        parsed.append((str(pattern), [rule for rule in entry_rules if not _empty(rule)]))
    for submission in found:
        matched: list[SubmissionRule] = []
        replaces = False
        for pattern, pattern_rules in parsed:
            if glob_matches(pattern, submission.path):
                matched.extend(pattern_rules)
                replaces = replaces or pattern.strip("/") == submission.category
        result.append(
            dataclasses.replace(submission, rules=tuple(matched), replaces_folder=replaces)
        )
    return result


def _empty(rule: SubmissionRule) -> bool:
    return (
        rule.permitted is None
        and rule.required is None
        and rule.score is None
        and (rule.message is None)
    )


def _rule(entry: Mapping[str, Any], tests: str, pattern: str, where: str) -> SubmissionRule:
    def verdicts(key: str) -> frozenset[str] | None:
        if key not in entry:
            return None
        value = entry[key]
        names = [value] if isinstance(value, str) else value
        if not isinstance(names, list) or not all(name in _SPEC_VERDICTS for name in names):
            raise PackageError(
                f"{where}: '{pattern}' {key} must list verdicts among {', '.join(_SPEC_VERDICTS)}"
            )
        return frozenset(names)

    score: tuple[float, float] | None = None
    if "score" in entry:
        raw = entry["score"]
        values = raw if isinstance(raw, list) else [raw, raw]
        if len(values) != 2 or not all(
            isinstance(value, int | float) and not isinstance(value, bool) for value in values
        ):
            raise PackageError(f"{where}: '{pattern}' score must be a number or two numbers")
        score = (float(min(values)), float(max(values)))
    message = entry.get("message")
    return SubmissionRule(
        tests=tests,
        permitted=verdicts("permitted"),
        required=verdicts("required"),
        score=score,
        message=None if message is None else str(message),
        source=pattern,
    )


def _expand_braces(pattern: str) -> list[str]:
    match = re.search(r"\{([^{}]*)\}", pattern)
    if match is None:
        return [pattern]
    head, tail = pattern[: match.start()], pattern[match.end() :]
    return [
        expanded
        for choice in match.group(1).split(",")
        for expanded in _expand_braces(head + choice + tail)
    ]


def glob_matches(pattern: str, path: str) -> bool:
    """Return whether a submissions.yaml glob matches ``path`` or one of its parent folders.

    ``*`` matches within one name (never ``/``); ``{a,b}`` alternatives are expanded.
    """
    parts = path.split("/")
    for expanded in _expand_braces(pattern):
        wanted = expanded.strip("/").split("/")
        if len(wanted) <= len(parts) and all(
            fnmatch.fnmatchcase(part, glob) for part, glob in zip(parts, wanted, strict=False)
        ):
            return True
    return False


def _statements(root: Path) -> tuple[Path, ...]:
    found: list[Path] = []
    for folder in ("statement", "problem_statement"):
        directory = root / folder
        if directory.is_dir():
            found.extend(
                sorted(
                    entry
                    for entry in directory.iterdir()
                    if entry.is_file()
                    and entry.name.startswith("problem.")
                    and entry.suffix in (".md", ".tex", ".pdf")
                )
            )
    return tuple(found)


# --- the whole package -----------------------------------------------------------------------


def _load_root(root: Path, slug: str) -> ProblemPackage:
    config_path = root / "problem.yaml"
    if not config_path.is_file():
        raise PackageError("problem.yaml: missing at the top of the package")
    config = _read_yaml(config_path, root)
    version = _format_version(config)
    new_format = version in NEW_FORMAT_VERSIONS
    validator_files = _validator_files(root, new_format)
    validation, problem_type, runs = _validation(config, new_format, bool(validator_files))
    if runs in ("interactive", "multi-pass") and not validator_files:
        needs = "the interactor" if runs == "interactive" else "it writes nextpass.in"
        raise PackageError(
            f"problem.yaml: {'an' if runs == 'interactive' else 'a'} {runs} problem needs its"
            f" validator ({needs}) in "
            + ("output_validator/" if new_format else "output_validators/")
        )
    if validation == "custom" and not validator_files:
        raise PackageError(
            "problem.yaml: validation is 'custom' but output_validators/ holds no validator"
        )
    if validation == "default":
        validator_files = ()
    problem_flags = _flags(config.get("validator_flags"), "problem.yaml", "validator_flags")
    tests = _tests(root, problem_flags)
    if validation == "default":
        for test in tests:
            try:
                parse_flags(test.validator_flags)
            except CheckerFlagError as error:
                raise PackageError(
                    f"problem.yaml/test data: invalid flags for the default validator in test "
                    f"{test.name}: {error}"
                ) from None
    distinct = {test.validator_flags for test in tests}
    flags = distinct.pop() if len(distinct) == 1 else problem_flags
    return ProblemPackage(
        root=root,
        slug=slug,
        name=_name(config, slug),
        limits=_limits(config, new_format, root),
        validation=validation,
        validator_flags=flags,
        tests=tests,
        validator_files=validator_files,
        submissions=_submissions(root),
        statements=_statements(root),
        format_version=version,
        input_validators=_input_validators(root),
        problem_type=problem_type,
        submit_answer=runs == "submit-answer",
        interactive=runs == "interactive",
        multi_pass=runs == "multi-pass",
        scoring=_scoring(root, tests, new_format) if problem_type == "scoring" else None,
    )
