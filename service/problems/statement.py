"""Problem statements: Markdown rendered and sanitised once at import, PDF served, LaTeX shown.

TeX formulas in Markdown (``$...$``, ``$$...$$``) become MathML (``service.problems.math``):
each is set aside while the Markdown is rendered and sanitised, then put back as MathML
rebuilt from an allow-list. A problem imported before formulas were rendered shows them
converted once its package is imported again.

The package loader lists ``statement/problem.*`` and ``problem_statement/problem.*`` files
(``.md``, ``.tex``, ``.pdf``). English is preferred (``problem.en.*``), then the language-less
``problem.*``, then the first in sorted order. Markdown wins over LaTeX; a LaTeX statement is
shown as its PDF when the package ships one, else as escaped source text.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nh3
from markdown_it import MarkdownIt
from markupsafe import escape
from mdit_py_plugins.dollarmath import dollarmath_plugin

from service.evaluator import ProblemPackage
from service.problems.math import tex_to_mathml

#: Largest statement source rendered; beyond it the page says the statement is too long.
MAX_STATEMENT_BYTES = 1 << 20

ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em",
        "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "kbd", "li", "ol", "p", "pre",
        "s", "samp", "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th",
        "thead", "tr", "ul", "var",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "th": {"align", "colspan", "rowspan"},
    "td": {"align", "colspan", "rowspan"},
    "ol": {"start"},
    "code": {"class"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto"})

#: Where a formula waits while the Markdown around it is sanitised: private-use characters
#: around a per-render nonce and the formula's number.
_FORMULA = re.compile("\ue000([0-9a-f]{16}):([0-9]+)\ue001")


@dataclass(frozen=True)
class RenderedStatement:
    """What a problem page shows: ``kind`` is markdown, pdf, latex or none."""

    kind: str
    html: str = ""
    source: Path | None = None  # the file the statement came from


def sanitise_html(html: str) -> str:
    """Return ``html`` with only formatting tags and safe links left."""
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        clean_content_tags={"script", "style"},
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        url_relative="deny",  # package-relative images have no URL on the site
        link_rel="noopener noreferrer nofollow",
    )


def render_markdown(text: str) -> str:
    """Render Markdown (raw HTML disabled) and sanitise the result; TeX becomes MathML."""
    nonce = secrets.token_hex(8)
    formulas: list[str] = []

    def set_aside(content: str, config: dict[str, Any]) -> str:
        formulas.append(tex_to_mathml(content.strip(), display=bool(config["display_mode"])))
        return f"\ue000{nonce}:{len(formulas) - 1}\ue001"

    markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
    dollarmath_plugin(
        markdown, renderer=set_aside, double_inline=True, allow_digits=False, allow_space=False
    )
    html = sanitise_html(markdown.render(text))

    def put_back(found: re.Match[str]) -> str:
        if found.group(1) != nonce:
            return ""  # a statement cannot forge a formula's place
        return formulas[int(found.group(2))]

    return _FORMULA.sub(put_back, html)


def pick_statement(statements: Sequence[Path], suffix: str) -> Path | None:
    """Return the preferred statement file with ``suffix``: English, plain, else the first."""
    candidates = sorted((path for path in statements if path.suffix == suffix), key=str)
    for preferred in (f"problem.en{suffix}", f"problem{suffix}"):
        for path in candidates:
            if path.name == preferred:
                return path
    return candidates[0] if candidates else None


def statement_pdf(package: ProblemPackage) -> Path | None:
    """Return the PDF statement the package ships, if any."""
    return pick_statement(package.statements, ".pdf")


def render_statement(package: ProblemPackage) -> RenderedStatement:
    """Render the statement of a loaded package (reads files: call it in a thread)."""
    markdown = pick_statement(package.statements, ".md")
    if markdown is not None:
        return RenderedStatement("markdown", render_markdown(_read_text(markdown)), markdown)
    pdf = statement_pdf(package)
    if pdf is not None:
        return RenderedStatement("pdf", "", pdf)
    latex = pick_statement(package.statements, ".tex")
    if latex is not None:
        html = f'<pre class="statement-latex">{escape(_read_text(latex))}</pre>'
        return RenderedStatement("latex", html, latex)
    return RenderedStatement("none")


def _read_text(path: Path) -> str:
    with path.open("rb") as source:
        data = source.read(MAX_STATEMENT_BYTES + 1)
    text = data[:MAX_STATEMENT_BYTES].decode("utf-8", errors="replace")
    if len(data) > MAX_STATEMENT_BYTES:
        text += "\n\n[The statement is longer than 1 MiB and was cut here.]"
    return text
