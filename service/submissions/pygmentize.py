"""Source text as numbered HTML with Pygments; run as a script, the child process that lexes.

``service.submissions.highlight`` runs this file as ``python -I pygmentize.py`` with
``{"files": [[lexer, text], ...]}`` as JSON on stdin and reads the HTML of each file, a JSON
list, on stdout. A lexer's regular expressions can backtrack for minutes on a few hundred
bytes while holding the GIL, so lexing happens here, where the parent can kill it, and never
in the web process. This module imports nothing but Pygments and the standard library, so the
child starts in a few tens of milliseconds.
"""

from __future__ import annotations

import json
import resource
import sys

from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import TextLexer, get_lexer_by_name

#: The CSS class wrapping highlighted code (the stylesheet's rules are scoped to it).
CSS_CLASS = "source"
#: The child's own limits, a backstop behind the parent's timeout (which kills it first).
CHILD_CPU_SECONDS = 10
CHILD_MEMORY_BYTES = 1024 * 1024 * 1024


def formatter() -> HtmlFormatter[str]:
    """Return the formatter of every rendered file: a table with line numbers."""
    return HtmlFormatter(linenos="table", cssclass=CSS_CLASS, wrapcode=True)


def render_html(text: str, lexer_name: str | None) -> str:
    """Render ``text`` with the Pygments lexer ``lexer_name`` (plain text for None)."""
    lexer: Lexer = (
        TextLexer(stripnl=False)
        if lexer_name is None
        else get_lexer_by_name(lexer_name, stripnl=False)
    )
    return str(highlight(text, lexer, formatter()))


def main() -> None:
    """Render the files sent on stdin and write their HTML on stdout (the child's work)."""
    resource.setrlimit(resource.RLIMIT_CPU, (CHILD_CPU_SECONDS, CHILD_CPU_SECONDS))
    resource.setrlimit(resource.RLIMIT_AS, (CHILD_MEMORY_BYTES, CHILD_MEMORY_BYTES))
    request = json.loads(sys.stdin.buffer.read())
    pages = [render_html(str(text), str(name)) for name, text in request["files"]]
    sys.stdout.buffer.write(json.dumps(pages).encode("ascii"))


if __name__ == "__main__":
    main()
