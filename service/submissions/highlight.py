"""Source files as syntax-highlighted HTML (Pygments), and the stylesheet that colours them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import TextLexer, get_lexer_for_filename
from pygments.util import ClassNotFound

#: The CSS class wrapping highlighted code (the stylesheet's rules are scoped to it).
CSS_CLASS = "source"


@dataclass(frozen=True)
class HighlightedFile:
    """One source file rendered by Pygments (safe HTML: Pygments escapes the text)."""

    name: str
    html: str


def highlight_files(files: Sequence[tuple[str, str]]) -> list[HighlightedFile]:
    """Render each (name, text) file as numbered, highlighted HTML (CPU-bound: use a thread)."""
    formatter = HtmlFormatter(linenos="table", cssclass=CSS_CLASS, wrapcode=True)
    return [
        HighlightedFile(name, str(highlight(content, lexer_for(name), formatter)))
        for name, content in files
    ]


def lexer_for(name: str) -> Lexer:
    """Return the Pygments lexer for a file name (plain text when none matches)."""
    lexer: Lexer
    try:
        lexer = get_lexer_for_filename(name, stripnl=False)
    except ClassNotFound:
        lexer = TextLexer(stripnl=False)
    return lexer


@cache
def stylesheet() -> str:
    """Return the CSS of the highlighting colours (the same until Pygments changes)."""
    return str(HtmlFormatter(cssclass=CSS_CLASS).get_style_defs(f".{CSS_CLASS}"))  # type: ignore[no-untyped-call]
