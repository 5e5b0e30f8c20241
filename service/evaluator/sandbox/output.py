"""Capped collection of a run's stdout and stderr on the event loop.

Readers are registered with ``loop.add_reader``; nothing waits for end-of-file: when the run is
over, ``finish`` drains what is already in the pipes (non-blocking) and closes them, so a
process that kept a copy of the pipe open cannot hang the judge.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable

CHUNK = 1 << 16


class CappedPipe:
    """The read end of one pipe, kept up to ``cap`` bytes."""

    def __init__(self, fd: int, cap: int, stop_at_cap: bool) -> None:
        self.fd = fd
        self.cap = cap
        self.stop_at_cap = stop_at_cap
        self.data = bytearray()
        self.overflow = False
        os.set_blocking(fd, False)

    def read_available(self) -> bool:
        """Read what the pipe holds now; return False at end of file."""
        while True:
            try:
                chunk = os.read(self.fd, CHUNK)
            except BlockingIOError:
                return True
            except OSError:
                return False
            if not chunk:
                return False
            room = self.cap - len(self.data)
            if len(chunk) > room:
                self.overflow = True
                self.data += chunk[: max(room, 0)]
            else:
                self.data += chunk
            if self.overflow and self.stop_at_cap:
                return True

    def close(self) -> None:
        """Close the read end."""
        with contextlib.suppress(OSError):
            os.close(self.fd)


class OutputCollector:
    """Collects stdout (overflow calls ``on_overflow`` once) and stderr (silently cut)."""

    def __init__(
        self,
        stdout_fd: int,
        stderr_fd: int,
        stdout_cap: int,
        stderr_cap: int,
        on_overflow: Callable[[], None],
    ) -> None:
        self.stdout = CappedPipe(stdout_fd, stdout_cap, stop_at_cap=True)
        self.stderr = CappedPipe(stderr_fd, stderr_cap, stop_at_cap=False)
        self._on_overflow = on_overflow
        self._loop = asyncio.get_running_loop()
        self._watching: set[int] = set()
        for pipe in (self.stdout, self.stderr):
            self._loop.add_reader(pipe.fd, self._readable, pipe)
            self._watching.add(pipe.fd)

    def _stop(self, pipe: CappedPipe) -> None:
        if pipe.fd in self._watching:
            self._loop.remove_reader(pipe.fd)
            self._watching.discard(pipe.fd)

    def _readable(self, pipe: CappedPipe) -> None:
        was_over = self.stdout.overflow
        if not pipe.read_available():
            self._stop(pipe)
        if pipe is self.stdout and self.stdout.overflow and not was_over:
            # Stop reading: the writer blocks until it is killed.
            self._stop(pipe)
            self._on_overflow()

    def finish(self) -> tuple[bytes, bytes, bool]:
        """Drain what is buffered, close the pipes; return stdout, stderr and the overflow flag."""
        for pipe in (self.stdout, self.stderr):
            self._stop(pipe)
            if not (pipe is self.stdout and pipe.overflow):
                pipe.read_available()
            pipe.close()
        return bytes(self.stdout.data), bytes(self.stderr.data), self.stdout.overflow
