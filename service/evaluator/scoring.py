"""Scores of scoring problems: per test, per test group (nested) and for the submission.

Two rule sets, as the two package formats define them:

- **legacy** (``testdata.yaml``): each group's result comes from the default grader applied
  to its children (test cases and subgroups, in order): ``on_reject: break`` (the default)
  ignores the children after the first rejected one; the verdict is ``worst_error``
  (default), ``first_error`` or ``always_accept``, or accepted when any child is with
  ``accept_if_any_accepted``; the score is the ``sum`` (default), ``avg``, ``min`` or ``max``
  of the children's scores, clamped to ``range``; a rejected group scores 0 (the spec
  ignores the score of a rejected result), so does a rejected submission. A test case
  scores ``accept_score`` (default 1, or the validator's ``score.txt``) when accepted and
  ``reject_score`` (default 0) otherwise. ``ignore_sample`` at the root leaves the sample
  group out. A group without ``testdata.yaml`` uses its closest ancestor's.
- **2025-09** (``test_group.yaml``): only ``secret`` scores (samples do not). ``secret``
  has ``max_score`` 100 and ``sum`` aggregation by default; a group's aggregation is
  ``pass-fail`` by default (its ``max_score`` when every test passes, else 0), or ``sum`` /
  ``min`` of its test cases' scores. A test case in a ``sum`` group is worth ``max_score / N``,
  in a ``min`` group ``max_score``; it scores that when accepted (times the validator's
  ``score_multiplier.txt``, or the validator's ``score.txt``), 0 otherwise.

The maximum score is what a submission accepted on every test gets (legacy: at the
``accept_score`` values, or the top of the root's ``range`` when it has one). The core
treats a scoring submission as accepted (AC) only when it reaches that maximum.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

#: Tolerance when comparing a score with the maximum (scores are sums of floats).
EPSILON = 1e-6
#: Verdicts in the order ``worst_error`` ranks them (legacy grader), worst first.
_WORST_FIRST = ("JE", "RE", "MLE", "TLE", "OLE", "WA", "CE")


@dataclass(frozen=True)
class GroupRules:
    """How one test group's result is computed from its children."""

    # legacy (testdata.yaml)
    on_reject: str = "break"  # or "continue"
    verdict_mode: str = "worst_error"  # or "first_error", "always_accept"
    score_mode: str = "sum"  # or "avg", "min", "max"
    ignore_sample: bool = False
    accept_if_any_accepted: bool = False
    accept_score: float = 1.0
    reject_score: float = 0.0
    low: float = -math.inf
    high: float = math.inf
    # 2025-09 (test_group.yaml)
    aggregation: str = "sum"  # "pass-fail", "sum" or "min"
    max_score: float | None = None  # None: unbounded


@dataclass(frozen=True)
class ScoreGroup:
    """A test group: its name under ``data/`` ("" for data itself), rules and children."""

    name: str
    rules: GroupRules
    children: tuple[ScoreGroup | str, ...] = ()  # subgroups, and test names

    def tests(self) -> list[str]:
        """Return the names of every test under this group, in order."""
        found: list[str] = []
        for child in self.children:
            found.extend(child.tests() if isinstance(child, ScoreGroup) else [child])
        return found


@dataclass(frozen=True)
class Scoring:
    """The scoring rules of a problem: the format's rule set and the tree of groups."""

    legacy: bool
    root: ScoreGroup  # legacy: data/ (sample and secret); 2025-09: secret

    def group_of(self, test: str) -> ScoreGroup:
        """Return the group directly holding ``test``."""
        found = _find(self.root, test)
        if found is None:
            raise KeyError(test)
        return found

    @property
    def max_score(self) -> float:
        """Return the most a submission can score.

        Legacy: the top of the root's ``range`` when it has one (the spec measures
        ``partially_accepted`` against it; validators' ``score.txt`` may give any points),
        else the score of a submission accepted on every test. 2025-09: the latter.
        """
        if self.legacy and math.isfinite(self.root.rules.high):
            return self.root.rules.high
        return aggregate(self, {name: TestScore("AC") for name in self.root.tests()}).score

    def test_max(self, test: str) -> float | None:
        """Return what ``test`` is worth (None: unbounded, or not a scored test)."""
        group = self.group_of(test)
        if self.legacy:
            return group.rules.accept_score
        rules = group.rules
        if rules.aggregation == "pass-fail" or rules.max_score is None:
            return None
        if rules.aggregation == "min":
            return rules.max_score
        count = sum(1 for child in group.children if isinstance(child, str))
        return rules.max_score / max(count, 1)

    def test_score(self, test: str, verdict: str, reported: TestScore | None = None) -> float:
        """Return the points ``test`` earns with ``verdict`` (and the validator's score)."""
        if _find(self.root, test) is None:
            return 0.0  # a sample in 2025-09: never scored
        group = self.group_of(test)
        if self.legacy:
            if verdict != "AC":
                return group.rules.reject_score
            if reported is not None and reported.score is not None:
                return reported.score
            return group.rules.accept_score
        if verdict != "AC":
            return 0.0
        worth = self.test_max(test)
        if reported is not None and reported.score is not None:
            return reported.score
        if worth is None:
            return 0.0
        if reported is not None and reported.multiplier is not None:
            return worth * reported.multiplier
        return worth


@dataclass(frozen=True)
class TestScore:
    """One test's verdict and what its validator said about its score, if anything."""

    __test__ = False  # not a pytest class

    verdict: str
    score: float | None = None  # score.txt
    multiplier: float | None = None  # score_multiplier.txt (2025-09)


@dataclass(frozen=True)
class GroupResult:
    """A group's aggregated verdict and score, and its maximum."""

    name: str
    verdict: str
    score: float
    max_score: float | None


@dataclass(frozen=True)
class Aggregate:
    """The submission's score and every group's result, outermost first."""

    score: float
    verdict: str
    groups: tuple[GroupResult, ...] = field(default=())


def aggregate(scoring: Scoring, results: Mapping[str, TestScore]) -> Aggregate:
    """Aggregate test results into group results and the submission's score.

    A test missing from ``results`` (not run) counts as rejected.
    """
    groups: list[GroupResult] = []
    maxima = _maxima(scoring)
    verdict, score = _group(scoring, scoring.root, results, groups, maxima)
    groups.sort(key=lambda group: (group.name.count("/"), group.name))
    return Aggregate(score, verdict, tuple(groups))


def _maxima(scoring: Scoring) -> dict[str, float]:
    everything = {name: TestScore("AC") for name in scoring.root.tests()}
    collected: list[GroupResult] = []
    _group(scoring, scoring.root, everything, collected, {})
    return {group.name: group.score for group in collected}


def _group(
    scoring: Scoring,
    group: ScoreGroup,
    results: Mapping[str, TestScore],
    collected: list[GroupResult],
    maxima: Mapping[str, float],
) -> tuple[str, float]:
    """Return a group's verdict and score, appending every group's result to ``collected``."""
    parts: list[tuple[str, float]] = []
    children = group.children
    if scoring.legacy and group.rules.ignore_sample:
        children = tuple(child for child in children if _name(child) != "sample")
    for child in children:
        if isinstance(child, ScoreGroup):
            verdict, score = _group(scoring, child, results, collected, maxima)
        else:
            outcome = results.get(child, TestScore("WA"))
            verdict, score = outcome.verdict, scoring.test_score(child, outcome.verdict, outcome)
        parts.append((verdict, score))
        if scoring.legacy and verdict != "AC" and group.rules.on_reject == "break":
            break
    verdict, score = (
        _legacy_result(group.rules, parts) if scoring.legacy else _new_result(group, parts)
    )
    if scoring.legacy and verdict != "AC":
        score = 0.0  # the spec: the score of a rejected result is ignored
    maximum = maxima.get(group.name)
    if not scoring.legacy and group.rules.max_score is not None:
        maximum = group.rules.max_score
    collected.append(GroupResult(group.name, verdict, score, maximum))
    return verdict, score


def _name(child: ScoreGroup | str) -> str:
    return (child.name if isinstance(child, ScoreGroup) else child).rsplit("/", 1)[-1]


def _legacy_result(rules: GroupRules, parts: Sequence[tuple[str, float]]) -> tuple[str, float]:
    verdicts = [verdict for verdict, _ in parts]
    failed = [verdict for verdict in verdicts if verdict != "AC"]
    accepted = (
        not failed
        or rules.verdict_mode == "always_accept"
        or (rules.accept_if_any_accepted and "AC" in verdicts)
    )
    if accepted:
        verdict = "AC"
    elif rules.verdict_mode == "first_error":
        verdict = failed[0]
    else:
        verdict = min(failed, key=lambda v: _WORST_FIRST.index(v) if v in _WORST_FIRST else 99)
    scores = [score for _, score in parts] or [0.0]
    combined = {
        "sum": sum(scores),
        "avg": sum(scores) / len(scores),
        "min": min(scores),
        "max": max(scores),
    }[rules.score_mode]
    return verdict, min(max(combined, rules.low), rules.high)


def _new_result(group: ScoreGroup, parts: Sequence[tuple[str, float]]) -> tuple[str, float]:
    rules = group.rules
    failed = [verdict for verdict, _ in parts if verdict != "AC"]
    verdict = failed[0] if failed else "AC"
    if rules.aggregation == "pass-fail":
        return verdict, (rules.max_score or 0.0) if not failed else 0.0
    scores = [score for _, score in parts] or [0.0]
    return verdict, sum(scores) if rules.aggregation == "sum" else min(scores)


def _find(group: ScoreGroup, test: str) -> ScoreGroup | None:
    for child in group.children:
        if isinstance(child, ScoreGroup):
            found = _find(child, test)
            if found is not None:
                return found
        elif child == test:
            return group
    return None
