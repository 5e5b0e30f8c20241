"""Statements: Markdown rendered and sanitised, a PDF served inline, LaTeX shown escaped."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from quart import Quart
from quart.testing import QuartClient

from service.models import Role
from service.problems.statement import MAX_STATEMENT_BYTES, render_markdown, sanitise_html
from tests.factories import (
    copy_example,
    create_user,
    import_example,
    run_import,
    sign_in_as,
    write_statement,
)

PDF = b"%PDF-1.4\n% a tiny stand-in for a real statement\n%%EOF\n"

HOSTILE_MARKDOWN = """# Greetings

<script>alert('raw html')</script>

<img src=x onerror=alert(1)>

[click](javascript:alert(1)) and [docs](https://example.com/docs) and ![figure](figure.png)

| n | answer |
|---|--------|
| 1 | 2      |

```python
print("<b>not bold</b>")
```
"""


def test_markdown_raw_html_is_shown_as_text_never_as_tags() -> None:
    html = render_markdown(HOSTILE_MARKDOWN)

    assert "<h1>Greetings</h1>" in html
    assert "<script" not in html and '<img src="x"' not in html
    assert "&lt;script&gt;" in html
    assert 'href="javascript' not in html
    assert '<a href="https://example.com/docs" rel="noopener noreferrer nofollow">docs</a>' in html
    assert 'src="figure.png"' not in html  # package-relative images have no URL here
    assert "<table>" in html and "<td>1</td>" in html
    assert "&lt;b&gt;not bold&lt;/b&gt;" in html
    assert '<code class="language-python">' in html


@pytest.mark.parametrize(
    ("dirty", "clean"),
    [
        ("<p onclick='x()'>hi</p>", "<p>hi</p>"),
        ("<script>alert(1)</script>ok", "ok"),
        ("<style>p{}</style><b>b</b>", "<b>b</b>"),
        ('<a href="javascript:alert(1)">x</a>', '<a rel="noopener noreferrer nofollow">x</a>'),
        ("<iframe src='https://evil.test'></iframe>", ""),
        (
            '<img src="https://example.com/a.png" alt="a">',
            '<img src="https://example.com/a.png" alt="a">',
        ),
    ],
)
def test_the_sanitiser_keeps_formatting_only(dirty: str, clean: str) -> None:
    assert sanitise_html(dirty) == clean


async def import_with_statement(
    app: Quart, tmp_path: Path, files: dict[str, str | bytes], folder: str = "statement"
) -> str:
    package = write_statement(
        copy_example(tmp_path / "hello", keep=("accepted/hello.py",)), files, folder
    )
    result = await run_import(app, package)
    return result.problem.statement_kind


@pytest.mark.parametrize(
    ("files", "shown"),
    [
        (
            {"problem.de.md": "Deutsch", "problem.en.md": "English", "problem.md": "Plain"},
            "English",
        ),
        ({"problem.de.md": "Deutsch", "problem.md": "Plain"}, "Plain"),
        ({"problem.fr.md": "Français", "problem.de.md": "Deutsch"}, "Deutsch"),
        ({"problem.en.tex": "\\section{LaTeX}", "problem.sv.md": "Svenska"}, "Svenska"),
    ],
)
async def test_english_markdown_is_preferred(
    app: Quart, client: QuartClient, tmp_path: Path, files: dict[str, str | bytes], shown: str
) -> None:
    assert await import_with_statement(app, tmp_path, files) == "markdown"
    await sign_in_as(client, await create_user(app))

    page = await (await client.get("/problems/hello")).get_data(as_text=True)

    assert f"<p>{shown}</p>" in page
    for other in {"English", "Plain", "Deutsch", "Français", "Svenska"} - {shown}:
        assert f"<p>{other}</p>" not in page


async def test_a_latex_statement_with_a_pdf_is_served_inline(
    app: Quart, client: QuartClient, tmp_path: Path
) -> None:
    files: dict[str, str | bytes] = {"problem.en.tex": "\\section{Hi}", "problem.en.pdf": PDF}
    assert await import_with_statement(app, tmp_path, files, "problem_statement") == "pdf"
    await sign_in_as(client, await create_user(app))

    page = await (await client.get("/problems/hello")).get_data(as_text=True)
    response = await client.get("/problems/hello/statement.pdf")

    assert 'href="/problems/hello/statement.pdf"' in page
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"] == 'inline; filename="hello.pdf"'
    assert await response.get_data() == PDF


async def test_a_latex_only_statement_is_shown_escaped(
    app: Quart, client: QuartClient, tmp_path: Path
) -> None:
    latex = "\\section{Sums}\nPrint $a<b$ & <script>alert(1)</script>\n"
    assert await import_with_statement(app, tmp_path, {"problem.tex": latex}) == "latex"
    await sign_in_as(client, await create_user(app))

    page = await (await client.get("/problems/hello")).get_data(as_text=True)
    pdf = await client.get("/problems/hello/statement.pdf")

    assert '<pre class="statement-latex">\\section{Sums}' in page
    assert "$a&lt;b$ &amp; &lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page
    assert pdf.status_code == 404


async def test_a_package_without_a_statement_says_so(
    app: Quart, client: QuartClient, tmp_path: Path
) -> None:
    assert await import_with_statement(app, tmp_path, {"notes.txt": "not a statement"}) == "none"
    await sign_in_as(client, await create_user(app, role=Role.STAFF))

    page = await (await client.get("/problems/hello")).get_data(as_text=True)

    assert "This problem has no statement." in page


async def test_a_huge_statement_is_cut_with_a_note(app: Quart, tmp_path: Path) -> None:
    package = write_statement(
        copy_example(tmp_path / "hello"), {"problem.md": "word " * (MAX_STATEMENT_BYTES // 4)}
    )

    problem = (await run_import(app, package)).problem

    assert problem.statement_html.count("word") < MAX_STATEMENT_BYTES // 5 + 1
    assert "[The statement is longer than 1 MiB and was cut here.]" in problem.statement_html


async def test_a_markdown_problem_has_no_pdf(app: Quart, client: QuartClient) -> None:
    await import_example(app)
    await sign_in_as(client, await create_user(app))

    response = await client.get("/problems/hello/statement.pdf")

    assert response.status_code == 404


# ---------------------------------------------------------------- formulas


def test_tex_formulas_become_mathml() -> None:
    html = render_markdown("Bounds: $1 \\le n \\le 10^{18}$.\n\n$$\\sum_{i=1}^n i$$\n")

    assert "$" not in html and "\\le" not in html
    assert '<math display="inline" xmlns="http://www.w3.org/1998/Math/MathML">' in html
    assert "<mo>≤</mo>" in html
    assert "<msup><mn>10</mn><mrow><mn>18</mn></mrow></msup>" in html
    assert '<math display="block"' in html and "<munderover><mo>∑</mo>" in html


@pytest.mark.parametrize(
    ("markdown", "shown"),
    [
        ("It costs $5 and $10.", "It costs $5 and $10."),  # prices, not math
        ("Code: `$x$`", "<code>$x$</code>"),
        ("Broken: $\\frac{1}{$", '<code class="tex">$\\frac{1}{$</code>'),
    ],
)
def test_text_that_is_not_a_formula_stays_as_written(markdown: str, shown: str) -> None:
    assert shown in render_markdown(markdown)


def test_a_formula_carries_no_link_script_or_forged_placeholder() -> None:
    html = render_markdown(
        "$\\href{javascript:alert(1)}{x}$ and $\\text{<img src=x onerror=alert(1)>}$ "
        "and \ue000aaaaaaaaaaaaaaaa:0\ue001"
    )

    assert "href" not in html and "javascript" not in html
    assert "<img" not in html
    assert re.search(r"<[^>]*onerror", html) is None  # as text, at most
    assert "<mi>x</mi>" in html
    assert "\ue000" not in html


async def test_the_problem_page_shows_formulas_as_mathml(app: Quart, client: QuartClient) -> None:
    await import_example(app, "limits")
    await sign_in_as(client, await create_user(app))

    page = await (await client.get("/problems/limits")).get_data(as_text=True)

    assert "<math " in page and "$n$" not in page and "\\le" not in page


def test_a_formula_too_long_to_convert_is_shown_as_tex() -> None:
    formula = "+".join(["x"] * 3000)

    html = render_markdown(f"${formula}$")

    assert html == f'<p><span><code class="tex">${formula}$</code></span></p>\n'
