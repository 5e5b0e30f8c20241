"""The submit form read as a submission's files: the editor's text or the uploaded files."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePosixPath

from werkzeug.datastructures import FileStorage

from service.submissions.validation import SubmissionRefused


def files_from_form(
    source: str, uploads: Sequence[FileStorage], limit: int
) -> list[tuple[str, bytes]]:
    """Return the submitted files: the editor's text (named by the pipeline) or the uploads.

    Raise SubmissionRefused when the form sends both or neither.
    """
    files: list[tuple[str, bytes]] = []
    for upload in uploads:
        if not upload.filename:
            continue  # the browser sends an empty part when no file was chosen
        # One byte over the limit is enough for the pipeline to refuse it as too large.
        content = upload.read(limit + 1)
        files.append((PurePosixPath(upload.filename.replace("\\", "/")).name, content))
    has_text = bool(source.strip())
    if files and has_text:
        raise SubmissionRefused(
            422, "both_sources", "Send either the text in the editor or files, not both."
        )
    if has_text:
        # Browsers send a textarea's lines with CRLF; programs (and shell scripts) expect LF.
        return [("", source.replace("\r\n", "\n").encode("utf-8"))]
    if not files:
        raise SubmissionRefused(
            422,
            "empty_source",
            "The submission is empty: write code in the editor or choose files.",
        )
    return files
