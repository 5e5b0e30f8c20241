"""Safe extraction of an uploaded zip: every member is checked before anything is written.

A zip from an untrusted author may hold absolute paths, ``..`` parts, symbolic links, devices,
duplicate or overlapping names, encrypted members, or sizes and compression ratios meant to fill
the disk (a zip bomb). ``extract_archive`` reads the central directory first and refuses all of
these against ``ZipLimits``; only then does it write the members, each opened with
``O_EXCL | O_NOFOLLOW`` and never beyond its declared size. A failure while writing empties the
target directory again.

Exceptions::

    ArchiveError    the zip is unreadable, unsafe or over a limit; the message names the member

The module knows nothing about problem packages: ``package.py`` turns an ArchiveError into its
own PackageError.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import zipfile
import zlib
from dataclasses import dataclass
from lzma import LZMAError
from pathlib import Path


class ArchiveError(Exception):
    """The zip cannot be read or holds something unsafe; the message names the member."""


@dataclass(frozen=True)
class ZipLimits:
    """What an uploaded zip may hold; beyond it the zip is rejected before anything is written."""

    max_members: int = 10_000
    max_total_bytes: int = 1 << 30  # uncompressed, all members together
    max_member_bytes: int = 512 << 20  # uncompressed, one member
    max_ratio: float = 1100.0  # deflate cannot exceed ~1032:1; bzip2/lzma bombs can
    ratio_floor_bytes: int = 1 << 20  # smaller members are never judged by their ratio


DEFAULT_ZIP_LIMITS = ZipLimits()


def extract_archive(archive: Path, target: Path, limits: ZipLimits = DEFAULT_ZIP_LIMITS) -> None:
    """Extract ``archive`` into ``target`` (created, must be empty) after checking every member."""
    target.mkdir(parents=True, exist_ok=True)
    if any(target.iterdir()):
        raise ArchiveError(f"{target}: the extraction directory is not empty")
    try:
        with zipfile.ZipFile(archive) as bundle:
            members = _checked_members(bundle, archive, limits)
            try:
                for parts, info in members:
                    _extract_member(bundle, info, target, parts, archive)
            except BaseException:
                _empty_directory(target)
                raise
    except (zipfile.BadZipFile, zlib.error, LZMAError, EOFError, NotImplementedError) as error:
        raise ArchiveError(f"{archive.name}: not a readable zip archive ({error})") from None
    except OSError as error:
        raise ArchiveError(f"{archive.name}: cannot extract ({error.strerror})") from None


def _checked_members(
    bundle: zipfile.ZipFile, archive: Path, limits: ZipLimits
) -> list[tuple[tuple[str, ...], zipfile.ZipInfo]]:
    infos = bundle.infolist()
    name = archive.name
    if len(infos) > limits.max_members:
        raise ArchiveError(
            f"{name}: the zip holds {len(infos)} entries; at most {limits.max_members} are allowed"
        )
    members: list[tuple[tuple[str, ...], zipfile.ZipInfo]] = []
    seen: dict[tuple[str, ...], bool] = {}  # path -> is a directory
    prefixes: set[tuple[str, ...]] = set()  # every folder some member lies in
    total = 0
    for info in infos:
        parts = _member_parts(info.filename, name)
        kind = _member_kind(info)
        if kind == "symlink":
            raise ArchiveError(
                f"{name}: '{info.filename}' is a symbolic link; links are not allowed"
            )
        if kind == "other":
            raise ArchiveError(f"{name}: '{info.filename}' is not a regular file or directory")
        if info.flag_bits & 0x1:
            raise ArchiveError(f"{name}: '{info.filename}' is encrypted")
        is_dir = kind == "dir"
        if parts in seen and not (is_dir and seen[parts]):
            raise ArchiveError(f"{name}: '{info.filename}' appears more than once")
        for depth in range(1, len(parts)):
            if seen.get(parts[:depth]) is False:
                raise ArchiveError(f"{name}: '{info.filename}' is inside a file, not a directory")
            prefixes.add(parts[:depth])
        if not is_dir and parts in prefixes:
            raise ArchiveError(f"{name}: '{info.filename}' is both a file and a directory")
        seen[parts] = is_dir
        if is_dir:
            continue
        size = info.file_size
        if size > limits.max_member_bytes:
            raise ArchiveError(
                f"{name}: '{info.filename}' declares {_mib(size)} uncompressed; at most "
                f"{_mib(limits.max_member_bytes)} per file"
            )
        if size >= limits.ratio_floor_bytes and size > limits.max_ratio * max(
            info.compress_size, 1
        ):
            raise ArchiveError(
                f"{name}: '{info.filename}' expands {size / max(info.compress_size, 1):.0f} times "
                f"(at most {limits.max_ratio:.0f}): this looks like a zip bomb; store the file "
                "with ordinary deflate compression"
            )
        total += size
        if total > limits.max_total_bytes:
            raise ArchiveError(
                f"{name}: the zip declares more than {_mib(limits.max_total_bytes)} uncompressed "
                "in total"
            )
        members.append((parts, info))
    return members


def _mib(size: int) -> str:
    return f"{size / (1 << 20):.1f} MiB"


def _member_parts(filename: str, archive: str) -> tuple[str, ...]:
    if "\\" in filename or "\x00" in filename:
        raise ArchiveError(f"{archive}: '{filename}' has a backslash or NUL in its name")
    if filename.startswith("/") or re.match(r"[A-Za-z]:", filename):
        raise ArchiveError(f"{archive}: '{filename}' is an absolute path")
    parts = tuple(part for part in filename.split("/") if part not in ("", "."))
    if ".." in parts:
        raise ArchiveError(f"{archive}: '{filename}' climbs out of the package with '..'")
    if not parts:
        raise ArchiveError(f"{archive}: a member has an empty name")
    return parts


def _member_kind(info: zipfile.ZipInfo) -> str:
    kind = stat.S_IFMT(info.external_attr >> 16) if info.create_system == 3 else 0
    if kind == 0:  # no Unix file type recorded (Windows tools, Python's writestr)
        return "dir" if info.filename.endswith("/") else "file"
    if stat.S_ISLNK(kind):
        return "symlink"
    if stat.S_ISDIR(kind):
        return "dir"
    return "file" if stat.S_ISREG(kind) else "other"


def _extract_member(
    bundle: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    target: Path,
    parts: tuple[str, ...],
    archive: Path,
) -> None:
    directory = target.joinpath(*parts[:-1])
    directory.mkdir(parents=True, exist_ok=True)
    executable = info.create_system == 3 and (info.external_attr >> 16) & 0o111
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    descriptor = os.open(directory / parts[-1], flags, 0o755 if executable else 0o644)
    written = 0
    with os.fdopen(descriptor, "wb") as sink, bundle.open(info) as source:
        while chunk := source.read(1 << 20):
            written += len(chunk)
            if written > info.file_size:  # pragma: no cover - zipfile stops at file_size itself
                raise ArchiveError(f"{archive.name}: '{info.filename}' is larger than declared")
            sink.write(chunk)


def _empty_directory(target: Path) -> None:
    for entry in target.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
