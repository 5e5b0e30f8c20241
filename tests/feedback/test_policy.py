"""The feedback policy: which level a test is at, when, and what a bad policy is told."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from service.feedback.policy import FeedbackPolicy, GroupRule, Level, PolicyError

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
BEFORE = (NOW - timedelta(hours=1)).isoformat()
AFTER = (NOW + timedelta(hours=1)).isoformat()


def policy(groups: dict[str, Any]) -> FeedbackPolicy:
    """Return the policy of ``groups`` as staff would send it."""
    return FeedbackPolicy.from_json({"groups": groups})


@pytest.mark.parametrize(
    ("groups", "test", "submissions", "level"),
    [
        ({}, "sample/1", 0, Level.FULL),
        ({}, "secret/1", 0, Level.VERDICT),
        ({}, "secret/g1/deep/03", 0, Level.VERDICT),
        ({"secret": {"level": "summary"}}, "secret/g1/03", 0, Level.SUMMARY),
        ({"secret/g1": {"level": "hidden"}}, "secret/g1/03", 0, Level.HIDDEN),
        ({"secret/g1": {"level": "hidden"}}, "secret/g10/03", 0, Level.VERDICT),
        ({"secret/g1": {"level": "full"}, "secret": {"level": "hidden"}}, "secret/g2/1", 0, 0),
        ({"sample": {"level": "verdict"}}, "sample/1", 0, Level.VERDICT),
        # Switches: full after a time, verdict after N submissions, hidden until a time.
        ({"secret": {"level": "verdict", "full_after": BEFORE}}, "secret/1", 0, Level.FULL),
        ({"secret": {"level": "verdict", "full_after": AFTER}}, "secret/1", 0, Level.VERDICT),
        ({"secret": {"level": "summary", "verdict_after": 3}}, "secret/1", 2, Level.SUMMARY),
        ({"secret": {"level": "summary", "verdict_after": 3}}, "secret/1", 3, Level.VERDICT),
        ({"secret": {"level": "full", "verdict_after": 1}}, "secret/1", 5, Level.FULL),
        ({"secret": {"level": "verdict", "hidden_until": AFTER}}, "secret/1", 9, Level.HIDDEN),
        ({"secret": {"level": "verdict", "hidden_until": BEFORE}}, "secret/1", 0, Level.VERDICT),
        (
            {"secret": {"level": "summary", "hidden_until": AFTER, "full_after": BEFORE}},
            "secret/1",
            0,
            Level.HIDDEN,
        ),
        ({}, "other/1", 0, Level.VERDICT),  # neither sample nor secret: as a secret test
    ],
)
def test_the_level_of_a_test(
    groups: dict[str, Any], test: str, submissions: int, level: Level
) -> None:
    assert policy(groups).level_of(test, NOW, submissions) == level


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ([], "is an object"),
        ({"groups": [], "extra": 1}, "is an object"),
        ({"groups": []}, "must map group names"),
        ({"groups": {f"secret/{n}": {"level": "full"} for n in range(101)}}, "at most 100"),
        ({"groups": {"tests": {"level": "full"}}}, "name it sample, secret"),
        ({"groups": {"secret/../x": {"level": "full"}}}, "name it sample, secret"),
        ({"groups": {"secret/": {"level": "full"}}}, "name it sample, secret"),
        ({"groups": {"secret": "full"}}, "a rule is an object"),
        ({"groups": {"secret": {"level": "most"}}}, "level must be one of"),
        ({"groups": {"secret": {"level": "full", "after": 1}}}, "unknown keys ['after']"),
        ({"groups": {"secret": {"level": "full", "verdict_after": 0}}}, "verdict_after"),
        ({"groups": {"secret": {"level": "full", "verdict_after": True}}}, "verdict_after"),
        ({"groups": {"secret": {"level": "full", "full_after": "Friday"}}}, "ISO 8601"),
        ({"groups": {"secret": {"level": "full", "full_after": 1}}}, "ISO 8601"),
        (
            {"groups": {"secret": {"level": "full", "hidden_until": "2026-12-04T23:59:00"}}},
            "with its offset",
        ),
    ],
)
def test_a_bad_policy_is_refused_saying_why(data: Any, words: str) -> None:
    with pytest.raises(PolicyError) as refused:
        FeedbackPolicy.from_json(data)
    assert words in str(refused.value)


def test_a_policy_reads_back_what_it_stores() -> None:
    sent = {
        "groups": {
            "secret": {"level": "summary", "verdict_after": 2, "full_after": AFTER},
            "secret/g1": {"level": "hidden", "hidden_until": "2026-12-05T00:00:00+01:00"},
        }
    }
    stored = FeedbackPolicy.from_json(sent).to_json()
    assert stored["groups"]["secret/g1"]["hidden_until"] == "2026-12-04T23:00:00+00:00"
    assert FeedbackPolicy.from_json(stored) == FeedbackPolicy.from_json(sent)
    assert FeedbackPolicy.from_json(None) == FeedbackPolicy()


def test_the_policy_in_one_sentence() -> None:
    assert FeedbackPolicy().describe() == (
        "Sample tests: full feedback. Hidden tests: verdict only."
    )
    exam = policy(
        {
            "secret": {"level": "verdict", "full_after": "2026-12-04T23:59:00+00:00"},
            "secret/g2": {
                "level": "summary",
                "verdict_after": 1,
                "hidden_until": "2026-12-01T08:00:00+00:00",
            },
            "secret/g3": {"level": "hidden", "verdict_after": 4},
        }
    )
    assert exam.describe() == (
        "Sample tests: full feedback. "
        "Hidden tests: verdict only, full after 2026-12-04 23:59 UTC. "
        "Hidden tests in g2: hidden until 2026-12-01 08:00 UTC, then only counted as passed "
        "or not, verdicts after 1 submission. "
        "Hidden tests in g3: hidden, verdicts after 4 submissions."
    )


def test_a_rule_switches_only_upwards_but_for_an_exam() -> None:
    rule = GroupRule(Level.FULL, verdict_after=1)
    assert rule.level_at(NOW, 0) is Level.FULL  # verdict_after never lowers a level
