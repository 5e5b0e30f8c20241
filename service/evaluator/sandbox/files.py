"""Read back what a program left in a writable work dir without trusting it.

The program controls every name in its work dir: a result may be a symlink to a host file, a
FIFO that blocks forever, a device or a huge file. Only regular files are read, never through a
symlink (``O_NOFOLLOW`` on the last component, and the parent directories are checked too), and
never more than ``limit`` bytes.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


class UnsafeResultFile(Exception):
    """A result path is missing, not a regular file, reached through a symlink, or too big."""


def read_result_file(workdir: Path, name: str, limit: int) -> bytes:
    """Return ``workdir/name`` if it is a regular file of at most ``limit`` bytes."""
    parts = Path(name).parts
    if not parts or Path(name).is_absolute() or ".." in parts:
        raise UnsafeResultFile(f"{name!r} is not a plain relative path")
    fd = os.open(workdir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for part in parts[:-1]:
            try:
                next_fd = os.open(
                    part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd
                )
            except OSError as error:
                raise UnsafeResultFile(f"{name!r}: {error.strerror}") from error
            os.close(fd)
            fd = next_fd
        try:
            file_fd = os.open(
                parts[-1],
                os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY,
                dir_fd=fd,
            )
        except OSError as error:
            raise UnsafeResultFile(f"{name!r}: {error.strerror}") from error
    finally:
        os.close(fd)
    try:
        info = os.fstat(file_fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnsafeResultFile(f"{name!r} is not a regular file")
        if info.st_size > limit:
            raise UnsafeResultFile(f"{name!r} is larger than {limit} bytes")
        chunks = []
        total = 0
        while chunk := os.read(file_fd, min(1 << 20, limit + 1 - total)):
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise UnsafeResultFile(f"{name!r} is larger than {limit} bytes")
        return b"".join(chunks)
    finally:
        os.close(file_fd)
