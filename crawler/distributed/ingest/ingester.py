"""The ingester (``chanarchive ingest``): the one writer of a distributed crawl.

It takes jobs and deliveries from Redis and writes the archive through the
same writer as a local crawl (:class:`~crawler.writer.ArchiveWriter`). Its
parts: the lock and what a previous ingester left (:mod:`.lock`), the
crawls begun from jobs and finished when done (:mod:`.crawls`), the
deliveries written in batches with the side requests they lead to
(:mod:`.batches`). Each round it also puts back the leases of workers whose
heartbeat stopped.

A write the archive refuses (a full disk, read-only, an I/O error, a damaged
file: :func:`~archive.store.faults.archive_fault`) is no delivery's fault:
whatever the round took goes back first in line, the writer forgets what
it planned in the rolled-back transaction, and the ingester waits before it
tries again, longer each time (up to :attr:`IngestOptions.fault_pause_max`,
keeping its lock). It says so once, then once every
:attr:`IngestOptions.fault_log_every` seconds while the refusal lasts, and
once more when the archive takes writes again. The crawls it could not write
stay running and go on from there. Stopped while the archive refuses,
:meth:`Ingester.run` raises :class:`~archive.errors.ArchiveUnwritable`.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

import redis

from archive.errors import ArchiveUnwritable
from archive.store import abandon_transaction, open_archive, queued
from archive.store.faults import archive_fault, refusal

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
    fault_pause: float = 1.0  # seconds waited after the archive first refuses a write (doubling)
    fault_pause_max: float = 10.0  # the longest wait (well below lock_ttl: the lock is kept)
    fault_log_every: float = 300.0  # seconds between log lines while the archive keeps refusing


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
        self.writer: ArchiveWriter | None = None
        #: Why the archive refuses writes, while it does (None: it takes them).
        self.refusal: str | None = None
        self._refused_since = self._told_at = 0.0
        self._pause = 0.0
        self._caught_up = False

    def stop(self) -> None:
        self.stop_event.set()

    def run(self) -> IngestStats:
        """Ingest until :meth:`stop`; returns what was done.

        Raises :class:`~archive.errors.ArchiveUnwritable` when stopped while the
        archive refuses writes (the crawls it could not write stay running).
        """
        self.start()
        left = 0
        try:
            while not self.stop_event.is_set():
                self.step()
            if self.refusal is not None:
                left = self._running()
        finally:
            self.close()
        if self.refusal is not None:
            crawls = "1 crawl stays" if left == 1 else f"{left} crawls stay"
            raise ArchiveUnwritable(
                f"{self.refusal}: stopped while waiting for it; {crawls} running"
                " (an ingester that can write finishes them)"
            )
        return self.stats

    def start(self) -> None:
        """Take the lock, open the archive, and pick up whatever a previous ingester left."""
        self.lock.take()
        try:
            self.db = open_archive(self.db_path)
            self._archive = publish_archive(self.frontier, self.db_path)
            self.writer = writer = ArchiveWriter(self.db, self.stats.counts)
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
            self._writing()
        except BaseException:
            self.close()
            raise
        self._last_reap = self._last_check = time.monotonic()

    def _catch_up(self) -> None:
        """What a previous ingester left: the jobs queued, crawls Redis lost, rows finished
        but not told, crawls with nothing left (done again until the archive takes it)."""
        while self.crawls.take_jobs():
            pass
        self.crawls.close_lost()
        self.crawls.announce_finished()
        self._guarded("look for finished crawls", self.crawls.check, None)
        self._caught_up = True

    def step(self) -> None:
        """One round: keep the lock, reap dead workers, take jobs, write a batch, finish crawls."""
        self.lock.refresh()
        if self.refusal is not None:  # the archive refused the last round: wait, then try
            self.stop_event.wait(self._pause)
            if self.stop_event.is_set():
                return
        self._writing(self._round)

    def _writing(self, work=None) -> None:
        """What a previous ingester left, until done, then ``work()``; the archive refusing a
        write makes the ingester wait and try again."""
        try:
            if not self._caught_up:
                self._catch_up()
            if work is not None:
                work()
        except Exception as exc:
            if not archive_fault(exc):
                raise
            self._refused(exc)
            return
        if self.refusal is not None:
            logger.warning(
                "the archive takes writes again, after %.0f s: ingesting",
                time.monotonic() - self._refused_since,
            )
            self.refusal = None

    def _refused(self, exc: Exception) -> None:
        """The archive refused a write: what the round took goes back, and the ingester
        waits (longer each time); said once, then once in a while while it lasts."""
        reason = refusal(exc, self.db_path)
        abandon_transaction(self.db)
        self.writer.reset()
        recover(self.frontier)
        now = time.monotonic()
        options = self.options
        if self.refusal is None:
            self._refused_since = self._told_at = now
            self._pause = options.fault_pause
            logger.error("%s: nothing is written; trying again, less and less often", reason)
        else:
            self._pause = min(self._pause * 2, options.fault_pause_max)
            if reason != self.refusal or now - self._told_at >= options.fault_log_every:
                self._told_at = now
                logger.error(
                    "%s: nothing written for %.0f s; trying again",
                    reason,
                    now - self._refused_since,
                )
        self.refusal = reason

    def _running(self) -> int:
        """How many crawls of this queue are running (0 when the archive cannot say)."""
        try:
            return len(queued.running_queued_crawls(self.db, self.queue))
        except Exception as exc:
            if not archive_fault(exc):
                raise
            return 0

    def _round(self) -> None:
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
        except Exception as exc:
            if archive_fault(exc):
                raise  # the archive's, not the batch's: the ingester waits (step)
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
