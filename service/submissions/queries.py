"""Which submissions a person may see, and the submission list's filters and their SQL.

:class:`SubmissionFilters` is the one filter of the submission list, read from the query
string of the page (``/submissions``) or of the API (``/api/v1/submissions``): each keeps
its own parameter names and errors, and both build their rows with :meth:`to_select`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import Enum
from urllib.parse import urlencode

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import BadRequest

from service.evaluator import UnknownLanguageError, Verdict, known_language
from service.models import Judging, Problem, Status, Submission, User

#: Ids beyond this are not looked up (the database's integers are 64-bit at most).
MAX_ID = 2**31 - 1
#: Pages beyond this are refused (no list is that long; it keeps the offset small).
MAX_PAGE = 10**6


class ListOrder(Enum):
    """How a list puts the newest first: by submission time (the page) or by id (the API)."""

    SUBMITTED = "submitted"
    ID = "id"


@dataclass(frozen=True)
class SubmissionFilters:
    """What the submission list is narrowed to, and in which order it is listed."""

    owner_id: int | None = None  # only this person's submissions (a student's own list)
    email_contains: str = ""  # the page: e-mail addresses containing this, any case
    user_id: int | None = None  # the API: this user id
    email: str | None = None  # the API: this e-mail address, any case
    problem: str = ""
    language: str = ""
    verdict: str = ""
    status: str = ""
    date_from: date | None = None
    date_to: date | None = None
    order: ListOrder = ListOrder.SUBMITTED

    @classmethod
    def from_page_args(cls, args: Mapping[str, str], viewer: User) -> SubmissionFilters:
        """Read the page's filters; a bad value raises BadRequest saying why."""
        language = args.get("language", "").strip()
        if language:
            try:
                known_language(language)
            except UnknownLanguageError as error:
                raise BadRequest(str(error)) from None
        verdict = args.get("verdict", "").strip().upper()
        if verdict and verdict not in Verdict.__members__:
            choices = ", ".join(Verdict.__members__)
            raise BadRequest(f"Unknown verdict {verdict!r}; use one of {choices}.")
        status = args.get("status", "").strip().lower()
        if status and status not in {member.value for member in Status}:
            choices = ", ".join(member.value for member in Status)
            raise BadRequest(f"Unknown status {status!r}; use one of {choices}.")
        date_from = _parse_day(args, "from")
        date_to = _parse_day(args, "to")
        if date_from and date_to and date_from > date_to:
            raise BadRequest("The 'from' date is after the 'to' date; swap them.")
        return cls(
            owner_id=None if viewer.is_staff else viewer.id,
            email_contains=args.get("user", "").strip() if viewer.is_staff else "",
            problem=args.get("problem", "").strip(),
            language=language,
            verdict=verdict,
            status=status,
            date_from=date_from,
            date_to=date_to,
        )

    @classmethod
    def from_api_args(
        cls,
        viewer: User,
        *,
        problem: str | None = None,
        user: str | None = None,
        verdict: str | None = None,
        language: str | None = None,
    ) -> SubmissionFilters:
        """Build the API's filters from its validated query (``user``: an id or an e-mail)."""
        user_id: int | None = None
        email: str | None = None
        if user:
            wanted = user.strip()
            if wanted.isdecimal() and len(wanted) <= len(str(MAX_ID)):
                user_id = int(wanted)
            else:
                email = wanted.lower()
        return cls(
            owner_id=None if viewer.is_staff else viewer.id,
            user_id=user_id,
            email=email,
            problem=problem or "",
            language=language or "",
            verdict=(verdict or "").upper(),
            order=ListOrder.ID,
        )

    def to_select(self) -> Select[Submission]:
        """Return the SELECT of the matching submissions, newest first."""
        query = select(Submission)
        if self.owner_id is not None:
            query = query.where(Submission.user_id == self.owner_id)
        if self.email_contains:
            pattern = "%" + _escape_like(self.email_contains) + "%"
            query = query.where(
                Submission.user_id.in_(
                    select(User.id).where(User.email.ilike(pattern, escape="\\"))
                )
            )
        if self.user_id is not None:
            query = query.where(Submission.user_id == self.user_id)
        if self.email is not None:
            query = query.where(
                Submission.user_id.in_(select(User.id).where(func.lower(User.email) == self.email))
            )
        if self.problem:
            query = query.where(
                Submission.problem_id.in_(select(Problem.id).where(Problem.slug == self.problem))
            )
        if self.language:
            query = query.where(Submission.language == self.language)
        if self.verdict:
            query = query.where(Submission.verdict == self.verdict)
        if self.status:
            query = query.where(Submission.status == Status(self.status))
        if self.date_from:
            query = query.where(Submission.created_at >= _midnight(self.date_from))
        if self.date_to:
            query = query.where(Submission.created_at < _midnight(self.date_to + timedelta(days=1)))
        if self.order is ListOrder.SUBMITTED:
            return query.order_by(Submission.created_at.desc(), Submission.id.desc())
        return query.order_by(Submission.id.desc())

    def query_args(self) -> dict[str, str]:
        """Return the page's filters as its query arguments (for the pagination links)."""
        values = {
            "user": self.email_contains,
            "problem": self.problem,
            "language": self.language,
            "verdict": self.verdict,
            "status": self.status,
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
        }
        return {name: value for name, value in values.items() if value}

    def page_url(self, number: int) -> str:
        """Return the link to page ``number`` of the list with these filters."""
        return "/submissions?" + urlencode({**self.query_args(), "page": number})


def _escape_like(text: str) -> str:
    """Return ``text`` with LIKE's wildcards (and the escape character) taken literally."""
    return text.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_")


def _parse_day(args: Mapping[str, str], name: str) -> date | None:
    raw = args.get(name, "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw) if len(raw) == 10 else _bad_day(name, raw)
    except ValueError:
        return _bad_day(name, raw)


def _bad_day(name: str, raw: str) -> date:
    raise BadRequest(f"The {name!r} date {raw!r} is not a day; write it as YYYY-MM-DD.")


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def parse_page(args: Mapping[str, str]) -> int:
    """Return the page's ``page`` argument; anything but 1 to MAX_PAGE raises BadRequest."""
    raw = args.get("page", "1").strip() or "1"
    # isdigit() alone accepts digits int() refuses (superscripts like "²").
    if not (raw.isascii() and raw.isdigit()) or len(raw) > len(str(MAX_PAGE)):
        raise BadRequest(f"The page {raw!r} is not a page number; use 1, 2, 3...")
    number = int(raw)
    if not 1 <= number <= MAX_PAGE:
        raise BadRequest(f"The page {raw!r} is not a page number; use 1 to {MAX_PAGE}.")
    return number


async def count_submissions(db: AsyncSession, filters: SubmissionFilters) -> int:
    """Return how many submissions match ``filters``."""
    matching = filters.to_select().order_by(None).subquery()
    return int(await db.scalar(select(func.count()).select_from(matching)) or 0)


async def list_submissions(
    db: AsyncSession, filters: SubmissionFilters, *, limit: int, offset: int
) -> Sequence[Submission]:
    """Return one page of the submissions matching ``filters``, with user and problem loaded."""
    problem = selectinload(Submission.problem).defer(Problem.statement_html, raiseload=True)
    rows = await db.scalars(
        filters.to_select()
        .options(selectinload(Submission.user), problem)
        .limit(limit)
        .offset(offset)
    )
    return rows.all()


async def get_visible_submission(
    db: AsyncSession, submission_id: int, viewer: User, *, with_files: bool = False
) -> Submission | None:
    """Return the submission with its problem and user if ``viewer`` may see it, else None."""
    options = [selectinload(Submission.problem), selectinload(Submission.user)]
    if with_files:
        options.append(selectinload(Submission.files))
    submission = await db.get(Submission, submission_id, options=options)
    if submission is None or not (viewer.is_staff or submission.user_id == viewer.id):
        return None
    return submission


async def submission_owner(db: AsyncSession, submission_id: int) -> int | None:
    """Return the id of the submission's author, or None when there is no such submission."""
    return await db.scalar(select(Submission.user_id).where(Submission.id == submission_id))


async def judging_history(db: AsyncSession, submission_id: int) -> Sequence[Judging]:
    """Return every judging of a submission, oldest first."""
    return (
        await db.scalars(
            select(Judging).where(Judging.submission_id == submission_id).order_by(Judging.id)
        )
    ).all()
