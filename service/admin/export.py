"""Scores as CSV for a gradebook: ``email,name,<slug>...,total`` on a 0-100 scale per problem.

Cells a spreadsheet would read as a formula (starting with ``=``, ``+``, ``-``, ``@``, a tab or
a carriage return) get a leading single quote, so a user's name cannot run code in the
gradebook of whoever opens the file.
"""

from __future__ import annotations

import csv
import io
import re

from service.admin.scores import ScoreTable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(text: str) -> str:
    """Return ``text`` with a leading quote when a spreadsheet would treat it as a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def scores_csv(table: ScoreTable) -> str:
    """Return the CSV text of ``table`` (rows in scoreboard order, numbers with 2 decimals)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(
        ["email", "name", *(neutralise_formula(p.slug) for p in table.problems), "total"]
    )
    for row in table.rows:
        scores = [f"{cell.percent if cell else 0.0:.2f}" for cell in row.cells]
        writer.writerow(
            [
                neutralise_formula(row.email),
                neutralise_formula(row.name),
                *scores,
                f"{row.total_percent:.2f}",
            ]
        )
    return buffer.getvalue()


def csv_filename(problem_set: str) -> str:
    """Return ``scores-<set>.csv`` with anything but letters, digits, ``.-_`` replaced."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", problem_set).strip("._") or "set"
    return f"scores-{safe}.csv"
