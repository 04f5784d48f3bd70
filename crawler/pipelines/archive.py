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
"""

from __future__ import annotations

import logging
from queue import Queue

from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import reactor
from twisted.internet.threads import deferToThreadPool
from twisted.python.threadpool import ThreadPool

from archive.store import open_archive

from ..state import source_idle
from ..writer import ArchiveWriter, side_callbacks

logger = logging.getLogger(__name__)


class ArchivePipeline:
    def __init__(self, crawler, db_path: str):
        self.crawler = crawler
        self.db_path = db_path
        self.writer: ArchiveWriter | None = None
        self._pool: ThreadPool | None = None

    @classmethod
    def from_crawler(cls, crawler):
        db_path = crawler.settings.get("CHANARCHIVE_DB")
        if not db_path:
            raise NotConfigured("CHANARCHIVE_DB is not set")
        return cls(crawler, db_path)

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
        try:
            requests = await self._in_writer(self._write_if_open, state, item)
            if state.crawl_id(source) in self.writer.halted:
                state.halted.add(source)  # its queued requests are dropped (lifecycle)
            spider = self.crawler.spider
            for request in requests:
                if not state.runs.is_open(source):
                    break
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
                return []
            return self.writer.write(state.crawl_id(item.source), item)
