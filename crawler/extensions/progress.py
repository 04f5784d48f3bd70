"""A progress line on the terminal while a crawl runs."""

from __future__ import annotations

import sys
import time

from scrapy import signals
from scrapy.exceptions import NotConfigured

from ..items import ErrorItem, PageItem


class Progress:
    """Rewrites one stderr line: pages fetched, posts seen, errors, elapsed time."""

    def __init__(self, stream=None, interval: float = 0.2):
        self.stream = stream or sys.stderr
        self.interval = interval
        self.pages = self.posts = self.errors = 0
        self.started = time.monotonic()
        self._last = 0.0

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("CHANARCHIVE_PROGRESS"):
            raise NotConfigured
        ext = cls()
        crawler.signals.connect(ext.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def item_scraped(self, item, response=None, spider=None):
        if isinstance(item, PageItem):
            self.pages += 1
            self.posts += len(item.page.posts) if item.page else 0
        elif isinstance(item, ErrorItem):
            self.errors += 1
        now = time.monotonic()
        if now - self._last >= self.interval:
            self._last = now
            self._draw()

    def _draw(self, end: str = "") -> None:
        elapsed = time.monotonic() - self.started
        self.stream.write(
            f"\r  crawling: {self.pages} pages, {self.posts} posts, "
            f"{self.errors} errors, {elapsed:.0f}s" + end
        )
        self.stream.flush()

    def spider_closed(self, spider=None, reason=None):
        # Clear the line: the command prints its summary next.
        self.stream.write("\r\x1b[K")
        self.stream.flush()
