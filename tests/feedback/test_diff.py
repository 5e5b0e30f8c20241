"""The side-by-side difference: which token is marked, and what is cut from a long text."""

from __future__ import annotations

import pytest

from service.feedback.diff import LINE_CHARS, WINDOW_LINES, compare


@pytest.mark.parametrize(
    ("expected", "actual", "token", "summary"),
    [
        ("1 2 3\n", "1 2 4\n", 3, "Token 3 differs: expected '3', got '4'."),
        ("1\n2\n", "1\n", 2, "Your output ends after 1 tokens; token 2 should be '2'."),
        ("1\n", "1\n2\n", 2, "Your output goes on after the 1 expected tokens with '2'."),
        ("a  b\n", "a b\n", None, "The tokens agree; the difference is in spacing"),
        ("", "x\n", 1, "Your output goes on after the 0 expected tokens with 'x'."),
        ("x\n", "", 1, "Your output ends after 0 tokens; token 1 should be 'x'."),
    ],
)
def test_the_first_differing_token(
    expected: str, actual: str, token: int | None, summary: str
) -> None:
    found = compare(expected, actual)
    assert found.token == token
    assert found.summary.startswith(summary)


def test_the_marked_token_sits_in_its_line() -> None:
    found = compare("Hello World!\n", "Hello world\n")
    (line,) = found.actual.lines
    assert (line.number, line.before, line.marked, line.after) == (1, "Hello ", "world", "")
    (wanted,) = found.expected.lines
    assert (wanted.before, wanted.marked) == ("Hello ", "World!")


def test_a_long_output_shows_a_window_around_the_difference() -> None:
    expected = "".join(f"{n}\n" for n in range(10_000))
    actual = expected.replace("\n5000\n", "\n-5000\n")
    found = compare(expected, actual)
    assert found.token == 5001
    shown = [line.number for line in found.actual.lines]
    assert len(shown) == WINDOW_LINES and 5001 in shown
    assert found.actual.lines_above == shown[0] - 1
    assert found.actual.lines_above + len(shown) + found.actual.lines_below == 10_000
    marked = next(line for line in found.actual.lines if line.marked)
    assert marked.marked == "-5000"


def test_a_long_line_is_cut_around_the_token() -> None:
    expected = " ".join("7" for _ in range(5_000)) + "\n"
    actual = expected[:6000] + "8" + expected[6001:]
    found = compare(expected, actual)
    (line,) = found.actual.lines
    assert line.marked == "8" and line.before.startswith("…") and line.after.endswith("…")
    assert len(line.before) + len(line.marked) + len(line.after) <= LINE_CHARS + 2
