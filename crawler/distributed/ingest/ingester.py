"""The ingester (``chanarchive ingest``): the one writer of a distributed crawl.

It takes jobs and deliveries from Redis and writes the archive through the
same writer as a local crawl (:class:`~crawler.writer.ArchiveWriter`). Its
parts: the lock and what a previous ingester left (:mod:`.lock`), the
crawls begun from jobs and finished when done (:mod:`.crawls`), the
deliveries written in batches with the side requests they lead to
(:mod:`.batches`). Each round it also puts back the leases of workers whose
heartbeat stopped.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

import redis

from archive.store import open_archive

from ...writer import ArchiveWriter
from ..archives import publish_archive, withdraw_archive
from ..frontier import Frontier, connect
from ..published import publish_all
from .batches import DeliveryBatches
from .crawls import IngestStats, QueuedCrawls, queue_name
from .lock import IngesterLock, recover

logger = logging.getLogger(__name__)


@dataclass
class IngestOptions:
    batch: int = 20  # deliveries written per transaction, at most
    block: float = 1.0  # seconds to wait for a delivery before looking at the rest again
    reap_every: float = 1.0  # seconds between looks for dead workers
    check_every: float = 5.0  # seconds between looks at every running crawl
    lock_ttl: float = 30.0  # seconds the ingester lock outlives a silent ingester
    result_ttl: int = 7 * 86400  # seconds a finished crawl's row stays in Redis


class Ingester:
    def __init__(self, db_path: str, redis_url: str, options: IngestOptions | None = None) -> None:
        self.options = options or IngestOptions()
        self.frontier = Frontier(connect(redis_url))
        self.server = self.frontier.server
        self.queue = queue_name(redis_url)
        self.db_path = db_path
        self.db = None
        self.stop_event = threading.Event()
        self.stats = IngestStats()
        self.lock = IngesterLock(self.frontier, self.options.lock_ttl)
        self.crawls: QueuedCrawls | None = None
        self.batches: DeliveryBatches | None = None

    def stop(self) -> None:
        self.stop_event.set()

    def run(self) -> IngestStats:
        """Ingest until :meth:`stop`; returns what was done."""
        self.start()
        try:
            while not self.stop_event.is_set():
                self.step()
        finally:
            self.close()
        return self.stats

    def start(self) -> None:
        """Take the lock, open the archive, and pick up whatever a previous ingester left."""
        self.lock.take()
        try:
            self.db = open_archive(self.db_path)
            self._archive = publish_archive(self.frontier, self.db_path)
            writer = ArchiveWriter(self.db, self.stats.counts)
            self.crawls = QueuedCrawls(
                self.frontier, self.db, self.queue, writer, self.stats,
                result_ttl=self.options.result_ttl,
            )  # fmt: skip
            self.batches = DeliveryBatches(
                self.frontier, self.db, writer, self.crawls,
                size=self.options.batch, block=self.options.block,
            )  # fmt: skip
            self._guarded("put back what a previous ingester left", recover, self.frontier)
            publish_all(self.frontier, self.db)
            while self.crawls.take_jobs():
                pass
            self.crawls.close_lost()
            self.crawls.announce_finished()
            self._guarded("look for finished crawls", self.crawls.check, None)
        except BaseException:
            self.close()
            raise
        self._last_reap = self._last_check = time.monotonic()

    def step(self) -> None:
        """One round: keep the lock, reap dead workers, take jobs, write a batch, finish crawls."""
        self.lock.refresh()
        now = time.monotonic()
        if now - self._last_reap >= self.options.reap_every:
            self._last_reap = now
            self._guarded("put back the leases of dead workers", self._reap)
        self._guarded("take jobs", self.crawls.take_jobs)
        try:
            touched = self.batches.ingest()
        except redis.ResponseError as exc:  # a key of another type than ours, put there by hand
            logger.error("could not take deliveries: %s", exc)
            self._guarded("put back the deliveries taken", recover, self.frontier)
            time.sleep(1.0)
            touched = set()
        except Exception:
            logger.exception("could not write a batch of deliveries: trying again")
            recover(self.frontier)
            time.sleep(1.0)
            touched = set()
        if touched:
            self._guarded("look for finished crawls", self.crawls.check, touched)
        if now - self._last_check >= self.options.check_every:
            self._last_check = now
            self._guarded("look for finished crawls", self.crawls.check, None)

    def _guarded(self, what: str, step, *args) -> None:
        """``step(*args)``; Redis refusing it for a key of another type than ours (anyone who
        can write to Redis may put one there) is said in one line, and the round goes on."""
        try:
            step(*args)
        except redis.ResponseError as exc:
            logger.error("could not %s: %s", what, exc)

    def close(self) -> None:
        if getattr(self, "_archive", None) is not None:
            withdraw_archive(self.frontier, self._archive)
            self._archive = None
        self.lock.release()
        if self.db is not None:
            self.db.close()
            self.db = None

    def _reap(self) -> None:
        reaped = self.frontier.reap()
        if reaped:
            self.stats.reaped += reaped
            logger.info("put back %d requests of workers that stopped answering", reaped)
