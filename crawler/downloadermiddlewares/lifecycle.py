"""Downloader middleware: each source's crawl row closed when it is done, or at its time limit.

Reads ``CHANARCHIVE_DB`` (off without it), ``DOWNLOAD_TIMEOUT``, and the
runs of the spider's crawl (:class:`~crawler.state.SourceRuns`: crawl ids
and time limits). Counts ``chanarchive/timed_out`` in the stats.

- A source is **done** when the spider or the pipeline signals
  :data:`~crawler.state.source_idle`: its row is closed there and then, so a
  crawl of many sources finishes each one as it ends, not all at the end.
- A source's **time limit** counts from its first request (a source of a
  big batch may wait its turn behind the others of its host). When it
  passes, the row is closed (``timed out after N s``: partial when pages
  were archived, else failed), the source's queued requests are dropped,
  and its download in flight is cut off: every request of a source with a
  limit gets a download timeout no longer than the time it has left. So a
  source that hangs holds its host for no longer than its own limit.
- A write of a row the archive refuses (a full disk ...) stops the crawl:
  :data:`~crawler.state.archive_refused` is sent, and the row is closed at
  the crawl's end (:func:`crawler.local.close_runs`).

Sits after the retry and backoff middlewares (a request waiting out a
host's backoff has not started its source's clock) and before the
download; an expired source's failures skip retry and backoff (raised as
``IgnoreRequest``): the host did nothing wrong.
"""

from __future__ import annotations

import logging
import time

from scrapy import signals
from scrapy.exceptions import IgnoreRequest, NotConfigured
from twisted.internet import reactor

from archive import store
from archive.store import open_archive
from archive.store.faults import archive_fault, refusal

from ..state import SourceRuns, archive_refused, source_idle

logger = logging.getLogger(__name__)

#: A download cut this close to its source's limit is the limit, not the host.
LIMIT_SLACK = 0.05


def timed_out(limit: float) -> str:
    """The reason kept with a crawl cut off at its time limit."""
    return f"timed out after {limit:g} s"


class SourceLifecycle:
    """Closes each source's crawl row when it is done, or cut off at its time limit."""

    def __init__(self, crawler, db_path: str) -> None:
        self.crawler = crawler
        self.db_path = db_path
        self.default_timeout = crawler.settings.getfloat("DOWNLOAD_TIMEOUT", 180)
        self.db = None
        self._timers: dict[str, object] = {}

    @classmethod
    def from_crawler(cls, crawler):
        db_path = crawler.settings.get("CHANARCHIVE_DB")
        if not db_path:
            raise NotConfigured("CHANARCHIVE_DB is not set")
        middleware = cls(crawler, db_path)
        crawler.signals.connect(middleware.close_source, signal=source_idle)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    @property
    def runs(self) -> SourceRuns:
        return self.crawler.spider.state.runs

    def _db(self):
        if self.db is None:
            self.db = open_archive(self.db_path)
        return self.db

    def _write(self, write, *args) -> None:
        """``write(db, *args)``; the archive refusing it stops the crawl (not this source alone)."""
        try:
            write(self._db(), *args)
        except Exception as exc:
            if not archive_fault(exc):
                raise
            reason = refusal(exc, self.db_path)
            self.crawler.signals.send_catch_log(signal=archive_refused, reason=reason)

    # -- requests -------------------------------------------------------------

    def process_request(self, request):
        source = request.meta.get("source")
        if source is None:
            return None  # robots.txt and the like
        runs = self.runs
        if not runs.is_open(source):
            raise IgnoreRequest(f"{source}: its crawl is over")
        if source in self.crawler.spider.state.halted:
            raise IgnoreRequest(f"{source}: a page of it was refused: it asks for nothing more")
        now = time.monotonic()
        if runs.start(source, now):
            self._started(source)
        left = runs.time_left(source, now)
        if left is not None:
            if left <= LIMIT_SLACK:
                self.expire(source)
                raise IgnoreRequest(f"{source}: {timed_out(runs.time_limit(source))}")
            current = request.meta.get("download_timeout") or self.default_timeout
            request.meta["download_timeout"] = min(float(current), left)
        return None

    def process_exception(self, request, exception):
        source = request.meta.get("source")
        if source is None or isinstance(exception, IgnoreRequest):
            return None
        runs = self.runs
        left = runs.time_left(source, time.monotonic())
        if left is not None and left <= LIMIT_SLACK:
            self.expire(source)  # our own cut-off, not the host's fault: no retry, no backoff
        if not runs.is_open(source):
            raise IgnoreRequest(f"{source}: its crawl is over ({type(exception).__name__})")
        return None

    # -- the row --------------------------------------------------------------

    def _started(self, source: str) -> None:
        crawl_id = self.runs.crawl_id(source)
        if crawl_id is not None:
            self._write(store.crawl_started, crawl_id)
        limit = self.runs.time_limit(source)
        if limit is not None:
            self._timers[source] = reactor.callLater(limit, self.expire, source)

    def close_source(self, source: str) -> None:
        """``source`` is done: close its crawl row (status from its pages and errors)."""
        was_open, crawl_id = self.runs.close(source)
        self._cancel_timer(source)
        if was_open and crawl_id is not None:
            self._write(store.finish_crawl, crawl_id)

    def expire(self, source: str) -> None:
        """``source``'s time limit passed: close its row as cut short; it gets no more requests."""
        with self.runs.lock:  # waits for an item being written (at most one page)
            was_open, crawl_id = self.runs.close(source)
        self._cancel_timer(source)
        if not was_open:
            return
        limit = self.runs.time_limit(source) or 0
        logger.warning("%s: %s: its requests are dropped", source, timed_out(limit))
        self.crawler.stats.inc_value("chanarchive/timed_out")
        if crawl_id is not None:
            self._write(store.cut_crawl, crawl_id, timed_out(limit))

    def _cancel_timer(self, source: str) -> None:
        timer = self._timers.pop(source, None)
        if timer is not None and timer.active():
            timer.cancel()

    def spider_closed(self, spider=None, reason=None) -> None:
        for source in list(self._timers):
            self._cancel_timer(source)
        if self.db is not None:
            self.db.close()
            self.db = None
