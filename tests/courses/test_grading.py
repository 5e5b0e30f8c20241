"""The grading rules at their edges: each step of the timeline, a daylight saving change,
extensions, the cap, late days, overrides and the explanation a student reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from service.courses.grading import (
    LATE_DAY,
    Attempt,
    ExtensionGrant,
    Override,
    Policy,
    Step,
    Timeline,
    grade_course,
    percent,
)

BERLIN = ZoneInfo("Europe/Berlin")
SECOND = timedelta(seconds=1)
# Europe/Berlin leaves summer time on 2026-10-25 at 03:00 (clocks go back to 02:00).
RELEASE = datetime(2026, 10, 19, 9, 0, tzinfo=BERLIN)
DUE = datetime(2026, 10, 24, 23, 59, tzinfo=BERLIN)  # +02:00
HALF_UNTIL = datetime(2026, 10, 26, 23, 59, tzinfo=BERLIN)  # +01:00, after the change
QUARTER_UNTIL = datetime(2026, 10, 28, 23, 59, tzinfo=BERLIN)
TIMELINE = Timeline(RELEASE, DUE, (Step(HALF_UNTIL, 0.5), Step(QUARTER_UNTIL, 0.25)))
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def policy(timeline: Timeline = TIMELINE, **fields: object) -> Policy:
    """Return an assignment (id 1) of problem 10 (weight 2) and problem 11 (weight 1)."""
    values: dict[str, object] = {"problems": ((10, 2.0), (11, 1.0))}
    values |= fields
    return Policy(1, timeline, **values)  # type: ignore[arg-type]


def one_submission(moment: datetime, score: float = 1.0, **grade_args: object) -> float:
    """Return the credit problem 10 gets from one submission at ``moment``."""
    graded = grade_course([policy()], [Attempt(10, moment, score)], now=NOW, **grade_args)  # type: ignore[arg-type]
    return graded.assignments[0].problems[0].credit


@pytest.mark.parametrize(
    ("moment", "credit"),
    [
        (RELEASE - SECOND, 0.0),
        (RELEASE, 1.0),
        (DUE - SECOND, 1.0),
        (DUE, 1.0),
        (DUE + SECOND, 0.5),
        (HALF_UNTIL - SECOND, 0.5),
        (HALF_UNTIL, 0.5),
        (HALF_UNTIL + SECOND, 0.25),
        (QUARTER_UNTIL, 0.25),
        (QUARTER_UNTIL + SECOND, 0.0),
    ],
)
def test_credit_one_second_around_each_step(moment: datetime, credit: float) -> None:
    assert one_submission(moment) == credit


def test_nothing_is_earned_before_the_release() -> None:
    assert TIMELINE.credit_at(RELEASE - SECOND) == 0.0
    assert TIMELINE.credit_at(RELEASE) == 1.0


def test_steps_are_local_times_across_the_daylight_saving_change() -> None:
    # 23:59 on the 26th is 22:59 UTC (winter time) although the due time was 21:59 UTC.
    assert DUE.astimezone(UTC).hour == 21
    assert HALF_UNTIL.astimezone(UTC).hour == 22
    assert one_submission(datetime(2026, 10, 26, 22, 30, tzinfo=UTC)) == 0.5
    assert one_submission(datetime(2026, 10, 26, 23, 0, tzinfo=UTC)) == 0.25


def test_a_late_day_is_24_real_hours_even_on_the_day_clocks_go_back() -> None:
    # Due 23:59 CEST on the 24th; one token moves it to 22:59 CET on the 25th (24 h later;
    # adding a day to the Berlin time itself would give 23:59, 25 hours later).
    moved = DUE.astimezone(UTC) + LATE_DAY
    assert moved.astimezone(BERLIN).strftime("%d %H:%M %z") == "25 22:59 +0100"
    assert one_submission(moved, late_days=1) == 1.0
    assert one_submission(moved + SECOND, late_days=1) == 0.5


def test_the_best_credited_submission_counts_and_is_explained() -> None:
    attempts = [
        Attempt(10, DUE - SECOND, 0.25),
        Attempt(10, DUE + SECOND, 0.8),  # 0.4 credited: beats 0.25 on time
        Attempt(11, DUE, None),  # still queued
    ]
    grade = grade_course([policy()], attempts, now=NOW).assignments[0]
    assert grade.points == pytest.approx(2 * 0.4)
    assert grade.possible == 3.0
    assert grade.late
    assert grade.explanation == "best 80% at 50% credit; best 0% at 0% credit"
    assert grade.problems[1].counted == 1


def test_a_rejudge_changes_the_grade() -> None:
    before = grade_course([policy()], [Attempt(10, DUE, 0.0)], now=NOW)
    after = grade_course([policy()], [Attempt(10, DUE, 1.0)], now=NOW)
    assert (before.credit, after.credit) == (0.0, pytest.approx(2 / 3))


def test_the_cap_counts_only_the_first_submissions() -> None:
    attempts = [Attempt(10, DUE - 3 * SECOND, 0.5), Attempt(10, DUE - 2 * SECOND, 1.0)]
    capped = grade_course([policy(max_submissions=1)], attempts, now=NOW).assignments[0]
    assert capped.problems[0].best_score == 0.5
    assert capped.problems[0].counted == 1


def test_a_students_extension_beats_their_sections_and_never_moves_the_deadline_back() -> None:
    grants = (
        ExtensionGrant(DUE + 2 * LATE_DAY, order=1, section_id=5),
        ExtensionGrant(DUE - LATE_DAY, order=2, member_id=9),
    )
    late = [Attempt(10, DUE + LATE_DAY, 1.0)]
    mine = grade_course(
        [policy(extensions=grants)], late, now=NOW, member_id=9, section_id=5
    ).assignments[0]
    assert mine.timeline.due_at == DUE  # the earlier personal grant wins, and changes nothing
    assert not mine.extended
    sections = grade_course(
        [policy(extensions=grants)], late, now=NOW, member_id=8, section_id=5
    ).assignments[0]
    assert sections.extended
    assert sections.problems[0].credit == 1.0
    # The late steps shift with the extension.
    assert sections.timeline.late[0].until == HALF_UNTIL + 2 * LATE_DAY


def test_late_days_go_to_the_earliest_assignment_that_needs_them() -> None:
    first = Policy(1, TIMELINE, ((10, 1.0),))
    second = Policy(2, TIMELINE.shifted(timedelta(days=7)), ((11, 1.0),))
    attempts = [
        Attempt(10, DUE + LATE_DAY + SECOND, 1.0),  # needs two tokens for full credit
        Attempt(11, DUE + timedelta(days=7) + SECOND, 1.0),  # needs one
    ]
    graded = grade_course([first, second], attempts, now=NOW, late_days=2)
    assert [a.late_days_used for a in graded.assignments] == [2, 0]
    assert (graded.late_days_used, graded.late_days_left) == (2, 0)
    assert graded.assignments[0].explanation == "best 100% at 100% credit (2 late days used)"
    assert graded.assignments[1].problems[0].credit == 0.5


def test_no_token_is_spent_when_it_would_not_raise_the_grade() -> None:
    graded = grade_course([policy()], [Attempt(10, DUE, 1.0)], now=NOW, late_days=3)
    assert (graded.late_days_used, graded.late_days_left) == (0, 3)


def test_an_override_replaces_the_computed_grade() -> None:
    graded = grade_course(
        [policy()],
        [Attempt(10, DUE, 1.0)],
        now=NOW,
        late_days=1,
        overrides={1: Override(0.9, "medical note")},
    )
    grade = graded.assignments[0]
    assert grade.credit == pytest.approx(0.9)
    assert grade.explanation == "set by hand to 90%: medical note"
    assert not grade.late


def test_the_course_grade_weighs_released_assignments_only() -> None:
    done = Policy(1, TIMELINE, ((10, 1.0),), weight=3.0)
    later = Policy(2, Timeline(NOW + SECOND, None), ((11, 1.0),), weight=1.0)
    open_forever = Policy(3, Timeline(RELEASE, None), ((11, 1.0),), weight=1.0)
    attempts = [Attempt(10, DUE, 1.0), Attempt(11, QUARTER_UNTIL + LATE_DAY, 0.5)]
    graded = grade_course([done, later, open_forever], attempts, now=NOW)
    assert graded.credit == pytest.approx((3 * 1.0 + 1 * 0.5) / 4)
    assert grade_course([later], attempts, now=NOW).credit == 0.0


def test_closes_at_is_the_last_moment_with_credit() -> None:
    assert TIMELINE.closes_at == QUARTER_UNTIL
    assert Timeline(RELEASE, None).closes_at is None
    assert Timeline(RELEASE, DUE, (Step(HALF_UNTIL, 0.0),)).closes_at == DUE


@pytest.mark.parametrize(("value", "shown"), [(0.4, "40%"), (1.0, "100%"), (1 / 3, "33.3%")])
def test_percentages_read_plainly(value: float, shown: str) -> None:
    assert percent(value) == shown
