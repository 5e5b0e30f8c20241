"""Syntax highlighting on the submission page: vetted lexers only, bounded, lexed once."""

from __future__ import annotations

import re

import pytest
from pygments.lexers import get_lexer_by_name
from quart import Quart
from quart.testing import QuartClient

from service.evaluator.languages import LANGUAGES, known_language
from service.submissions.highlight import (
    HIGHLIGHT_MAX_BYTES,
    LEXERS,
    Highlighter,
    get_highlighter,
)
from tests.factories import add_problem, signed_in, store_submission

PYTHON = "def greet():\n    return '<b>'\n"
#: Digits then a letter: the MCFunction lexer's number rule backtracks on it (O(n^4) in the
#: run's length: about 0.3 s for these 100 digits, minutes for 500).
SLOW_FOR_MCFUNCTION = "say hi\n" + "1" * 100 + "x\n"


def file_block(page: str, name: str) -> str:
    """Return the rendered HTML of the file ``name`` on a submission page."""
    start = page.index(f'<h3 class="file-name">{name}</h3>')
    return page[start : page.index("</table>", start)]


def token_classes(block: str) -> list[str]:
    """Return the Pygments token classes used in a file's HTML (line numbers aside)."""
    return [cls for cls in re.findall(r'<span class="([^"]+)"', block) if cls != "normal"]


async def submission_of(client: QuartClient, files: tuple[tuple[str, str], ...]) -> int:
    """Sign the client in and store its Python submission of ``files``; return the id."""
    app = client.app
    user = await signed_in(client)
    problem = await add_problem(app, "hello")
    return await store_submission(app, user, problem, files=files)


async def view(client: QuartClient, number: int) -> str:
    """Return the page of submission ``number``."""
    response = await client.get(f"/submissions/{number}")
    assert response.status_code == 200
    return await response.get_data(as_text=True)


async def page_of(client: QuartClient, files: tuple[tuple[str, str], ...]) -> str:
    """Store a Python submission of ``files`` by the client's user and return its page."""
    return await view(client, await submission_of(client, files))


@pytest.mark.parametrize(
    ("name", "content"),
    [("notes.mcfunction", SLOW_FOR_MCFUNCTION), ("policy.zeek", "event zeek_init() { }\n")],
)
async def test_a_file_no_offered_language_uses_is_plain_text(
    client: QuartClient, name: str, content: str
) -> None:
    page = await page_of(client, (("main.py", PYTHON), (name, content)))
    assert '<span class="k">def</span>' in file_block(page, "main.py")
    other = file_block(page, name)
    assert token_classes(other) == []  # no lexer but those of offered languages ever runs
    assert content.splitlines()[0] in other


async def test_a_file_over_the_size_bound_is_plain_text(client: QuartClient) -> None:
    big = "x = 1\n" * (HIGHLIGHT_MAX_BYTES // 6 + 1)
    page = await page_of(client, (("main.py", big), ("util.py", PYTHON)))
    assert token_classes(file_block(page, "main.py")) == []
    assert '<span class="k">def</span>' in file_block(page, "util.py")


async def test_lexing_over_the_time_bound_falls_back_to_plain_text_once(
    app: Quart, client: QuartClient
) -> None:
    number = await submission_of(client, (("main.py", PYTHON),))
    highlighter = get_highlighter(app)
    normal = highlighter.time_limit
    highlighter.time_limit = 0.001  # the child is killed before it has even started
    page = await view(client, number)
    assert token_classes(file_block(page, "main.py")) == []
    assert "greet" in file_block(page, "main.py")
    highlighter.time_limit = normal
    again = await view(client, number)  # the timeout is remembered: not lexed again
    assert token_classes(file_block(again, "main.py")) == []


async def test_a_file_is_lexed_once_then_served_from_the_cache(
    app: Quart, client: QuartClient
) -> None:
    number = await submission_of(client, (("main.py", PYTHON),))
    first = await view(client, number)
    assert '<span class="k">def</span>' in file_block(first, "main.py")
    get_highlighter(app).time_limit = 0.001  # any further lexing would fall back to plain
    again = await view(client, number)
    assert file_block(again, "main.py") == file_block(first, "main.py")


def test_every_language_with_a_lexer_names_one_pygments_has() -> None:
    known = {language.id for language in LANGUAGES}
    assert set(LEXERS) <= known
    for lexer in LEXERS.values():
        assert get_lexer_by_name(lexer)


async def test_the_cache_keeps_at_most_its_size_of_html() -> None:
    python = [known_language("python3")]
    highlighter = Highlighter(cache_bytes=600)  # room for one of these files' HTML, not two
    first, second = ("a.py", PYTHON), ("b.py", PYTHON + "# another\n")
    for files in ([first], [second]):
        [rendered] = await highlighter.render(files, "python3", python)
        assert token_classes(rendered.html)
    highlighter.time_limit = 0.001  # lexing again would time out: only the cache can colour
    [again] = await highlighter.render([second], "python3", python)
    assert token_classes(again.html)  # the newest stayed
    [evicted] = await highlighter.render([first], "python3", python)
    assert token_classes(evicted.html) == []  # the oldest was dropped to stay in the budget
