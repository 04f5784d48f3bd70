"""One scheduler per archive: an exclusive lock on a file beside it.

``flock`` is released by the kernel when the holder dies, however it dies,
so a crashed scheduler never leaves a stale lock behind; the file's content
(pid, host, start time) only serves to name the holder in the error.
"""

from __future__ import annotations

import fcntl
import os
import socket
from pathlib import Path

from archive.errors import ChanarchiveError
from archive.times import utcnow


class SchedulerBusy(ChanarchiveError):
    """Another scheduler already runs on this archive."""


def lock_path(db_path: str | os.PathLike[str]) -> Path:
    return Path(f"{os.fspath(db_path)}.scheduler.lock")


class SchedulerLock:
    """``with SchedulerLock(db):`` holds the archive's scheduler lock, or raises SchedulerBusy."""

    def __init__(self, db_path: str | os.PathLike[str]) -> None:
        self.db_path = os.fspath(db_path)
        self.path = lock_path(db_path)
        self._fd: int | None = None

    def acquire(self) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "unknown process"
            os.close(fd)
            raise SchedulerBusy(
                f"another scheduler is already running on {self.db_path} ({holder}); "
                "stop it first (one scheduler per archive)"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(
            fd, f"pid {os.getpid()} on {socket.gethostname()}, since {utcnow()}\n".encode(), 0
        )
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> SchedulerLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
