"""Politeness across scheduled crawls: one crawl per host at a time, and shared 429 backoff.

Within one crawl, Scrapy keeps one request at a time per host. Across
crawls, :class:`HostGate` queues the sources of one host behind each other,
and a host that answered 429 (or sent ``Retry-After``) is left alone until
the time the crawl's ``HostBackoffMiddleware`` stored in ``host_backoff``.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from datetime import datetime

import sqlite_utils

from archive.store.backoff import backoff_left


def host_backoff(
    db: sqlite_utils.Database, host: str, now: datetime | None = None
) -> tuple[float, str] | None:
    """Seconds left of ``host``'s backoff and its reason; None when it is not backed off."""
    if "host_backoff" not in db.table_names():
        return None
    return backoff_left(db.conn, host, now)


class HostGate:
    """Per-host locks plus a cap on crawls at once; waits give up when ``stop`` is set."""

    def __init__(self, concurrency: int, stop: threading.Event) -> None:
        self.stop = stop
        self._slots = threading.BoundedSemaphore(max(1, concurrency))
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self._busy: dict[str, str] = {}  # host -> source key crawling it
        self._waiting: dict[str, str] = {}  # source key -> host it waits for or holds

    def _lock(self, host: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(host, threading.Lock())

    def holder(self, host: str) -> str | None:
        """The source crawling ``host`` now, if any."""
        return self._busy.get(host)

    def holder_of_host_of(self, key: str) -> str | None:
        """The source holding the host ``key`` is queued for, as far as the gate knows."""
        host = self._waiting.get(key)
        return self._busy.get(host) if host else None

    def busy(self) -> int:
        """How many crawls hold their host now."""
        return len(self._busy)

    def _wait(self, lock) -> bool:
        while not lock.acquire(timeout=0.1):
            if self.stop.is_set():
                return False
        return True

    @contextlib.contextmanager
    def enter(self, host: str, key: str) -> Iterator[bool]:
        """Hold ``host`` (and a crawl slot) for ``key``; yields False when stopped while waiting."""
        lock = self._lock(host)
        self._waiting[key] = host
        try:
            if not self._wait(lock):
                yield False
                return
            try:
                if not self._wait(self._slots):
                    yield False
                    return
                try:
                    self._busy[host] = key
                    yield True
                finally:
                    self._busy.pop(host, None)
                    self._slots.release()
            finally:
                lock.release()
        finally:
            self._waiting.pop(key, None)
