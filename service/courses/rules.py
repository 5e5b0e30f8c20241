"""What course input must look like: times with offsets, zones, timelines, rosters.

Pure checks shared by the API and the pages. Each raises :class:`CourseInputError` with a
message that says what to change; nothing is stored before every check has passed.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

#: Rows a roster import may hold.
MAX_ROSTER_ROWS = 5_000
#: Steps a late-credit timeline may have.
MAX_LATE_STEPS = 20
#: Problems an assignment may hold.
MAX_ASSIGNMENT_PROBLEMS = 100
#: Students one extension request may name.
MAX_EXTENSION_STUDENTS = 2_000

#: A practical e-mail check: one @, no spaces, a dot in the domain.
EMAIL = re.compile(r"^[^@\s,;<>\"]+@[^@\s,;<>\"]+\.[^@\s,;<>\".]+$")
EXAMPLE_TIME = "2026-10-24T23:59:00+02:00"


class CourseInputError(ValueError):
    """Input a teacher can fix; the message says how."""


def parse_time(value: str, name: str) -> datetime:
    """Return the ISO 8601 time ``value``; a time without an offset is refused."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise CourseInputError(
            f"{name}: {value!r} is not an ISO 8601 time; write e.g. {EXAMPLE_TIME}"
        ) from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise CourseInputError(f"{name}: {value!r} has no UTC offset; add one, e.g. {EXAMPLE_TIME}")
    return moment


def check_timezone(name: str) -> str:
    """Return ``name`` if it is an IANA timezone (e.g. Europe/Berlin)."""
    cleaned = name.strip()
    try:
        if cleaned and cleaned in available_timezones() | {"UTC"}:
            ZoneInfo(cleaned)
            return cleaned
    except (ZoneInfoNotFoundError, ValueError):  # pragma: no cover - listed but unreadable
        pass
    raise CourseInputError(
        f"timezone: {name!r} is not an IANA timezone; write e.g. Europe/Berlin or America/Chicago"
    )


@dataclass(frozen=True)
class LateStep:
    """A checked step of a late timeline."""

    until: datetime
    credit: float


def check_timeline(release_at: datetime, due_at: datetime | None, late: Sequence[LateStep]) -> None:
    """Refuse a due time before the release, credits outside 0-1, a timeline going up."""
    if due_at is not None and due_at < release_at:
        raise CourseInputError("due_at: the due time is before the release time")
    if late and due_at is None:
        raise CourseInputError("late: a late timeline needs a due_at")
    if len(late) > MAX_LATE_STEPS:
        raise CourseInputError(f"late: at most {MAX_LATE_STEPS} steps")
    previous_until = due_at
    previous_credit = 1.0
    for number, step in enumerate(late, start=1):
        if not 0.0 <= step.credit <= 1.0:
            raise CourseInputError(f"late step {number}: credit {step.credit} is outside 0-1")
        if previous_until is not None and step.until <= previous_until:
            raise CourseInputError(
                f"late step {number}: 'until' must come after the due time and the step before"
            )
        if step.credit > previous_credit:
            raise CourseInputError(
                f"late step {number}: credit {step.credit} goes up again "
                f"(the step before gives {previous_credit})"
            )
        previous_until, previous_credit = step.until, step.credit


def check_email(value: str, where: str) -> str:
    """Return ``value`` lower-cased if it looks like an e-mail address."""
    cleaned = value.strip().lower()
    if not EMAIL.match(cleaned) or len(cleaned) > 320:
        raise CourseInputError(f"{where}: {value.strip()!r} is not an e-mail address")
    return cleaned


# -- rosters ------------------------------------------------------------------------------

#: Header spellings (lower case, letters and digits only) of each roster column.
HEADERS = {
    "email": {
        "email",
        "emailaddress",
        "mail",
        "studentemail",
        "emailid",
        "primaryemail",
        "sisloginid",
        "loginid",
        "username",
    },
    "name": {"name", "fullname", "student", "studentname", "displayname", "sortablename"},
    "first": {"firstname", "givenname", "first", "forename"},
    "last": {"lastname", "familyname", "surname", "last"},
    "section": {"section", "sections", "sectionname", "group", "class", "classname", "period"},
    "role": {"role", "courserole", "type"},
}
ROLES = {"student": "student", "ta": "ta", "teacher": "teacher", "instructor": "teacher"}


@dataclass(frozen=True)
class RosterRow:
    """One person of a roster file."""

    line: int
    email: str
    name: str
    section: str
    role: str = "student"


@dataclass(frozen=True)
class Roster:
    """A parsed roster: its people, and the duplicate lines left out."""

    rows: tuple[RosterRow, ...]
    duplicates: tuple[tuple[int, str], ...] = field(default=())  # (line, e-mail)


def _header_key(cell: str) -> str:
    return re.sub(r"[^a-z0-9]", "", cell.lower())


def parse_roster(text: str) -> Roster:
    """Parse a roster CSV (``email,name,section``; many header spellings; or no header)."""
    text = text.removeprefix("\ufeff")
    lines = text.splitlines()
    if not any(line.strip() for line in lines):
        raise CourseInputError("the roster is empty; send a CSV with email,name,section")
    first = next(line for line in lines if line.strip())
    delimiter = max((",", ";", "\t"), key=first.count)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    rows = [(reader.line_num, cells) for cells in reader]
    rows = [(n, cells) for n, cells in rows if any(cell.strip() for cell in cells)]
    header_line, header = rows[0]
    columns = _columns(header)
    body = rows[1:]
    if columns is None:  # no header: email, name, section
        if "@" not in header[0]:
            raise CourseInputError(
                f"line {header_line}: no e-mail column found; name one 'email' "
                "(also understood: 'E-mail Address', 'SIS Login ID', ...)"
            )
        columns = {"email": 0, "name": 1, "section": 2}
        body = rows
    if len(body) > MAX_ROSTER_ROWS:
        raise CourseInputError(f"the roster has {len(body)} rows; at most {MAX_ROSTER_ROWS}")
    people: list[RosterRow] = []
    seen: dict[str, int] = {}
    duplicates: list[tuple[int, str]] = []
    for line, cells in body:
        row = _roster_row(line, cells, columns)
        if row.email in seen:
            duplicates.append((line, row.email))
            continue
        seen[row.email] = line
        people.append(row)
    return Roster(tuple(people), tuple(duplicates))


def _columns(header: Sequence[str]) -> dict[str, int] | None:
    found: dict[str, int] = {}
    for index, cell in enumerate(header):
        key = _header_key(cell)
        for column, spellings in HEADERS.items():
            if key in spellings and column not in found:
                found[column] = index
    return found if "email" in found else None


def _roster_row(line: int, cells: Sequence[str], columns: dict[str, int]) -> RosterRow:
    def cell(column: str) -> str:
        index = columns.get(column)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    email = check_email(cell("email"), f"line {line}")
    name = cell("name") or " ".join(part for part in (cell("first"), cell("last")) if part)
    if columns.get("name") is not None and "," in name and not cell("first"):
        last, _, first = name.partition(",")  # "Sortable Name": "Lovelace, Ada"
        name = f"{first.strip()} {last.strip()}".strip()
    role_text = cell("role").lower() or "student"
    role = ROLES.get(role_text)
    if role is None:
        raise CourseInputError(
            f"line {line}: role {role_text!r} is not one of student, ta, teacher"
        )
    return RosterRow(line, email, name[:255], cell("section")[:100], role)
