"""A problem's feedback policy: how much of each test group a student sees, and when.

A policy maps test groups to a :class:`GroupRule`. A group is ``sample``, ``secret`` or a
secret subgroup such as ``secret/2-large`` (a folder under the package's ``data/``); a test
follows the most specific group that holds it, and groups the policy does not name follow
:data:`DEFAULT_RULES` (samples full, secret tests verdict only). The levels, from least to
most shown, are hidden, summary, verdict and full; a rule's switches move its level in time:

- ``verdict_after`` N submissions: at least verdict once the student sent N to the problem;
- ``full_after`` a time: full from then on;
- ``hidden_until`` a time (exam mode): hidden before then, whatever else the rule says.

Staff always see everything; this module only says what a student sees (pure: no I/O).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

#: Groups a policy may name at most (a package has a handful; this bounds a stored policy).
MAX_GROUPS = 100
#: The largest ``verdict_after`` accepted.
MAX_SUBMISSIONS_SWITCH = 10_000
#: The longest group name accepted (test names are at most 255 characters).
MAX_GROUP_NAME = 200


class Level(enum.IntEnum):
    """How much of a test a student sees, ordered from least to most."""

    HIDDEN = 0  # not listed, not counted
    SUMMARY = 1  # only counted in "7 of 10 passed"
    VERDICT = 2  # name, verdict, time, memory
    FULL = 3  # also input, expected output, the program's output, diff, checker message

    @property
    def label(self) -> str:
        """Return the level's name as policies write it (``full``, ``verdict``...)."""
        return self.name.lower()


class PolicyError(ValueError):
    """A policy as sent cannot be used; the message says what to change."""


@dataclass(frozen=True)
class GroupRule:
    """One group's level and its switches in time."""

    level: Level
    full_after: datetime | None = None
    verdict_after: int | None = None
    hidden_until: datetime | None = None

    def level_at(self, now: datetime, submissions: int) -> Level:
        """Return the level in force at ``now`` for a student with ``submissions`` sent."""
        if self.hidden_until is not None and now < self.hidden_until:
            return Level.HIDDEN
        level = self.level
        if self.verdict_after is not None and submissions >= self.verdict_after:
            level = max(level, Level.VERDICT)
        if self.full_after is not None and now >= self.full_after:
            level = Level.FULL
        return level

    def to_json(self) -> dict[str, Any]:
        """Return the rule as stored and as the API shows it (times in ISO 8601, UTC)."""
        data: dict[str, Any] = {"level": self.level.label}
        if self.full_after is not None:
            data["full_after"] = self.full_after.isoformat()
        if self.verdict_after is not None:
            data["verdict_after"] = self.verdict_after
        if self.hidden_until is not None:
            data["hidden_until"] = self.hidden_until.isoformat()
        return data

    def describe(self) -> str:
        """Return what the rule shows, in words (times in UTC)."""
        words = {
            Level.FULL: "full feedback",
            Level.VERDICT: "verdict only",
            Level.SUMMARY: "only counted as passed or not",
            Level.HIDDEN: "hidden",
        }[self.level]
        switches = []
        if self.verdict_after is not None and self.level < Level.VERDICT:
            plural = "submission" if self.verdict_after == 1 else "submissions"
            switches.append(f"verdicts after {self.verdict_after} {plural}")
        if self.full_after is not None and self.level < Level.FULL:
            switches.append(f"full after {_when(self.full_after)}")
        text = ", ".join([words, *switches])
        if self.hidden_until is not None:
            text = f"hidden until {_when(self.hidden_until)}, then {text}"
        return text


#: What a group the policy does not name follows.
DEFAULT_RULES: Mapping[str, GroupRule] = {
    "sample": GroupRule(Level.FULL),
    "secret": GroupRule(Level.VERDICT),
}


@dataclass(frozen=True)
class FeedbackPolicy:
    """The rules of a problem's test groups (``groups``: only those set explicitly)."""

    groups: Mapping[str, GroupRule] = field(default_factory=dict)

    def rule_for(self, test_name: str) -> GroupRule:
        """Return the rule of the most specific group holding ``test_name``."""
        rules = {**DEFAULT_RULES, **self.groups}
        parts = test_name.split("/")
        for length in range(len(parts) - 1, 0, -1):
            rule = rules.get("/".join(parts[:length]))
            if rule is not None:
                return rule
        # Neither a sample nor a secret test (no package makes one): as secret as it gets.
        return DEFAULT_RULES["secret"]

    def level_of(self, test_name: str, now: datetime, submissions: int) -> Level:
        """Return the level of test ``test_name`` at ``now`` after ``submissions`` sent."""
        return self.rule_for(test_name).level_at(now, submissions)

    def to_json(self) -> dict[str, Any]:
        """Return the policy as stored in ``problems.feedback_policy``."""
        return {"groups": {name: rule.to_json() for name, rule in sorted(self.groups.items())}}

    def effective(self) -> dict[str, GroupRule]:
        """Return every rule in force: the defaults overridden by the policy's own, in order."""
        rules = {**DEFAULT_RULES, **self.groups}
        return {name: rules[name] for name in sorted(rules, key=_group_order)}

    def describe(self) -> str:
        """Return the policy in one sentence for the problem page ("Sample tests: ...")."""
        return " ".join(
            f"{_group_label(name)}: {rule.describe()}." for name, rule in self.effective().items()
        )

    @classmethod
    def from_json(cls, data: Any) -> FeedbackPolicy:
        """Read a policy (stored, or sent by staff); raise PolicyError saying what is wrong."""
        if data is None:
            return cls()
        if not isinstance(data, Mapping) or set(data) - {"groups"}:
            raise PolicyError('a feedback policy is an object {"groups": {<group>: <rule>}}')
        groups = data.get("groups")
        groups = {} if groups is None else groups
        if not isinstance(groups, Mapping):
            raise PolicyError('"groups" must map group names to rules')
        if len(groups) > MAX_GROUPS:
            raise PolicyError(f"{len(groups)} groups given; at most {MAX_GROUPS}")
        return cls({_group_name(name): _rule(name, rule) for name, rule in groups.items()})


def _group_name(name: Any) -> str:
    if not isinstance(name, str) or not name or len(name) > MAX_GROUP_NAME:
        raise PolicyError(f"group {name!r}: name it sample, secret or secret/<subgroup>")
    parts = name.split("/")
    if parts[0] not in {"sample", "secret"} or any(
        part in {"", ".", ".."} or part.startswith(".") for part in parts
    ):
        raise PolicyError(f"group {name!r}: name it sample, secret or secret/<subgroup>")
    return name


def _rule(name: str, data: Any) -> GroupRule:
    if not isinstance(data, Mapping):
        raise PolicyError(f'group {name!r}: a rule is an object such as {{"level": "verdict"}}')
    unknown = set(data) - {"level", "full_after", "verdict_after", "hidden_until"}
    if unknown:
        raise PolicyError(
            f"group {name!r}: unknown keys {sorted(unknown)}; use level, full_after, "
            "verdict_after, hidden_until"
        )
    levels = {level.label: level for level in sorted(Level, reverse=True)}
    level = data.get("level")
    if level not in levels:
        raise PolicyError(f"group {name!r}: level must be one of {', '.join(levels)}")
    verdict_after = data.get("verdict_after")
    if verdict_after is not None and (
        isinstance(verdict_after, bool)
        or not isinstance(verdict_after, int)
        or not 1 <= verdict_after <= MAX_SUBMISSIONS_SWITCH
    ):
        raise PolicyError(
            f"group {name!r}: verdict_after is a number of submissions, 1 to "
            f"{MAX_SUBMISSIONS_SWITCH}"
        )
    return GroupRule(
        levels[level],
        full_after=_moment(name, "full_after", data.get("full_after")),
        verdict_after=verdict_after,
        hidden_until=_moment(name, "hidden_until", data.get("hidden_until")),
    )


def _moment(name: str, key: str, value: Any) -> datetime | None:
    if value is None:
        return None
    problem = (
        f"group {name!r}: {key} must be an ISO 8601 time with its offset, "
        "e.g. 2026-12-04T23:59:00+01:00"
    )
    if not isinstance(value, str):
        raise PolicyError(problem)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise PolicyError(problem) from None
    if moment.tzinfo is None:
        raise PolicyError(problem)
    return moment.astimezone(UTC)


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _group_order(name: str) -> tuple[int, str]:
    return (0 if name.split("/")[0] == "sample" else 1, name)


def _group_label(name: str) -> str:
    if name == "sample":
        return "Sample tests"
    if name == "secret":
        return "Hidden tests"
    return f"Hidden tests in {name.removeprefix('secret/')}"
