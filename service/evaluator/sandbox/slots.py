"""Machine-wide sandbox slots: at most ``slots`` runs at once across every harness process.

Slot ``n`` is held by an exclusive ``flock`` on ``<state_dir>/slot-<n>.lock``. Inside one process
free slots are handed straight to waiting tasks (no lock churn); a slot whose lock another
process holds is retried after a short sleep. Nothing here blocks the event loop; the pool may
be shared by event loops in several threads.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import fcntl
import os
import threading
from pathlib import Path

RETRY_SECONDS = 0.005


class SlotPool:
    """Hands out slot numbers ``0 .. slots-1``, each locked machine-wide while in use."""

    def __init__(self, state_dir: Path, slots: int) -> None:
        self.slots = slots
        self._state_dir = state_dir
        self._fds: dict[int, int] = {}
        self._free: list[int] = list(range(slots))
        self._waiters: collections.deque[asyncio.Future[int]] = collections.deque()
        self._guard = threading.Lock()
        self._closed = False

    def _lock_fd(self, slot: int) -> int:
        if self._closed:
            raise OSError("the slot pool is closed")
        fd = self._fds.get(slot)
        if fd is None:
            path = self._state_dir / f"slot-{slot}.lock"
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
            self._fds[slot] = fd
        return fd

    def _try_lock(self, slot: int) -> bool:
        try:
            fcntl.flock(self._lock_fd(slot), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    async def acquire(self) -> int:
        """Wait for a free slot, lock it and return its number."""
        delay = RETRY_SECONDS
        while True:
            with self._guard:
                for slot in list(self._free):
                    if self._try_lock(slot):
                        self._free.remove(slot)
                        return slot
                waiter: asyncio.Future[int] | None = None
                if not self._free:
                    waiter = asyncio.get_running_loop().create_future()
                    self._waiters.append(waiter)
            if waiter is None:
                # Every slot this process has free is locked by another process: poll.
                await asyncio.sleep(delay)
                delay = min(delay * 2, 0.05)
                continue
            try:
                return await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    self.release(waiter.result())
                raise

    def release(self, slot: int) -> None:
        """Give ``slot`` to a waiting task of this process, or unlock it."""
        with self._guard:
            while self._waiters:
                waiter = self._waiters.popleft()
                if waiter.done() or waiter.get_loop().is_closed():
                    continue
                waiter.get_loop().call_soon_threadsafe(self._hand_over, waiter, slot)
                return
            with contextlib.suppress(OSError):
                fcntl.flock(self._lock_fd(slot), fcntl.LOCK_UN)
            self._free.append(slot)
            self._free.sort()

    def _hand_over(self, waiter: asyncio.Future[int], slot: int) -> None:
        if waiter.done():
            self.release(slot)
        else:
            waiter.set_result(slot)

    def try_lock_idle(self, slot: int) -> bool:
        """Lock a slot this process is not using, for cleanup; True when it is now held."""
        with self._guard:
            return slot in self._free and self._try_lock(slot)

    def unlock_idle(self, slot: int) -> None:
        """Undo ``try_lock_idle``."""
        with contextlib.suppress(OSError):
            fcntl.flock(self._lock_fd(slot), fcntl.LOCK_UN)

    def close(self) -> None:
        """Close the lock files (releasing any lock still held); the pool hands out no more."""
        self._closed = True
        for fd in self._fds.values():
            with contextlib.suppress(OSError):
                os.close(fd)
        self._fds.clear()
