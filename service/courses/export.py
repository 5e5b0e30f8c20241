"""The gradebook as CSV: our own columns, and the layout Canvas imports.

Canvas's gradebook import wants ``Student, ID, SIS User ID, SIS Login ID, Section`` first,
one column per assignment, and a second row starting "Points Possible" with each
assignment's points. Students are matched by SIS Login ID, which we fill with the e-mail.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from service.courses.service import StudentGrades
from service.models import Assignment

CANVAS_FIXED = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")


def _points(value: float) -> str:
    return f"{round(value, 2):g}"


def _rows_to_text(rows: Sequence[Sequence[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows(rows)
    return buffer.getvalue()


def _cell(text: str) -> str:
    """Keep a spreadsheet from running a cell as a formula (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def gradebook_csv(assignments: Sequence[Assignment], rows: Sequence[StudentGrades]) -> str:
    """Return e-mail, name, section, each assignment's grade (0-100) and the course total."""
    header = ["email", "name", "section", *(_cell(a.name) for a in assignments), "total"]
    body = []
    for row in rows:
        section = row.member.section.name if row.member.section is not None else ""
        grades = [_points(row.of(a.id).credit * 100) for a in assignments]
        body.append(
            [
                _cell(row.member.email),
                _cell(row.member.name),
                _cell(section),
                *grades,
                _points(row.grade.credit * 100),
            ]
        )
    return _rows_to_text([header, *body])


def canvas_csv(assignments: Sequence[Assignment], rows: Sequence[StudentGrades]) -> str:
    """Return the gradebook in Canvas's import layout, points per assignment."""
    header = [*CANVAS_FIXED, *(_cell(a.name) for a in assignments)]
    possible = ["Points Possible", "", "", "", "", *(_points(_possible(a)) for a in assignments)]
    body = []
    for row in rows:
        member = row.member
        section = member.section.name if member.section is not None else ""
        body.append(
            [
                _cell(_sortable(member.name or member.email)),
                "",
                _cell(member.email),
                _cell(member.email),
                _cell(section),
                *(_points(row.of(a.id).points) for a in assignments),
            ]
        )
    return _rows_to_text([header, possible, *body])


def _possible(assignment: Assignment) -> float:
    return sum(link.weight for link in assignment.problems)


def _sortable(name: str) -> str:
    """Return "Last, First" as Canvas lists students."""
    first, _, last = name.rpartition(" ")
    return f"{last}, {first}" if first and "@" not in name else name
