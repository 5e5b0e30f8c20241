"""Check a submission before anything is stored: language, file names, size, text, rate limit.

Every check raises :class:`SubmissionRefused` with the HTTP status, a stable error code (the
JSON API's ``"error"``) and a message that says what to change. The pure checks here need no
database; the problem and rate-limit checks live in :mod:`service.submissions.service`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from service.evaluator import Language, UnknownLanguageError, get_language, offered_ids

#: At most this many files in one submission.
MAX_FILES = 20
#: At most this many submissions in one batch request.
MAX_BATCH = 20
#: The longest file name accepted.
MAX_NAME_LENGTH = 100

# The evaluator stages only names like these (letters, digits, '_', '.', '+', '-'; no leading
# '.' or '-'), so a name that passes here is never refused later as a compile error.
_SAFE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+\-]*")


class SubmissionRefused(Exception):
    """A submission was refused before storing anything: HTTP status, error code and reason."""

    def __init__(
        self, status: int, code: str, message: str, retry_after: int | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after

    def to_json(self) -> dict[str, str]:
        """Return the JSON API's error body."""
        return {"error": self.code, "message": self.message}


@dataclass(frozen=True)
class SourceFile:
    """One validated source file: a safe name and its UTF-8 text."""

    name: str
    content: str


@dataclass(frozen=True)
class ValidSources:
    """The language and files of a submission that passed every check needing no database."""

    language: Language
    files: tuple[SourceFile, ...]
    total_bytes: int


def check_language(language_id: str) -> Language:
    """Return the offered language ``language_id``; refuse (422) listing the offered ids."""
    try:
        return get_language(language_id)
    except UnknownLanguageError:
        offered = ", ".join(offered_ids()) or "none"
        raise SubmissionRefused(
            422,
            "unknown_language",
            f"language {language_id!r} is not offered here; choose one of: {offered}",
        ) from None


def conventional_name(language: Language) -> str:
    """Return the file name a nameless single source gets (``main.py``, ``Main.java``)."""
    stem = "Main" if language.finds_main_class else "main"
    return stem + language.extensions[0]


def check_file_name(name: str) -> None:
    """Refuse (422 bad_file_name) a name that is not a plain, safe file name."""
    if not name:
        raise SubmissionRefused(422, "bad_file_name", "every file needs a name")
    if len(name) > MAX_NAME_LENGTH:
        raise SubmissionRefused(
            422,
            "bad_file_name",
            f"file name {name[:20]!r}... is too long ({len(name)} characters); "
            f"at most {MAX_NAME_LENGTH}",
        )
    if "/" in name or "\\" in name or ".." in name or not _SAFE_NAME.fullmatch(name):
        raise SubmissionRefused(
            422,
            "bad_file_name",
            f"file name {name!r} is not allowed: use letters, digits, '_', '.', '-', '+', "
            "no folders, and do not start with '.' or '-'",
        )


def check_sources(
    language_id: str, files: Sequence[tuple[str, bytes]], *, max_bytes: int
) -> ValidSources:
    """Check the language and the files of one submission; return them decoded and named."""
    language = check_language(language_id)
    if not files:
        raise SubmissionRefused(422, "empty_source", "the submission has no source file")
    if len(files) > MAX_FILES:
        raise SubmissionRefused(
            422, "too_many_files", f"{len(files)} files sent; at most {MAX_FILES} per submission"
        )
    total = sum(len(content) for _, content in files)
    if total > max_bytes:
        raise SubmissionRefused(
            413,
            "source_too_large",
            f"the source is {total} bytes; the limit is {max_bytes} bytes",
        )
    named = _named(language, files)
    decoded = tuple(SourceFile(name, _decode(name, content)) for name, content in named)
    if all(not file.content.strip() for file in decoded):
        raise SubmissionRefused(422, "empty_source", "the source is empty")
    return ValidSources(language, decoded, total)


def _named(language: Language, files: Sequence[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    """Name a nameless single file, check every name, and require one source of the language."""
    if len(files) == 1 and not files[0][0].strip():
        return [(conventional_name(language), files[0][1])]
    seen: set[str] = set()
    for name, _ in files:
        check_file_name(name)
        if name.lower() in seen:
            raise SubmissionRefused(422, "bad_file_name", f"two files are named {name!r}")
        seen.add(name.lower())
    if not any(language.matches(name) for name, _ in files):
        raise SubmissionRefused(
            422,
            "bad_file_name",
            f"no {language.name} source among the files: name one with "
            + " or ".join(language.extensions),
        )
    return list(files)


def _decode(name: str, content: bytes) -> str:
    if b"\x00" in content:
        raise SubmissionRefused(422, "not_text", f"{name} contains NUL bytes; send text only")
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError as error:
        raise SubmissionRefused(
            422,
            "not_text",
            f"{name} is not valid UTF-8 text (byte {error.start}); save it as UTF-8",
        ) from None


def retry_after_seconds(leaving_at: datetime, now: datetime) -> int:
    """Return whole seconds (at least 1) until ``leaving_at``, when a rate-limit slot frees."""
    return max(1, math.ceil((leaving_at - now).total_seconds()))
