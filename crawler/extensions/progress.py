"""A progress line on the terminal while a crawl runs."""

from __future__ import annotations

import sys
import time

from scrapy import signals
from scrapy.exceptions import NotConfigured
from twisted.internet import task

from ..items import ErrorItem, MediaItem, PageItem


class Progress:
    """Rewrites one stderr line: pages, posts, media files done of those planned, errors, time.

    The line is redrawn on a timer as well as on each item, so that it keeps moving
    while the crawl waits on slow media hosts.
    """

    def __init__(self, stream=None, interval: float = 0.5):
        self.stream = stream or sys.stderr
        self.interval = interval
        self.pages = self.posts = self.errors = 0
        self.media_planned = self.media_done = self.media_failed = 0
        self.started = time.monotonic()
        self._timer: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("CHANARCHIVE_PROGRESS"):
            raise NotConfigured
        ext = cls()
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.request_scheduled, signal=signals.request_scheduled)
        crawler.signals.connect(ext.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider=None):
        self._timer = task.LoopingCall(self.draw)
        self._timer.start(self.interval, now=False)

    def request_scheduled(self, request, spider=None):
        if "media_url" in request.meta:
            self.media_planned += 1

    def item_scraped(self, item, response=None, spider=None):
        if isinstance(item, PageItem):
            self.pages += 1
            self.posts += len(item.page.posts) if item.page else 0
        elif isinstance(item, ErrorItem):
            self.errors += 1
        elif isinstance(item, MediaItem) and item.fetch is not None:
            self.media_done += 1
            self.media_failed += not item.fetch.ok

    def line(self) -> str:
        """The progress line as it reads now."""
        elapsed = time.monotonic() - self.started
        parts = [f"{self.pages} pages", f"{self.posts} posts"]
        if self.media_planned:
            media = f"media {self.media_done}/{self.media_planned}"
            if self.media_failed:
                media += f" ({self.media_failed} not archived)"
            parts.append(media)
        parts += [f"{self.errors} errors", f"{elapsed:.0f}s"]
        return "  crawling: " + ", ".join(parts)

    def draw(self) -> None:
        self.stream.write("\r\x1b[K" + self.line())
        self.stream.flush()

    def spider_closed(self, spider=None, reason=None):
        if self._timer is not None and self._timer.running:
            self._timer.stop()
        # The last state, then a clear line: the command prints its summary next.
        self.draw()
        self.stream.write("\r\x1b[K")
        self.stream.flush()
