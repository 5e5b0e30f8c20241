"""The grading core agrees with a small reference over 10,000 random histories.

A history is a course's assignments and a sequence of things that happen to one student:
submissions (judged or still queued), rejudges that change a score, deadlines moved,
extensions granted to the student or their section (also after the fact, also earlier than
the deadline), late-day tokens given, grades overridden. The reference below replays the
history in its own way (integer ticks, exact fractions, its own walk over the timeline and
its own token search) and must give exactly what ``service.courses.grading`` gives.

Scores and credits are multiples of 1/4 and weights small integers, so exact fractions and
floats agree to the last bit and a tie is a tie in both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.courses import grading

pytestmark = pytest.mark.slow

EXAMPLES = int(__import__("os").environ.get("GRADING_EXAMPLES", "10000"))
START = datetime(2026, 3, 1, tzinfo=UTC)
#: Times are whole ticks of six hours after START, so submissions land on deadlines often.
TICK = timedelta(hours=6)
DAY = 4  # ticks: one late-day token
MEMBER, SECTION, OTHER_SECTION = 7, 3, 4
QUARTERS = [Fraction(n, 4) for n in range(5)]


def at(tick: int) -> datetime:
    """Return the moment ``tick`` ticks after START."""
    return START + tick * TICK


# ---------------------------------------------------------------- the reference


@dataclass
class RefAssignment:
    """An assignment as the reference keeps it: all times in ticks."""

    ident: int
    release: int
    due: int | None
    steps: list[tuple[int, Fraction]]
    weights: dict[int, int]
    weight: int
    cap: int | None


@dataclass
class RefSubmission:
    """A submission in the reference's log (a rejudge changes its score)."""

    problem: int
    tick: int
    score: Fraction | None


@dataclass
class RefState:
    """Everything the history produced, folded."""

    assignments: list[RefAssignment]
    submissions: list[RefSubmission] = field(default_factory=list)
    grants: list[tuple[int, int, str, int]] = field(default_factory=list)  # order, aid, who, due
    tokens: int = 0
    overrides: dict[int, Fraction] = field(default_factory=dict)
    section: int | None = SECTION


def ref_credit(assignment: RefAssignment, shift: int, tick: int) -> Fraction:
    """Walk the timeline from the release on; return the credit at ``tick``."""
    if tick < assignment.release:
        return Fraction(0)
    if assignment.due is None:
        return Fraction(1)
    boundaries = [(assignment.due + shift, Fraction(1))]
    boundaries += [(until + shift, credit) for until, credit in assignment.steps]
    for end, credit in boundaries:
        if tick <= end:
            return credit
    return Fraction(0)


def ref_extension_shift(state: RefState, assignment: RefAssignment) -> int:
    """Return how many ticks the student's extension moves this assignment (never back)."""
    if assignment.due is None:
        return 0
    mine = [g for g in state.grants if g[1] == assignment.ident and g[2] == "member"]
    theirs = [
        g
        for g in state.grants
        if g[1] == assignment.ident and g[2] == "section" and state.section == SECTION
    ]
    chosen = max(mine) if mine else max(theirs) if theirs else None
    if chosen is None:
        return 0
    return max(0, chosen[3] - assignment.due)


def ref_problem(
    state: RefState, assignment: RefAssignment, problem: int, shift: int
) -> tuple[Fraction, Fraction, Fraction, int, bool]:
    """Return (credited, score, credit, counted, late) of the best submission to ``problem``."""
    counted = [
        s for s in state.submissions if s.problem == problem and s.tick >= assignment.release
    ]
    counted.sort(key=lambda s: s.tick)  # stable: same-tick submissions keep their order
    if assignment.cap is not None:
        del counted[assignment.cap :]
    best = (Fraction(0), Fraction(0), Fraction(0), len(counted), False)
    found = False
    for submission in counted:
        if submission.score is None:
            continue
        credit = ref_credit(assignment, shift, submission.tick)
        value = submission.score * credit
        if not found or value > best[0]:
            found = True
            late = assignment.due is not None and submission.tick > assignment.due + shift
            best = (value, submission.score, credit, len(counted), late)
    return best


def ref_points(state: RefState, assignment: RefAssignment, shift: int) -> Fraction:
    """Return the points of an assignment with the timeline moved by ``shift`` ticks."""
    total = Fraction(0)
    for problem, weight in assignment.weights.items():
        total += weight * ref_problem(state, assignment, problem, shift)[0]
    return total


def ref_tokens(state: RefState) -> dict[int, int]:
    """Spend tokens as documented: earliest effective due first, fewest for the most points."""
    order = sorted(
        (a.due + ref_extension_shift(state, a), a.ident)
        for a in state.assignments
        if a.due is not None and a.ident not in state.overrides
    )
    left = state.tokens
    spent: dict[int, int] = {}
    by_id = {a.ident: a for a in state.assignments}
    for _, ident in order:
        assignment = by_id[ident]
        shift = ref_extension_shift(state, assignment)
        outcomes = [(ref_points(state, assignment, shift + k * DAY), -k) for k in range(left + 1)]
        points, negative_k = max(outcomes)
        if points > outcomes[0][0]:
            spent[ident] = -negative_k
            left += negative_k
    return spent


# ---------------------------------------------------------------- random histories


SMALL = st.integers(1, 3)
OPTIONAL_SMALL = st.none() | SMALL
STEP_COUNT = st.integers(0, 3)
STEP_LENGTH = st.integers(1, 2 * DAY)
RELEASE = st.integers(0, 3 * DAY)
DUE_AFTER = st.none() | st.integers(0, 5 * DAY)
DROPS = [st.integers(0, quarters) for quarters in range(5)]
PROBLEM_SETS = st.lists(SMALL, min_size=1, max_size=3, unique=True)


@st.composite
def assignments(draw: st.DrawFn) -> list[RefAssignment]:
    """Draw one to three assignments over problems 1..3 (strategies built once: it is hot)."""
    result = []
    for ident in range(1, draw(SMALL) + 1):
        release = draw(RELEASE)
        after = draw(DUE_AFTER)
        due = None if after is None else release + after
        steps: list[tuple[int, Fraction]] = []
        if due is not None:
            until, quarters = due, 4
            for _ in range(draw(STEP_COUNT)):
                until += draw(STEP_LENGTH)
                quarters -= draw(DROPS[quarters])  # credit never goes up
                steps.append((until, Fraction(quarters, 4)))
        weights = {problem: draw(SMALL) for problem in draw(PROBLEM_SETS)}
        result.append(
            RefAssignment(ident, release, due, steps, weights, draw(SMALL), draw(OPTIONAL_SMALL))
        )
    return result


@dataclass(frozen=True)
class Submit:
    """The student submits to ``problem`` at ``tick``; ``score`` None: not judged yet."""

    problem: int
    tick: int
    score: Fraction | None


@dataclass(frozen=True)
class Rejudge:
    """The ``index``-th submission (if there is one) is judged again and scores ``score``."""

    index: int
    score: Fraction


@dataclass(frozen=True)
class Move:
    """Assignment ``ident``'s deadline (and its late steps) move by ``ticks``."""

    ident: int
    ticks: int


@dataclass(frozen=True)
class Extend:
    """An extension of ``ident`` to its current due time plus ``offset``, for ``who``."""

    ident: int
    who: str  # "member", "section" (the student's) or "elsewhere" (another section)
    offset: int


@dataclass(frozen=True)
class Tokens:
    """The course now gives ``count`` late days."""

    count: int


@dataclass(frozen=True)
class SetGrade:
    """A staff member overrides assignment ``ident`` with ``credit``."""

    ident: int
    credit: Fraction


Event = Submit | Rejudge | Move | Extend | Tokens | SetGrade
SCORES = st.sampled_from(QUARTERS)
EVENTS: st.SearchStrategy[Event] = st.one_of(
    st.builds(Submit, st.integers(1, 3), st.integers(0, 12 * DAY), st.none() | SCORES),
    st.builds(Rejudge, st.integers(0, 15), SCORES),
    st.builds(Move, st.integers(1, 3), st.integers(-2 * DAY, 2 * DAY)),
    st.builds(
        Extend,
        st.integers(1, 3),
        st.sampled_from(["member", "section", "elsewhere"]),
        st.integers(-DAY, 4 * DAY),
    ),
    st.builds(Tokens, st.integers(0, 4)),
    st.builds(SetGrade, st.integers(1, 3), SCORES),
)


def replay(course: list[RefAssignment], events: list[Event]) -> RefState:
    """Fold the events into the state they leave."""
    state = RefState(course)
    by_id = {a.ident: a for a in course}
    for order, event in enumerate(events):
        match event:
            case Submit(problem, tick, score):
                state.submissions.append(RefSubmission(problem, tick, score))
            case Rejudge(index, score) if index < len(state.submissions):
                state.submissions[index].score = score
            case Move(ident, ticks) if ident in by_id and by_id[ident].due is not None:
                moved = by_id[ident]
                assert moved.due is not None
                ticks = max(ticks, moved.release - moved.due)  # never before the release
                moved.due += ticks
                moved.steps = [(until + ticks, credit) for until, credit in moved.steps]
            case Extend(ident, who, offset) if ident in by_id and by_id[ident].due is not None:
                target = by_id[ident]
                assert target.due is not None
                state.grants.append((order, ident, who, target.due + offset))
            case Tokens(count):
                state.tokens = count
            case SetGrade(ident, credit) if ident in by_id:
                state.overrides[ident] = credit
    return state


# ---------------------------------------------------------------- the same history, graded


def policies(state: RefState) -> list[grading.Policy]:
    """Describe the folded state to the grading core."""
    result = []
    for a in state.assignments:
        grants = []
        for order, ident, who, due in state.grants:
            if ident != a.ident:
                continue
            if who == "member":
                grants.append(grading.ExtensionGrant(at(due), order, member_id=MEMBER))
            else:
                section = SECTION if who == "section" else OTHER_SECTION
                grants.append(grading.ExtensionGrant(at(due), order, section_id=section))
        timeline = grading.Timeline(
            at(a.release),
            None if a.due is None else at(a.due),
            tuple(grading.Step(at(until), float(credit)) for until, credit in a.steps),
        )
        result.append(
            grading.Policy(
                a.ident,
                timeline,
                tuple((p, float(w)) for p, w in a.weights.items()),
                float(a.weight),
                a.cap,
                tuple(grants),
            )
        )
    return result


def attempts(state: RefState) -> list[grading.Attempt]:
    """Describe the student's log to the grading core."""
    return [
        grading.Attempt(s.problem, at(s.tick), None if s.score is None else float(s.score))
        for s in state.submissions
    ]


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    course=assignments(),
    events=st.lists(EVENTS, max_size=16),
    now=st.integers(0, 14 * DAY),
)
def test_grades_match_the_reference(
    course: list[RefAssignment], events: list[Event], now: int
) -> None:
    state = replay(course, events)
    graded = grading.grade_course(
        policies(state),
        attempts(state),
        now=at(now),
        member_id=MEMBER,
        section_id=state.section,
        late_days=state.tokens,
        overrides={
            ident: grading.Override(float(credit), "by hand")
            for ident, credit in state.overrides.items()
        },
    )
    spent = ref_tokens(state)
    released_weight = Fraction(0)
    course_points = Fraction(0)
    for assignment, got in zip(state.assignments, graded.assignments, strict=True):
        shift = ref_extension_shift(state, assignment) + spent.get(assignment.ident, 0) * DAY
        possible = sum(assignment.weights.values())
        if assignment.ident in state.overrides:
            points = state.overrides[assignment.ident] * possible
        else:
            points = ref_points(state, assignment, shift)
            for problem, weight in assignment.weights.items():
                _, score, credit, counted, late = ref_problem(state, assignment, problem, shift)
                mine = next(p for p in got.problems if p.problem_id == problem)
                assert (mine.best_score, mine.credit, mine.counted, mine.late) == (
                    score,
                    credit,
                    counted,
                    late,
                )
                assert mine.weight == weight
        assert got.points == points
        assert got.possible == possible
        assert got.late_days_used == spent.get(assignment.ident, 0)
        assert got.extended == (ref_extension_shift(state, assignment) > 0)
        if assignment.release <= now:
            released_weight += assignment.weight
            course_points += assignment.weight * points / possible
    assert graded.late_days_used == sum(spent.values())
    assert graded.late_days_left == state.tokens - sum(spent.values())
    expected = course_points / released_weight if released_weight else Fraction(0)
    assert graded.credit == pytest.approx(float(expected), abs=1e-12)
