"""The scoreboard of one problem set: best score per user and problem, first AC, rank.

Scores are shares of tests passed (0..1); a user's total is the sum of their best shares.
Rows are ranked by total (highest first), then by who reached that total first: the moment of
a user's last improvement (the latest of the times each best score was first reached).
The table is built from four queries whatever the number of users and problems.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import Problem, Role, Status, Submission, User

ACCEPTED = "AC"


@dataclass(frozen=True)
class ScoreProblem:
    """A column of the scoreboard."""

    id: int
    slug: str
    name: str
    hidden: bool


@dataclass(frozen=True)
class ScoreCell:
    """One user's standing on one problem."""

    best: float | None  # best share of tests passed over finished submissions; None: none done
    best_at: datetime | None  # when the best score was first reached
    first_ac: datetime | None  # the first accepted submission's time
    attempts: int  # submissions sent, finished or not

    @property
    def percent(self) -> float:
        """Return the best score on a 0-100 scale (0 when nothing finished)."""
        return round((self.best or 0.0) * 100, 2)


@dataclass(frozen=True)
class ScoreRow:
    """One user's line: a cell per problem (None: never submitted) and the total."""

    rank: int
    user_id: int
    email: str
    name: str
    cells: tuple[ScoreCell | None, ...]
    total: float  # sum of best shares (0..number of problems)
    last_improvement: datetime | None

    @property
    def total_percent(self) -> float:
        """Return the total on the 0-100-per-problem scale."""
        return round(sum(cell.percent for cell in self.cells if cell is not None), 2)


@dataclass(frozen=True)
class ScoreTable:
    """The scoreboard of ``problem_set``: its problems (columns) and ranked rows."""

    problem_set: str
    problems: tuple[ScoreProblem, ...]
    rows: tuple[ScoreRow, ...]


async def problem_sets(db: AsyncSession) -> list[str]:
    """Return the names of every problem set that has a problem, sorted."""
    query = select(Problem.problem_set).distinct().order_by(Problem.problem_set)
    return list((await db.execute(query)).scalars().all())


async def score_table(db: AsyncSession, problem_set: str, *, everyone: bool = False) -> ScoreTable:
    """Build the ranked scoreboard of ``problem_set`` (hidden problems included).

    Only enabled students are ranked unless ``everyone``: staff trying problems and disabled
    accounts stay out of the gradebook.
    """
    problems = tuple(
        ScoreProblem(id=problem.id, slug=problem.slug, name=problem.name, hidden=problem.hidden)
        for problem in (
            await db.execute(
                select(Problem).where(Problem.problem_set == problem_set).order_by(Problem.slug)
            )
        ).scalars()
    )
    if not problems:
        return ScoreTable(problem_set=problem_set, problems=(), rows=())
    problem_ids = [problem.id for problem in problems]
    done = Submission.status == Status.DONE

    per_problem = (
        select(
            Submission.user_id,
            Submission.problem_id,
            func.max(case((done, Submission.score))).label("best"),
            func.min(
                case((and_(done, Submission.verdict == ACCEPTED), Submission.created_at))
            ).label("first_ac"),
            func.count(Submission.id).label("attempts"),
        )
        .where(Submission.problem_id.in_(problem_ids))
        .group_by(Submission.user_id, Submission.problem_id)
    )
    best = per_problem.subquery("best")
    # When each best score was first reached: the earliest finished submission scoring it.
    reached = (
        select(
            Submission.user_id,
            Submission.problem_id,
            func.min(Submission.created_at).label("best_at"),
        )
        .join(
            best,
            and_(
                best.c.user_id == Submission.user_id,
                best.c.problem_id == Submission.problem_id,
                best.c.best == Submission.score,
            ),
        )
        .where(done)
        .group_by(Submission.user_id, Submission.problem_id)
    )

    cells: dict[tuple[int, int], ScoreCell] = {}
    best_at: dict[tuple[int, int], datetime] = {
        (user_id, problem_id): when
        for user_id, problem_id, when in (await db.execute(reached)).all()
    }
    for user_id, problem_id, best_score, first_ac, attempts in (
        await db.execute(per_problem)
    ).all():
        key = (user_id, problem_id)
        cells[key] = ScoreCell(
            best=best_score,
            best_at=best_at.get(key) if best_score is not None else None,
            first_ac=first_ac,
            attempts=attempts,
        )

    user_ids = sorted({user_id for user_id, _ in cells})
    people = select(User).where(User.id.in_(user_ids))
    if not everyone:
        people = people.where(User.role == Role.STUDENT, User.disabled.is_(False))
    users = (await db.execute(people)).scalars().all()
    standings = [_standing(user, problems, cells) for user in users]
    standings.sort(key=_ranking_key)

    rows: list[ScoreRow] = []
    for position, standing in enumerate(standings, 1):
        previous = rows[-1] if rows else None
        tied = previous is not None and (
            round(previous.total, 9),
            previous.last_improvement,
        ) == (round(standing.total, 9), standing.last_improvement)
        rows.append(replace(standing, rank=previous.rank if tied and previous else position))
    return ScoreTable(problem_set=problem_set, problems=problems, rows=tuple(rows))


def _standing(
    user: User, problems: tuple[ScoreProblem, ...], cells: dict[tuple[int, int], ScoreCell]
) -> ScoreRow:
    row_cells = tuple(cells.get((user.id, problem.id)) for problem in problems)
    improvements = [
        cell.best_at for cell in row_cells if cell is not None and cell.best and cell.best_at
    ]
    return ScoreRow(
        rank=0,
        user_id=user.id,
        email=user.email,
        name=user.name,
        cells=row_cells,
        total=sum(cell.best or 0.0 for cell in row_cells if cell is not None),
        last_improvement=max(improvements, default=None),
    )


def _ranking_key(row: ScoreRow) -> tuple[float, bool, float, str, int]:
    # Highest total first; among equal totals, whoever got there first; nobody-scored last.
    reached = row.last_improvement.timestamp() if row.last_improvement else 0.0
    return (-round(row.total, 9), row.last_improvement is None, reached, row.email, row.user_id)
