"""Expected and actual output side by side, with the first differing token marked (pure).

Both texts are split into whitespace-separated tokens, as the default checker reads them;
the first position where the tokens differ (or one text ends) is the difference. Each side
shows a window of lines around it, cut to :data:`WINDOW_LINES` lines of at most
:data:`LINE_CHARS` characters, so a long output never makes a long page (the whole text is a
download away).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

#: Lines shown of each side: a few above the difference, the rest below.
WINDOW_LINES = 24
LINES_ABOVE = 4
#: Characters shown of one line (the rest is cut, around the marked token).
LINE_CHARS = 200
TOKEN = re.compile(r"\S+")


@dataclass(frozen=True)
class Line:
    """One shown line, split around its marked token (``marked`` is "" on other lines)."""

    number: int  # 1-based
    before: str
    marked: str = ""
    after: str = ""


@dataclass(frozen=True)
class Side:
    """One text's window: its lines, and how many lines it has above and below them."""

    lines: tuple[Line, ...]
    lines_above: int
    lines_below: int


@dataclass(frozen=True)
class Difference:
    """Where expected and actual output first differ, and both windows around it."""

    expected: Side
    actual: Side
    token: int | None  # 1-based number of the first differing token; None if they agree
    summary: str


@dataclass(frozen=True)
class _Token:
    text: str
    line: int  # 0-based
    start: int
    end: int


def _tokens(text: str) -> list[_Token]:
    found: list[_Token] = []
    for number, line in enumerate(text.split("\n")):
        found.extend(_Token(m.group(), number, m.start(), m.end()) for m in TOKEN.finditer(line))
    return found


def _quote(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "…")


def compare(expected: str, actual: str) -> Difference:
    """Return the first difference of ``actual`` from ``expected``, token by token."""
    wanted, got = _tokens(expected), _tokens(actual)
    position = next(
        (i for i, (a, b) in enumerate(zip(wanted, got, strict=False)) if a.text != b.text),
        None,
    )
    if position is None and len(wanted) != len(got):
        position = min(len(wanted), len(got))
    mark_expected = wanted[position] if position is not None and position < len(wanted) else None
    mark_actual = got[position] if position is not None and position < len(got) else None
    if position is None:
        summary = "The tokens agree; the difference is in spacing, case or number precision."
    elif mark_actual is None:
        assert mark_expected is not None
        summary = (
            f"Your output ends after {len(got)} tokens; token {position + 1} should be "
            f"{_quote(mark_expected.text)}."
        )
    elif mark_expected is None:
        summary = (
            f"Your output goes on after the {len(wanted)} expected tokens with "
            f"{_quote(mark_actual.text)}."
        )
    else:
        summary = (
            f"Token {position + 1} differs: expected {_quote(mark_expected.text)}, "
            f"got {_quote(mark_actual.text)}."
        )
    focus = _focus_line(mark_expected, mark_actual, wanted, got, position)
    return Difference(
        expected=_window(expected, mark_expected, focus),
        actual=_window(actual, mark_actual, focus),
        token=None if position is None else position + 1,
        summary=summary,
    )


def _focus_line(
    expected: _Token | None,
    actual: _Token | None,
    wanted: Sequence[_Token],
    got: Sequence[_Token],
    position: int | None,
) -> int:
    """Return the line both windows centre on: the marked token's, else the end of a side."""
    for token in (actual, expected):
        if token is not None:
            return token.line
    last = [side[-1].line for side in (wanted, got) if side and position is not None]
    return max(last, default=0)


def _window(text: str, mark: _Token | None, focus: int) -> Side:
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the final newline ends the last line; it is not a line of its own
    centre = mark.line if mark is not None else focus
    first = max(0, min(centre - LINES_ABOVE, len(lines) - WINDOW_LINES))
    shown = []
    for number in range(first, min(len(lines), first + WINDOW_LINES)):
        line = lines[number]
        if mark is not None and number == mark.line:
            shown.append(_marked_line(number, line, mark))
        else:
            shown.append(Line(number + 1, _cut(line)))
    return Side(tuple(shown), first, max(0, len(lines) - first - WINDOW_LINES))


def _marked_line(number: int, line: str, mark: _Token) -> Line:
    """Return the line with its token marked, cut to LINE_CHARS around the token."""
    start = max(0, mark.start - LINE_CHARS // 4)
    before = ("…" if start else "") + line[start : mark.start]
    token = _cut(line[mark.start : mark.end], LINE_CHARS // 2)
    room = max(0, LINE_CHARS - len(before) - len(token))
    after = _cut(line[mark.end :], room)
    return Line(number + 1, before, token, after)


def _cut(text: str, limit: int = LINE_CHARS) -> str:
    return text if len(text) <= limit else text[:limit] + "…"
