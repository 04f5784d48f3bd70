"""The local crawl's pipeline: each item written through the writer, off the reactor.

A thin shell around :class:`~crawler.writer.ArchiveWriter`, the crawl's one
write path (the distributed ingester uses the same writer). Settings:
``CHANARCHIVE_DB`` (the archive; off without it).

Each item written is counted off its source's run (the spider counted it
when it made it); the item that leaves a source with nothing outstanding
says so (:data:`~crawler.state.source_idle`) and its crawl row is closed.
Items of a source whose run is closed already (cut off at its time limit)
are dropped: a closed crawl row never changes. The side requests a written
page leads to (its media files, looks at missing posts) are counted in the
source's run and handed to the engine before the page's own count is
released, so the source stays open until they are written too.

Writing happens off the reactor, in one writer thread that owns the
archive connection: :meth:`ArchivePipeline.process_item` hands the item to
it and waits, while the reactor goes on fetching and parsing the next page.
One thread keeps the writes in the order the items came (coverage and the
walk depend on it), and each page is still its own transaction: a killed
crawl loses only what was not yet written, never half a page.

A write the archive refuses (a full disk, read-only, an I/O error, a damaged
file: :func:`~archive.store.faults.archive_fault`) stops the whole crawl: the
runs are failed in the writer thread before it takes the next item, so no
further item is attempted (those waiting are dropped unwritten), and Scrapy's
engine is closed, so nothing more is fetched. Anyone else who meets the
refusal (the rows' lifecycle) sends :data:`~crawler.state.archive_refused`,
which lands here too. The media files asked for and not stored (fetched and
refused, or never fetched as the engine closed) are kept as such
when the pipeline closes (:func:`archive.store.keep_not_stored`), or, when
the archive refuses that too, are simply not marked fetched: either way the
next crawl fetches them again. The rows are closed at the crawl's end, with
the reason (:func:`crawler.local.close_runs`).
"""

from __future__ import annotations

import logging
from queue import Queue

from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import deferred_from_coro, maybe_deferred_to_future
from twisted.internet import reactor
from twisted.internet.threads import deferToThreadPool
from twisted.python.threadpool import ThreadPool

from archive import store
from archive.store import open_archive
from archive.store.faults import archive_fault, refusal, restart_log

from ..items import MediaItem
from ..state import archive_refused, source_idle
from ..writer import ArchiveWriter, side_callbacks

#: Scrapy's finish reason of a crawl the archive stopped.
REFUSED = "archive_refused"

logger = logging.getLogger(__name__)


class ArchivePipeline:
    def __init__(self, crawler, db_path: str):
        self.crawler = crawler
        self.db_path = db_path
        self.writer: ArchiveWriter | None = None
        self._pool: ThreadPool | None = None
        self._stopping = False
        #: Media URLs asked for whose items have not come back (the reactor's thread only).
        self._asked: dict[str, None] = {}
        #: Media URLs whose items the archive refused, or would have (the writer thread only).
        self._unstored: list[str] = []

    @classmethod
    def from_crawler(cls, crawler):
        db_path = crawler.settings.get("CHANARCHIVE_DB")
        if not db_path:
            raise NotConfigured("CHANARCHIVE_DB is not set")
        pipeline = cls(crawler, db_path)
        crawler.signals.connect(pipeline.refused, signal=archive_refused)
        return pipeline

    def open_spider(self):
        # One thread: the connection is used only there, and writes keep their order.
        self._pool = ThreadPool(minthreads=1, maxthreads=1, name="archive-writer")
        self._pool.start()
        try:
            db = self._pool_call(open_archive, self.db_path)
        except BaseException:
            self._pool.stop()  # its thread would keep the process alive
            self._pool = None
            raise
        self.writer = ArchiveWriter(db, self.crawler.stats)

    def close_spider(self):
        if self._pool is None:
            return
        try:
            if self.writer is not None:
                self._pool_call(self._keep_unstored)
                self._pool_call(self.writer.db.close)
                self.writer = None
        finally:
            self._pool.stop()
            self._pool = None

    def _pool_call(self, fn, *args):
        """Run ``fn`` in the writer thread and wait for it (at start and at the end only)."""
        done: Queue = Queue()
        self._pool.callInThreadWithCallback(lambda ok, value: done.put((ok, value)), fn, *args)
        ok, value = done.get()
        if not ok:
            value.raiseException()
        return value

    async def _in_writer(self, fn, *args):
        """Run ``fn`` in the writer thread; the reactor is free meanwhile."""
        return await maybe_deferred_to_future(deferToThreadPool(reactor, self._pool, fn, *args))

    async def process_item(self, item):
        state = self.crawler.spider.state
        source = item.source
        if isinstance(item, MediaItem):
            self._asked.pop(item.url, None)
        try:
            try:
                requests = await self._in_writer(self._write_if_open, state, item)
            except Exception as exc:
                if not archive_fault(exc):
                    raise
                self.refused(refusal(exc, self.db_path))
                return item
            if state.crawl_id(source) in self.writer.halted:
                state.halted.add(source)  # its queued requests are dropped (lifecycle)
            spider = self.crawler.spider
            for request in requests:
                if "media_url" in request.meta:  # until its item comes back
                    self._asked[request.meta["media_url"]] = None
                if not state.runs.is_open(source):
                    continue
                state.runs.hold(source)
                callback, errback = side_callbacks(request)
                self.crawler.engine.crawl(
                    request.replace(
                        callback=getattr(spider, callback), errback=getattr(spider, errback)
                    )
                )
        finally:
            if state.runs.release(source):
                self.crawler.signals.send_catch_log(signal=source_idle, source=source)
        return item

    def _write_if_open(self, state, item) -> list:
        # Under the runs' lock: a run cut off at its time limit meanwhile is not written to.
        with state.runs.lock:
            if not state.runs.is_open(item.source):
                if state.runs.fault is not None:
                    self._unwritten(item)
                return []
            try:
                return self.writer.write(state.crawl_id(item.source), item)
            except Exception as exc:
                if archive_fault(exc):  # before this thread takes the next item
                    state.runs.fail(refusal(exc, self.db_path))
                    self._unwritten(item)
                raise

    def _unwritten(self, item) -> None:
        """An item the archive refused (or would have): a media file's URL is remembered."""
        self.crawler.stats.inc_value("chanarchive/unwritten")
        if isinstance(item, MediaItem):
            self._unstored.append(item.url)

    def _keep_unstored(self) -> None:
        """In the writer thread, at the end: the media files not stored, kept as such, those
        fetched and refused and those never fetched as the crawl stopped alike."""
        fault = self.crawler.spider.state.runs.fault if self.crawler.spider else None
        urls = list(dict.fromkeys([*self._unstored, *self._asked]))
        self._unstored, self._asked = [], {}
        if not urls or fault is None:
            return
        db = self.writer.db
        try:
            store.abandon_transaction(db)  # what the refused write left open, if anything
            restart_log(db)  # a full log: these few writes reuse its own room
            store.keep_not_stored(db, urls, f"not stored: {fault}")
        except Exception as exc:
            if not archive_fault(exc):
                raise
            logger.info("Media files not stored are not marked either: %s", exc)
        else:
            self.crawler.stats.inc_value("chanarchive/media/not_stored", len(urls))

    def refused(self, reason: str) -> None:
        """The archive refused a write: the crawl stops (the engine is closed, once)."""
        self.crawler.spider.state.runs.fail(reason)
        if self._stopping:
            return
        self._stopping = True
        logger.info("The crawl stops: %s", reason)
        engine = self.crawler.engine
        if engine is None or engine.spider is None:
            return
        # Not awaited: the engine waits for the items in hand, this one's among them.
        closing = deferred_from_coro(engine.close_spider_async(reason=REFUSED))
        closing.addErrback(lambda failure: logger.info("Closing the crawl: %s", failure.value))
