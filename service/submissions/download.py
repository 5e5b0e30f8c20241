"""A submission's source as one download: the lone file as text, or every file in a zip."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class SourceDownload:
    """The bytes to send, their media type and the file name to save them under."""

    content: bytes | str
    mimetype: str
    filename: str


def source_download(submission_id: int, files: Sequence[tuple[str, str]]) -> SourceDownload:
    """Return the download of a submission's (name, text) files."""
    if len(files) == 1:
        name, content = files[0]
        return SourceDownload(content, "text/plain", name)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files:
            archive.writestr(name, content)
    return SourceDownload(buffer.getvalue(), "application/zip", f"submission-{submission_id}.zip")
