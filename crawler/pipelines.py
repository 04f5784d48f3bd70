"""The pipeline that writes crawled pages into the archive.

It is a thin shell around :func:`archive.store.ingest_page`, the archive's
one write path: a separate ingester process would call the same function
with the same items.

Each item written is counted off its source's run (the spider counted it
when it made it); the item that leaves a source with nothing outstanding
says so (:data:`~crawler.runs.source_idle`) and its crawl row is closed.
Items of a source whose run is closed already (cut off at its time limit)
are dropped: a closed crawl row never changes.

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

from archive import store
from archive.models import ERROR_INGEST, ERROR_THROTTLED
from archive.store import open_archive

from .items import CheckItem, ErrorItem, MediaItem, PageItem
from .runs import source_idle

logger = logging.getLogger(__name__)


class ArchivePipeline:
    def __init__(self, crawler, db_path: str):
        self.crawler = crawler
        self.db_path = db_path
        self.db = None
        self._writer: ThreadPool | None = None

    @classmethod
    def from_crawler(cls, crawler):
        db_path = crawler.settings.get("CHANARCHIVE_DB")
        if not db_path:
            raise NotConfigured("CHANARCHIVE_DB is not set")
        return cls(crawler, db_path)

    def open_spider(self):
        # One thread: the connection is used only there, and writes keep their order.
        self._writer = ThreadPool(minthreads=1, maxthreads=1, name="archive-writer")
        self._writer.start()
        try:
            self.db = self._writer_call(open_archive, self.db_path)
        except BaseException:
            self._writer.stop()  # its thread would keep the process alive
            self._writer = None
            raise

    def close_spider(self):
        if self._writer is None:
            return
        try:
            if self.db is not None:
                self._writer_call(self.db.close)
                self.db = None
        finally:
            self._writer.stop()
            self._writer = None

    def _writer_call(self, fn, *args):
        """Run ``fn`` in the writer thread and wait for it (at start and at the end only)."""
        done: Queue = Queue()
        self._writer.callInThreadWithCallback(lambda ok, value: done.put((ok, value)), fn, *args)
        ok, value = done.get()
        if not ok:
            value.raiseException()
        return value

    async def _in_writer(self, fn, *args):
        """Run ``fn`` in the writer thread; the reactor is free meanwhile."""
        return await maybe_deferred_to_future(deferToThreadPool(reactor, self._writer, fn, *args))

    def _crawl_id(self, source: str) -> int | None:
        spider = self.crawler.spider
        return getattr(spider, "crawl_ids", {}).get(source)

    async def process_item(self, item):
        runs = getattr(self.crawler.spider, "runs", None)
        source = getattr(item, "source", None)
        if runs is None or source is None:
            return await self._in_writer(self._write, item)
        try:
            return await self._in_writer(self._write_if_open, runs, source, item)
        finally:
            if runs.release(source):
                self.crawler.signals.send_catch_log(signal=source_idle, source=source)

    def _write_if_open(self, runs, source, item):
        # Under the runs' lock: a run cut off at its time limit meanwhile is not written to.
        with runs.lock:
            if runs.is_open(source):
                return self._write(item)
        return item

    def _write(self, item):
        stats = self.crawler.stats
        crawl_id = self._crawl_id(item.source)
        if isinstance(item, ErrorItem):
            if crawl_id is not None:
                store.record_error(self.db, crawl_id, item.url, item.kind, item.message)
            stats.inc_value(f"chanarchive/errors/{item.kind}")
            return item
        if isinstance(item, MediaItem):
            return self._write_media(item, crawl_id)
        if isinstance(item, CheckItem):
            return self._write_check(item, crawl_id)
        if not isinstance(item, PageItem):
            return item
        try:
            result = store.ingest_page(self.db, crawl_id, item.capture, item.page)
        except Exception as exc:  # keep crawling; the reason is kept with the crawl
            logger.exception("Could not archive %s", item.capture.url)
            if crawl_id is not None:
                store.record_error(self.db, crawl_id, item.capture.url, ERROR_INGEST, repr(exc))
            stats.inc_value("chanarchive/errors/ingest")
            return item
        stats.inc_value("chanarchive/pages")
        stats.inc_value("chanarchive/posts_new", result.new)
        stats.inc_value("chanarchive/posts_changed", result.changed)
        stats.inc_value("chanarchive/posts_deleted", result.deleted)
        page = item.page
        if page is not None and page.throttled and not page.start and crawl_id is not None:
            store.record_error(
                self.db,
                crawl_id,
                item.capture.url,
                ERROR_THROTTLED,
                "Telegram kept serving an empty page (tme_no_messages_found); try again later",
            )
        return item

    def _write_media(self, item: MediaItem, crawl_id: int | None) -> MediaItem:
        """A media file (or a link to one): its failures are kept with the file, not the crawl."""
        try:
            store.ingest_media(self.db, item.url, item.refs, item.fetch, crawl_id=crawl_id)
        except Exception:  # keep crawling; the URL is tried again on the next crawl
            logger.exception("Could not archive media %s", item.url)
            self.crawler.stats.inc_value("chanarchive/media/errors")
            return item
        if item.fetch is not None:
            outcome = "fetched" if item.fetch.ok else "failed"
            self.crawler.stats.inc_value(f"chanarchive/media/{outcome}")
        return item

    def _write_check(self, item: CheckItem, crawl_id: int | None) -> CheckItem:
        """A look at a missing post's embed: kept, and a confirmed deletion applied."""
        try:
            store.record_deletion_check(
                self.db, crawl_id, item.channel, item.post_id, url=item.url,
                outcome=item.outcome, checked_at=item.checked_at,
                http_status=item.http_status, reason=item.reason, capture=item.capture,
            )  # fmt: skip
        except Exception as exc:  # keep crawling; the reason is kept with the crawl
            logger.exception("Could not keep the check of %s", item.url)
            if crawl_id is not None:
                store.record_error(self.db, crawl_id, item.url, ERROR_INGEST, repr(exc))
            return item
        self.crawler.stats.inc_value(f"chanarchive/deletion_checks/{item.outcome}")
        if item.outcome == store.CHECK_DELETED:
            self.crawler.stats.inc_value("chanarchive/posts_deleted")
        return item
