"""Problem packages written for the problem tests: copies of examples, statements, zips."""

from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path

from tests.builders import example_path


def copy_example(target: Path, name: str = "hello", *, keep: tuple[str, ...] = ()) -> Path:
    """Copy examples/problems/<name> to ``target``; ``keep`` limits submissions to these paths."""
    shutil.copytree(example_path(name), target)
    if keep:
        for path in sorted((target / "submissions").rglob("*"), reverse=True):
            relative = path.relative_to(target / "submissions").as_posix()
            if path.is_file() and relative not in keep:
                path.unlink()
    return target


def write_statement(
    package: Path, files: dict[str, str | bytes], folder: str = "statement"
) -> Path:
    """Replace the package's statements by ``files`` (name -> text or bytes) in ``folder``."""
    for old in ("statement", "problem_statement"):
        shutil.rmtree(package / old, ignore_errors=True)
    directory = package / folder
    directory.mkdir()
    for name, content in files.items():
        path = directory / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return package


def zip_folder(folder: Path, archive: Path, *, top: str | None = None) -> Path:
    """Zip ``folder`` into ``archive`` (under a ``top`` folder when given)."""
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                name = path.relative_to(folder).as_posix()
                bundle.write(path, f"{top}/{name}" if top else name)
    return archive


def zip_bytes(folder: Path) -> bytes:
    """Return the bytes of a zip of ``folder``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                bundle.write(path, path.relative_to(folder).as_posix())
    return buffer.getvalue()


def zip_bomb(archive: Path) -> Path:
    """Write a zip whose one member expands far beyond any honest compression ratio."""
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_BZIP2) as bundle:
        bundle.writestr("problem.yaml", "name: Bomb\n")
        bundle.writestr("data/secret/1.in", b"\0" * (32 << 20))
    return archive
