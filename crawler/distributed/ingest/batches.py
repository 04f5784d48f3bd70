"""Deliveries, written in batches: each exactly once, acknowledged only once committed.

Deliveries are moved to a processing list (``LMOVE``), read
(:func:`~crawler.distributed.deliveries.read_delivery`), written in one
SQLite transaction through the crawl's one writer
(:class:`~crawler.writer.ArchiveWriter`; each request's delivery once per
crawl: :func:`archive.store.queued.claim_delivery`), and only after the
commit acknowledged: removed from the processing list and from the crawl's
pending requests. A delivery handed over again after a crash is skipped;
one that cannot be read, or that answers nothing its crawl asked for
(:mod:`.asked`), is dropped with one log line, counted, and kept as an error
of its crawl when that is a running crawl of this queue. A request a worker
could not read comes back as a *refused* delivery: its reason is kept the
same way, and the request is done.

Between the commit and the acknowledgement, what workers need to crawl
incrementally is published (:mod:`..published`) and the side requests the
writer planned (media files, deletion checks) are queued: they are pending
like pages, so their crawl stays open until they are written too, but they
count in no page budget.
"""

from __future__ import annotations

import logging
from typing import Any

import redis
import sqlite_utils

from archive import store
from archive.errors import BadInput
from archive.models import ERROR_INGEST
from archive.store import queued

from ...items import PageItem
from ...writer import ArchiveWriter, archive_fault
from ..deliveries import crawl_of, read_delivery, rkey_of
from ..frontier import Child, Frontier
from ..published import publish
from ..requests import side_child
from ..serialize import read_json
from .asked import check_asked
from .crawls import QueuedCrawls

logger = logging.getLogger(__name__)

#: The longest delivery read (Redis holds no longer string).
MAX_DELIVERY = 512 * 1024 * 1024


class DeliveryBatches:
    """Takes, writes and acknowledges the workers' deliveries, a batch at a time."""

    def __init__(
        self,
        frontier: Frontier,
        db: sqlite_utils.Database,
        writer: ArchiveWriter,
        crawls: QueuedCrawls,
        *,
        size: int,
        block: float,
    ) -> None:
        self.frontier = frontier
        self.server = frontier.server
        self.db = db
        self.writer = writer
        self.crawls = crawls
        self.stats = crawls.stats
        self.size = size
        self.block = block
        self._ended: set[int] = set()

    def ingest(self) -> set[int]:
        """Take, write and acknowledge up to a batch of deliveries; returns the crawls touched.

        Raises when the archive cannot be written (the batch goes back first in line).
        """
        records = self._read(self._take())
        if not records:
            return set()
        self._write(records)
        self._acknowledge(records)
        for crawl_id in sorted(self.writer.halted):  # a page refused whole: the crawl ends
            self.crawls.halt(crawl_id)
        return {crawl for _raw, record in records if (crawl := crawl_of(record)) is not None}

    def _take(self) -> list:
        f = self.frontier
        first = self.server.blmove(f.items, f.items_processing, self.block, "LEFT", "RIGHT")
        if first is None:
            return []
        batch = [first]
        while len(batch) < self.size:
            raw = self.server.lmove(f.items, f.items_processing, "LEFT", "RIGHT")
            if raw is None:
                break
            batch.append(raw)
        return batch

    def _read(self, batch: list) -> list[tuple[Any, Any]]:
        records = []
        for raw in batch:
            try:
                records.append((raw, read_json(raw, "a delivery", limit=MAX_DELIVERY)))
            except BadInput as exc:
                self.stats.dropped += 1
                logger.error("dropped a delivery that cannot be read (%s): %r", exc, raw[:200])
                self.server.lrem(self.frontier.items_processing, 1, raw)
        return records

    def _write(self, records: list[tuple[Any, Any]]) -> None:
        """Write deliveries in one transaction, then publish what workers need to know and
        queue the side requests of the pages (before the deliveries are acknowledged)."""
        channels: set[tuple[str, str]] = set()
        sides: list[tuple[int, Child]] = []
        with queued.delivery_batch(self.db):
            for _raw, record in records:
                try:
                    with queued.one_delivery(self.db):  # a savepoint: this delivery alone
                        self._write_one(record, channels, sides)
                except Exception as exc:
                    if archive_fault(exc):
                        raise  # the archive is busy or broken: the whole batch is tried again
                    logger.warning(
                        "dropped a delivery of crawl %s (%s): %r",
                        crawl_of(record), exc if isinstance(exc, BadInput) else repr(exc),
                        str(record)[:200],
                    )  # fmt: skip
                    self._refuse(record, exc)
        publish(self.frontier, self.db, channels)
        for crawl_id, child in sides:
            try:
                self.frontier.enqueue_side(crawl_id, child)
            except redis.ResponseError as exc:  # the crawl's keys are of another type
                logger.error("crawl %d: could not queue a side request: %s", crawl_id, exc)

    def _write_one(
        self, record: Any, channels: set[tuple[str, str]], sides: list[tuple[int, Child]]
    ) -> None:
        crawl_id = crawl_of(record)
        if crawl_id is not None and self.crawls.ended_here(crawl_id):
            self.stats.late += 1  # its crawl was ended (e.g. stopped by the scheduler)
            self._ended.add(crawl_id)
            return
        delivery = read_delivery(record)
        if not self.crawls.running(delivery.crawl):
            raise BadInput(f"crawl {delivery.crawl} is no running crawl of this queue")
        check_asked(self.frontier, delivery, self.writer.crawl(delivery.crawl).source)
        if not queued.claim_delivery(self.db, delivery.crawl, delivery.rkey):
            self.stats.repeated += 1
            return
        if delivery.refused is not None:
            self._refused_request(delivery.crawl, delivery.refused)
            return
        self.stats.deliveries += 1
        context = None
        for item in delivery.items:
            requests = self.writer.write(delivery.crawl, item)
            if isinstance(item, PageItem) and item.page is not None and item.page.channel:
                channels.add((item.page.kind, item.page.channel.name))
            if requests:
                context = context or self.crawls.context(delivery.crawl)
                sides += [(delivery.crawl, side_child(request, context)) for request in requests]

    def _refused_request(self, crawl_id: int, reason: str) -> None:
        """A request a worker could not read: its reason kept with its crawl; it is done."""
        self.stats.refused += 1
        logger.warning("crawl %d: a worker refused a queued request: %s", crawl_id, reason)
        store.record_error(
            self.db, crawl_id, None, ERROR_INGEST, f"a queued request could not be read: {reason}"
        )

    def _refuse(self, record: Any, exc: Exception) -> None:
        """A delivery that cannot be read or was not asked for: kept as an error of its crawl
        (a running crawl of this queue), never retried."""
        self.stats.dropped += 1
        crawl_id = crawl_of(record)
        if crawl_id is not None and self.crawls.running(crawl_id):
            rkey = rkey_of(record)
            if rkey is not None and self._pending(crawl_id, rkey):
                queued.claim_delivery(self.db, crawl_id, rkey)  # the request it answers is done
            reason = str(exc) if isinstance(exc, BadInput) else repr(exc)
            store.record_error(
                self.db, crawl_id, None, ERROR_INGEST, f"a delivery could not be read: {reason}"
            )

    def _pending(self, crawl_id: int, rkey: str) -> bool:
        try:
            return bool(self.server.sismember(self.frontier.pending(crawl_id), rkey))
        except redis.ResponseError:  # not a set: put there by hand
            return False

    def _acknowledge(self, records: list[tuple[Any, Any]]) -> None:
        """Only what is committed: a crash before this re-delivers, and the written are skipped."""
        pipe = self.server.pipeline(transaction=True)
        for raw, record in records:
            pipe.lrem(self.frontier.items_processing, 1, raw)
            crawl_id, rkey = crawl_of(record), rkey_of(record)
            if crawl_id is not None and rkey is not None:
                pipe.srem(self.frontier.pending(crawl_id), rkey)
        for answer in pipe.execute(raise_on_error=False):
            if isinstance(answer, redis.ResponseError):  # a crawl's key of another type
                logger.error("could not acknowledge a delivery: %s", answer)
        if self._ended:  # nothing more of these crawls will be written: drop their keys
            for crawl_id in self._ended:
                self.crawls.ended(crawl_id)
            self._ended.clear()
