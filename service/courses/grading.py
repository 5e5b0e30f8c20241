"""The grading core: a student's submission log and a course's policy in, grades out.

Pure functions on frozen values: no database, no Quart. Grades are never stored; the views
compute them from here every time, so a moved deadline, a late extension or a rejudge shows
at once.

The rules, as the course page states them to students:

- **Credit timeline.** A submission made at or before the (effective) due time earns full
  credit; after it, the first late step whose ``until`` it is at or before gives that step's
  credit; after the last step, none. A submission before the release time counts for nothing.
- **Extensions.** A student's newest extension for an assignment wins; without one, the
  newest extension of their section. An extension never makes a deadline earlier: the
  effective due time is the later of the assignment's and the extension's. The late steps
  move with the due time (the timeline shifts by the same amount).
- **Submission cap.** With ``max_submissions`` set, only a student's first that many
  submissions to each problem (from the release time on, in time order) count.
- **Per problem** the grade is the best credited score: the submission's score (its newest
  judging, rejudges included) times the credit at its submission time (on a tie, the earliest
  such submission is the one shown). Unjudged submissions count for nothing yet.
- **Assignment grade**: the weighted sum of the problems' credited scores (points), out of
  the sum of the weights.
- **Late days.** A course may give each student ``late_days`` tokens. One token moves the
  whole timeline of one assignment 24 hours later (24 real hours, also across a daylight
  saving change). Tokens are spent automatically, assignment by assignment in order of the
  effective due time (then by id): on each, the fewest tokens still left that give it its
  highest points, and none when no token raises its points. Overridden assignments and those
  without a due time use no tokens.
- **Override.** A staff member may set an assignment's grade by hand (with a reason); the
  newest override replaces the computed grade and is shown as such.
- **Course grade**: the assignments released by now, weighted by their weights.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

#: How far one late-day token moves an assignment's timeline.
LATE_DAY = timedelta(hours=24)


@dataclass(frozen=True)
class Step:
    """A step of the late timeline: ``credit`` (0..1) for submissions up to ``until``."""

    until: datetime
    credit: float


@dataclass(frozen=True)
class Timeline:
    """When an assignment opens, when it is due, and the credit after that."""

    release_at: datetime
    due_at: datetime | None
    late: tuple[Step, ...] = ()

    def shifted(self, delta: timedelta) -> Timeline:
        """Return the timeline with the due time and every late step moved by ``delta``.

        The move is in real time: adding to a datetime in a zone with daylight saving moves
        its wall clock instead, so times are moved in UTC.
        """
        if self.due_at is None or not delta:
            return self
        steps = tuple(Step(_in_utc(step.until) + delta, step.credit) for step in self.late)
        return replace(self, due_at=_in_utc(self.due_at) + delta, late=steps)

    def credit_at(self, moment: datetime) -> float:
        """Return the credit (0..1) a submission made at ``moment`` earns."""
        if moment < self.release_at:
            return 0.0
        if self.due_at is None or moment <= self.due_at:
            return 1.0
        for step in self.late:
            if moment <= step.until:
                return step.credit
        return 0.0

    @property
    def closes_at(self) -> datetime | None:
        """Return the last moment any credit is earned (None: never closes)."""
        if self.due_at is None:
            return None
        return max([self.due_at, *(step.until for step in self.late if step.credit > 0)])


def _in_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


@dataclass(frozen=True)
class ExtensionGrant:
    """An extension as granted: to one member or to one section, in grant order ``order``."""

    due_at: datetime
    order: int
    member_id: int | None = None
    section_id: int | None = None


@dataclass(frozen=True)
class Policy:
    """One assignment's policy: its timeline, problem weights, weight and cap."""

    assignment_id: int
    timeline: Timeline
    problems: tuple[tuple[int, float], ...]  # (problem id, weight)
    weight: float = 1.0
    max_submissions: int | None = None
    extensions: tuple[ExtensionGrant, ...] = ()


@dataclass(frozen=True)
class Attempt:
    """One submission of the student's log: problem, time, score (None: not judged yet)."""

    problem_id: int
    at: datetime
    score: float | None


@dataclass(frozen=True)
class Override:
    """A grade set by hand: ``credit`` (0..1) of the assignment, with the reason."""

    credit: float
    reason: str


@dataclass(frozen=True)
class ProblemGrade:
    """One problem's part of an assignment grade."""

    problem_id: int
    weight: float
    best_score: float  # the raw score of the submission that gives the best credited score
    credit: float  # the timeline's credit at that submission
    counted: int  # submissions that counted
    late: bool  # the best credited submission came after the due time

    @property
    def credited(self) -> float:
        """Return the credited score (0..1)."""
        return self.best_score * self.credit

    @property
    def explanation(self) -> str:
        """Return the grade in words: "best 80% at 40% credit"."""
        if not self.counted:
            return "no submission"
        return f"best {percent(self.best_score)} at {percent(self.credit)} credit"


@dataclass(frozen=True)
class AssignmentGrade:
    """One student's grade on one assignment, with how it came about."""

    assignment_id: int
    problems: tuple[ProblemGrade, ...]
    points: float  # earned, out of ``possible``
    possible: float
    timeline: Timeline  # the student's effective timeline (extension and late days applied)
    extended: bool
    late_days_used: int
    override: Override | None = None

    @property
    def credit(self) -> float:
        """Return the grade as a share (0..1) of the possible points."""
        return self.points / self.possible if self.possible else 0.0

    @property
    def late(self) -> bool:
        """Return whether any problem's best credited submission was late."""
        return self.override is None and any(problem.late for problem in self.problems)

    @property
    def explanation(self) -> str:
        """Return the grade in words, problem by problem."""
        if self.override is not None:
            return f"set by hand to {percent(self.override.credit)}: {self.override.reason}"
        parts = [problem.explanation for problem in self.problems]
        text = "; ".join(parts) if parts else "no problems"
        if self.late_days_used:
            days = "late day" if self.late_days_used == 1 else "late days"
            text += f" ({self.late_days_used} {days} used)"
        return text


@dataclass(frozen=True)
class CourseGrade:
    """One student's grades in a course."""

    assignments: tuple[AssignmentGrade, ...]
    credit: float  # the course grade, 0..1
    late_days_used: int
    late_days_left: int


def percent(value: float) -> str:
    """Return ``value`` (0..1) as a percentage without needless decimals: 0.4 -> "40%"."""
    shown = round(value * 100, 1)
    return f"{shown:g}%"


def effective_timeline(policy: Policy, member_id: int | None, section_id: int | None) -> Timeline:
    """Return the assignment's timeline for one student, their extension applied."""
    timeline = policy.timeline
    grant = _applicable_grant(policy.extensions, member_id, section_id)
    if grant is None or timeline.due_at is None or grant.due_at <= timeline.due_at:
        return timeline
    return timeline.shifted(grant.due_at - timeline.due_at)


def _applicable_grant(
    grants: Iterable[ExtensionGrant], member_id: int | None, section_id: int | None
) -> ExtensionGrant | None:
    own = [g for g in grants if member_id is not None and g.member_id == member_id]
    if own:
        return max(own, key=lambda g: g.order)
    of_section = [
        g
        for g in grants
        if section_id is not None and g.member_id is None and g.section_id == section_id
    ]
    return max(of_section, key=lambda g: g.order) if of_section else None


def grade_problem(
    problem_id: int,
    weight: float,
    attempts: Sequence[Attempt],
    timeline: Timeline,
    max_submissions: int | None,
) -> ProblemGrade:
    """Return the best credited score of one problem under ``timeline``."""
    mine = sorted(
        (a for a in attempts if a.problem_id == problem_id and a.at >= timeline.release_at),
        key=lambda a: a.at,
    )
    if max_submissions is not None:
        mine = mine[:max_submissions]
    best: tuple[float, float, float] | None = None  # (credited, score, credit)
    best_late = False
    for attempt in mine:
        if attempt.score is None:
            continue
        credit = timeline.credit_at(attempt.at)
        credited = attempt.score * credit
        if best is None or credited > best[0]:
            best = (credited, attempt.score, credit)
            best_late = timeline.due_at is not None and attempt.at > timeline.due_at
    if best is None:
        return ProblemGrade(problem_id, weight, 0.0, 0.0, len(mine), False)
    return ProblemGrade(problem_id, weight, best[1], best[2], len(mine), best_late)


def grade_assignment(
    policy: Policy,
    attempts: Sequence[Attempt],
    timeline: Timeline,
    *,
    extended: bool = False,
    late_days_used: int = 0,
    override: Override | None = None,
) -> AssignmentGrade:
    """Return one student's grade on one assignment under ``timeline``."""
    problems = tuple(
        grade_problem(problem_id, weight, attempts, timeline, policy.max_submissions)
        for problem_id, weight in policy.problems
    )
    possible = sum(weight for _, weight in policy.problems)
    if override is not None:
        points = override.credit * possible
    else:
        points = sum(problem.weight * problem.credited for problem in problems)
    return AssignmentGrade(
        policy.assignment_id,
        problems,
        points,
        possible,
        timeline,
        extended,
        late_days_used,
        override,
    )


def grade_course(
    policies: Sequence[Policy],
    attempts: Sequence[Attempt],
    *,
    now: datetime,
    member_id: int | None = None,
    section_id: int | None = None,
    late_days: int = 0,
    overrides: dict[int, Override] | None = None,
) -> CourseGrade:
    """Return one student's grades on every assignment and in the course.

    ``attempts`` is the student's whole log (every problem); ``overrides`` maps assignment ids
    to the newest override. Late days are spent as the module docstring says.
    """
    overrides = overrides or {}
    timelines = {p.assignment_id: effective_timeline(p, member_id, section_id) for p in policies}
    left = late_days
    used: dict[int, int] = {}
    candidates = [
        (due, policy.assignment_id, policy)
        for policy in policies
        if (due := timelines[policy.assignment_id].due_at) is not None
        and policy.assignment_id not in overrides
    ]
    for _, _, policy in sorted(candidates, key=lambda item: item[:2]):
        if left <= 0:
            break
        timeline = timelines[policy.assignment_id]
        spent = _tokens_worth_spending(policy, attempts, timeline, left)
        if spent:
            used[policy.assignment_id] = spent
            left -= spent
    grades = []
    for policy in policies:
        tokens = used.get(policy.assignment_id, 0)
        base = timelines[policy.assignment_id]
        grades.append(
            grade_assignment(
                policy,
                attempts,
                base.shifted(LATE_DAY * tokens),
                extended=base is not policy.timeline,
                late_days_used=tokens,
                override=overrides.get(policy.assignment_id),
            )
        )
    released = [
        (policy.weight, grade)
        for policy, grade in zip(policies, grades, strict=True)
        if policy.timeline.release_at <= now
    ]
    total_weight = sum(weight for weight, _ in released)
    credit = (
        sum(weight * grade.credit for weight, grade in released) / total_weight
        if total_weight
        else 0.0
    )
    spent_total = sum(used.values())
    return CourseGrade(tuple(grades), credit, spent_total, late_days - spent_total)


def _tokens_worth_spending(
    policy: Policy, attempts: Sequence[Attempt], timeline: Timeline, left: int
) -> int:
    """Return the fewest tokens (up to ``left``) giving the assignment its most points."""
    best_points = grade_assignment(policy, attempts, timeline).points
    best_tokens = 0
    for tokens in range(1, left + 1):
        points = grade_assignment(policy, attempts, timeline.shifted(LATE_DAY * tokens)).points
        if points > best_points:
            best_points, best_tokens = points, tokens
    return best_tokens


def credit_now(timeline: Timeline, now: datetime) -> float:
    """Return the credit a submission made ``now`` would earn (for the course page)."""
    return timeline.credit_at(now)
