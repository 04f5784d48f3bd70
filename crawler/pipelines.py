"""The pipeline that writes crawled pages into the archive.

It is a thin shell around :func:`archive.store.ingest_page`, the archive's
one write path: a separate ingester process would call the same function
with the same items.

Each item written is counted off its source's run (the spider counted it
when it made it); the item that leaves a source with nothing outstanding
says so (:data:`~crawler.runs.source_idle`) and its crawl row is closed.
Items of a source whose run is closed already (cut off at its time limit)
are dropped: a closed crawl row never changes.
"""

from __future__ import annotations

import logging

from scrapy.exceptions import NotConfigured

from archive import store
from archive.models import ERROR_INGEST, ERROR_THROTTLED
from archive.store import open_archive

from .items import CheckItem, ErrorItem, PageItem
from .runs import source_idle

logger = logging.getLogger(__name__)


class ArchivePipeline:
    def __init__(self, crawler, db_path: str):
        self.crawler = crawler
        self.db_path = db_path
        self.db = None

    @classmethod
    def from_crawler(cls, crawler):
        db_path = crawler.settings.get("CHANARCHIVE_DB")
        if not db_path:
            raise NotConfigured("CHANARCHIVE_DB is not set")
        return cls(crawler, db_path)

    def open_spider(self):
        self.db = open_archive(self.db_path)

    def close_spider(self):
        if self.db is not None:
            self.db.close()
            self.db = None

    def _crawl_id(self, source: str) -> int | None:
        spider = self.crawler.spider
        return getattr(spider, "crawl_ids", {}).get(source)

    def process_item(self, item):
        runs = getattr(self.crawler.spider, "runs", None)
        source = getattr(item, "source", None)
        if runs is None or source is None:
            return self._write(item)
        try:
            if runs.is_open(source):
                return self._write(item)
            return item
        finally:
            if runs.release(source):
                self.crawler.signals.send_catch_log(signal=source_idle, source=source)

    def _write(self, item):
        stats = self.crawler.stats
        crawl_id = self._crawl_id(item.source)
        if isinstance(item, ErrorItem):
            if crawl_id is not None:
                store.record_error(self.db, crawl_id, item.url, item.kind, item.message)
            stats.inc_value(f"chanarchive/errors/{item.kind}")
            return item
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

    def _write_check(self, item: CheckItem, crawl_id: int | None) -> CheckItem:
        """A look at a missing post's embed: kept, and a confirmed deletion applied."""
        try:
            store.record_deletion_check(
                self.db, crawl_id, item.channel, item.post_id, url=item.url,
                outcome=item.outcome, checked_at=item.checked_at,
                http_status=item.http_status, reason=item.reason,
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
