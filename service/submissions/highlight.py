"""Source files as syntax-highlighted HTML, bounded so no file can stall the server.

Pygments has hundreds of lexers and some of their regular expressions backtrack
catastrophically (500 bytes of ``.mcfunction`` cost minutes of CPU, holding the GIL). So:

- a file is lexed only by the lexer of an offered language whose extensions it has (the
  submission's own language first), picked from :data:`LEXERS`; anything else is plain text;
- files over :data:`HIGHLIGHT_MAX_BYTES` are plain text;
- lexing runs in a child process (``service/submissions/pygmentize.py``), at most
  :data:`HIGHLIGHT_PROCESSES` at a time, killed after :data:`HIGHLIGHT_SECONDS`; the files
  it was lexing are then shown as plain text;
- each result (a timeout's plain text included) is kept in a per-process cache of
  :data:`HIGHLIGHT_CACHE_BYTES`, so a file is lexed once, not on every view.

Plain text is rendered in the web process: Pygments' text lexer is linear and fast.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import sys
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path, PurePosixPath

from pygments.formatters import HtmlFormatter
from quart import Quart

from service.evaluator import Language
from service.submissions.pygmentize import CSS_CLASS, render_html

log = logging.getLogger(__name__)

EXTENSION_KEY = "verdict.highlighter"
#: Files larger than this are shown as plain text.
HIGHLIGHT_MAX_BYTES = 64 * 1024
#: Wall-clock seconds one child process may take (its start included) before it is killed.
HIGHLIGHT_SECONDS = 3.0
#: Child processes lexing at once in one web process.
HIGHLIGHT_PROCESSES = 1
#: Bytes of rendered HTML kept per process (about 10x the source for highlighted code).
HIGHLIGHT_CACHE_BYTES = 32 * 1024 * 1024
#: The Pygments lexer of each language id; a language missing here is shown as plain text.
LEXERS = {
    "awk": "awk",
    "bash": "bash",
    "c": "c",
    "cpp": "cpp",
    "csharp": "csharp",
    "fortran": "fortran",
    "go": "go",
    "haskell": "haskell",
    "java": "java",
    "javascript": "javascript",
    "kotlin": "kotlin",
    "lua": "lua",
    "pascal": "delphi",
    "perl": "perl",
    "python3": "python",
    "ruby": "ruby",
    "rust": "rust",
}
_CHILD = Path(__file__).with_name("pygmentize.py")


@dataclass(frozen=True)
class HighlightedFile:
    """One source file rendered by Pygments (safe HTML: Pygments escapes the text)."""

    name: str
    html: str


def lexer_for(name: str, language_id: str, offered: Sequence[Language]) -> str | None:
    """Return the lexer for file ``name`` of a ``language_id`` submission; None: plain text.

    Only offered languages count, the submission's own first (a ``.h`` of a C++ submission
    is C++).
    """
    suffix = PurePosixPath(name).suffix.lower()
    ordered = sorted(offered, key=lambda language: language.id != language_id)
    for language in ordered:
        if suffix in language.extensions or suffix in language.header_extensions:
            return LEXERS.get(language.id)
    return None


class Highlighter:
    """Renders files as HTML in bounded child processes and remembers the results."""

    def __init__(
        self,
        *,
        time_limit: float = HIGHLIGHT_SECONDS,
        max_bytes: int = HIGHLIGHT_MAX_BYTES,
        cache_bytes: int = HIGHLIGHT_CACHE_BYTES,
        processes: int = HIGHLIGHT_PROCESSES,
    ) -> None:
        self.time_limit = time_limit
        self.max_bytes = max_bytes
        self.cache_bytes = cache_bytes
        self._slots = asyncio.Semaphore(processes)
        self._cache: OrderedDict[str, str] = OrderedDict()
        self._cached_bytes = 0

    async def render(
        self, files: Sequence[tuple[str, str]], language_id: str, offered: Sequence[Language]
    ) -> list[HighlightedFile]:
        """Render each (name, text) of a ``language_id`` submission as numbered HTML."""
        jobs = [self._job(name, text, language_id, offered) for name, text in files]
        found: dict[str, str] = {}
        wanted: dict[str, tuple[str, str]] = {}
        for (_, text), job in zip(files, jobs, strict=True):
            if job is None:
                continue
            key, lexer = job
            html = self._cached(key)
            if html is None:
                wanted[key] = (lexer, text)
            else:
                found[key] = html
        if wanted:
            found |= await self._lex(wanted)
        return [
            HighlightedFile(name, (job and found.get(job[0])) or render_html(text, None))
            for (name, text), job in zip(files, jobs, strict=True)
        ]

    def _job(
        self, name: str, text: str, language_id: str, offered: Sequence[Language]
    ) -> tuple[str, str] | None:
        """Return (cache key, lexer) for a file to lex, or None to show it as plain text."""
        if len(text.encode("utf-8", "surrogatepass")) > self.max_bytes:
            return None
        lexer = lexer_for(name, language_id, offered)
        return None if lexer is None else (_cache_key(lexer, text), lexer)

    async def _lex(self, wanted: dict[str, tuple[str, str]]) -> dict[str, str]:
        """Lex ``wanted`` (key: (lexer, text)) in a child; return the HTML of each key."""
        try:
            async with asyncio.timeout(self.time_limit):
                await self._slots.acquire()
        except TimeoutError:
            # Busy with other pages: plain text this time, lexed on a later view.
            log.warning("no highlighting slot within %.1f s: plain text for now", self.time_limit)
            return {}
        try:
            rendered = {key: html for key in wanted if (html := self._cached(key)) is not None}
            missing = {key: job for key, job in wanted.items() if key not in rendered}
            if missing:
                pages = await self._run_child(list(missing.values()))
                for index, (key, (_, text)) in enumerate(missing.items()):
                    # A file the child could not lex in time is remembered as plain text, so
                    # it costs the time bound once, not on every view.
                    rendered[key] = pages[index] if pages else render_html(text, None)
                    self._remember(key, rendered[key])
            return rendered
        finally:
            self._slots.release()

    async def _run_child(self, jobs: list[tuple[str, str]]) -> list[str]:
        payload = json.dumps({"files": jobs}).encode("ascii")
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-I",
            str(_CHILD),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            env={},
        )
        try:
            output, _ = await asyncio.wait_for(child.communicate(payload), self.time_limit)
        except TimeoutError:
            log.warning(
                "highlighting %d file(s) took over %.1f s: shown as plain text",
                len(jobs),
                self.time_limit,
            )
            return []
        finally:
            if child.returncode is None:
                child.kill()
                await child.wait()
        try:
            pages = json.loads(output)
        except ValueError:
            pages = None
        if child.returncode != 0 or not isinstance(pages, list) or len(pages) != len(jobs):
            log.warning("highlighting failed (exit %s): shown as plain text", child.returncode)
            return []
        return [str(page) for page in pages]

    def _cached(self, key: str) -> str | None:
        html = self._cache.get(key)
        if html is not None:
            self._cache.move_to_end(key)
        return html

    def _remember(self, key: str, html: str) -> None:
        size = len(html)
        if size > self.cache_bytes:
            return
        self._cache[key] = html
        self._cached_bytes += size
        while self._cached_bytes > self.cache_bytes:
            _, dropped = self._cache.popitem(last=False)
            self._cached_bytes -= len(dropped)


def _cache_key(lexer: str, text: str) -> str:
    digest = hashlib.sha256(lexer.encode("ascii") + b"\0" + text.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def init_app(app: Quart) -> Highlighter:
    """Attach the app's Highlighter (its cache and child-process slots)."""
    highlighter = Highlighter()
    app.extensions[EXTENSION_KEY] = highlighter
    return highlighter


def get_highlighter(app: Quart) -> Highlighter:
    """Return the Highlighter attached by :func:`init_app`."""
    highlighter: Highlighter = app.extensions[EXTENSION_KEY]
    return highlighter


@cache
def stylesheet() -> str:
    """Return the CSS of the highlighting colours (the same until Pygments changes)."""
    return str(HtmlFormatter(cssclass=CSS_CLASS).get_style_defs(f".{CSS_CLASS}"))  # type: ignore[no-untyped-call]
