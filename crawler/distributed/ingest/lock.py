"""One ingester per Redis: its lock, and what a previous ingester left half done.

The lock is a Redis key holding ``pid@host tag``, refreshed every round and
let go on close; a lock whose holder is a dead process of this machine is
taken over at once (one on another machine expires after its TTL). What a
previous ingester took but never acknowledged (jobs, deliveries in their
processing lists) goes back to the head of its queue (:func:`recover`).
"""

from __future__ import annotations

import logging
import os
import socket
import uuid

import redis

from archive.errors import ChanarchiveError
from archive.store.crawls import pid_alive

from ..frontier import Frontier

logger = logging.getLogger(__name__)


class IngesterBusy(ChanarchiveError):
    """Another ingester holds this Redis's lock."""


class IngesterLock:
    """The ingester lock of one Redis, held for ``ttl`` seconds at a time."""

    def __init__(self, frontier: Frontier, ttl: float) -> None:
        self.frontier = frontier
        self.server = frontier.server
        self.key = frontier.ingester_lock
        self.ttl_ms = int(ttl * 1000)
        self.value = f"{os.getpid()}@{socket.gethostname()} {uuid.uuid4().hex[:8]}"
        self._refresh = self.server.register_script(
            "if redis.call('GET', KEYS[1]) == ARGV[1] then"
            " return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0"
        )

    def take(self) -> None:
        """Take the lock, or :class:`IngesterBusy` naming its holder."""
        if self.server.set(self.key, self.value, nx=True, px=self.ttl_ms):
            return
        try:
            holder = self.server.get(self.key)
        except redis.ResponseError:
            raise IngesterBusy(
                f"the ingester lock {self.key} in Redis is not one of ours"
            ) from None
        holder = holder.decode("utf-8", "replace") if isinstance(holder, bytes) else holder or ""
        pid, _, rest = holder.partition("@")
        host = rest.split(" ", 1)[0]
        if host == socket.gethostname() and pid.isdigit() and not pid_alive(int(pid)):
            logger.info("taking over the lock of ingester %s, which is gone", holder)
            self.server.set(self.key, self.value, px=self.ttl_ms)
            return
        raise IngesterBusy(
            f"another ingester ({holder}) is running on this Redis; one writes at a time"
        )

    def refresh(self) -> None:
        """Keep the lock; :class:`IngesterBusy` when it was lost (the ingester must stop)."""
        try:
            kept = self._refresh(keys=[self.key], args=[self.value, self.ttl_ms])
        except redis.ResponseError:
            kept = False  # someone put another kind of key in its place
        if not kept:
            raise IngesterBusy("this ingester lost its lock (was it paused?): stopping")

    def release(self) -> None:
        try:
            if self.server.get(self.key) in (self.value, self.value.encode()):
                self.server.delete(self.key)
        except redis.RedisError:
            pass


def recover(frontier: Frontier) -> None:
    """What a previous ingester took but never acknowledged goes back first in line."""
    for source, target, what in (
        (frontier.items_processing, frontier.items, "deliveries"),
        (frontier.jobs_processing, frontier.jobs, "jobs"),
    ):
        moved = 0
        while frontier.server.lmove(source, target, "RIGHT", "LEFT") is not None:
            moved += 1
        if moved:
            logger.info("put back %d %s a previous ingester had not acknowledged", moved, what)
