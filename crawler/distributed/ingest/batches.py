"""Deliveries, written in batches: each exactly once, acknowledged only once committed.

Deliveries are moved to a processing list (``LMOVE``), read
(:func:`~crawler.distributed.deliveries.read_delivery`), written in one
SQLite transaction through the crawl's one writer
(:class:`~crawler.writer.ArchiveWriter`; each request's delivery once per
crawl: :func:`archive.store.queued.claim_delivery`), and only after the
commit acknowledged: removed from the processing list and from the crawl's
pending requests. A delivery handed over again after a crash is skipped;
one that cannot be read is kept as an error of its crawl and dropped.

Between the commit and the acknowledgement, what workers need to crawl
incrementally is published (:mod:`..published`) and the side requests the
writer planned (media files, deletion checks) are queued: they are pending
like pages, so their crawl stays open until they are written too, but they
count in no page budget.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import sqlite_utils

from archive import store
from archive.errors import BadInput
from archive.models import ERROR_INGEST
from archive.store import queued

from ...items import PageItem
from ...writer import ArchiveWriter, archive_fault
from ..deliveries import crawl_of, read_delivery
from ..frontier import Child, Frontier
from ..published import publish
from ..requests import side_child
from .crawls import QueuedCrawls

logger = logging.getLogger(__name__)


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
                records.append((raw, json.loads(raw)))
            except ValueError:
                self.stats.dropped += 1
                logger.error("dropped a delivery that is not JSON: %r", raw[:200])
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
                    logger.warning("could not write a delivery (%s): %r", exc, str(record)[:200])
                    self._refuse(record, exc)
        publish(self.frontier, self.db, channels)
        for crawl_id, child in sides:
            self.frontier.enqueue_side(crawl_id, child)

    def _write_one(
        self, record: Any, channels: set[tuple[str, str]], sides: list[tuple[int, Child]]
    ) -> None:
        crawl_id = crawl_of(record)
        if crawl_id is not None and not self.crawls.running(crawl_id):
            self.stats.late += 1  # its crawl was ended (e.g. stopped by the scheduler)
            self._ended.add(crawl_id)
            return
        delivery = read_delivery(record)
        if not queued.claim_delivery(self.db, delivery.crawl, delivery.rkey):
            self.stats.repeated += 1
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

    def _refuse(self, record: Any, exc: Exception) -> None:
        """A delivery that cannot be read: kept as an error of its crawl, never retried."""
        self.stats.dropped += 1
        crawl_id = crawl_of(record)
        if crawl_id is not None and self.crawls.running(crawl_id):
            rkey = record.get("rkey") if isinstance(record, dict) else None
            queued.claim_delivery(self.db, crawl_id, str(rkey))
            reason = str(exc) if isinstance(exc, BadInput) else repr(exc)
            store.record_error(
                self.db, crawl_id, None, ERROR_INGEST, f"a delivery could not be read: {reason}"
            )

    def _acknowledge(self, records: list[tuple[Any, Any]]) -> None:
        """Only what is committed: a crash before this re-delivers, and the written are skipped."""
        pipe = self.server.pipeline(transaction=True)
        for raw, record in records:
            pipe.lrem(self.frontier.items_processing, 1, raw)
            crawl_id = crawl_of(record)
            rkey = record.get("rkey") if isinstance(record, dict) else None
            if crawl_id is not None and isinstance(rkey, str):
                pipe.srem(self.frontier.pending(crawl_id), rkey)
        pipe.execute()
        if self._ended:  # nothing more of these crawls will be written: drop their keys
            for crawl_id in self._ended:
                self.crawls.ended(crawl_id)
            self._ended.clear()
