"""The spider: fetch channel pages, parse them, yield them for the archive.

It only parses: what the archive already holds reaches it as plain data
(``covered``, a function from a channel name to the id ranges archived in
full), and every page goes out as a :class:`~crawler.items.PageItem` for the
pipeline to write.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import urlencode, urlsplit, urlunsplit

import scrapy

from archive import store
from archive.extract import extract_page
from archive.models import KIND_TELEGRAM, Capture
from archive.sources import Source

from ..failures import describe_failure
from ..items import ErrorItem, PageItem
from .telegram import TelegramWalk
from .web import WebWalk


def capture_from_response(response) -> Capture:
    headers = [
        (key.decode("latin-1"), value.decode("latin-1"))
        for key, values in response.headers.items()
        for value in values
    ]
    return Capture(
        url=response.url,
        requested_url=response.request.url if response.request else None,
        fetched_at=datetime.now(UTC).isoformat(timespec="microseconds"),
        status=response.status,
        body=response.body,
        headers=headers,
        protocol=getattr(response, "protocol", None) or "HTTP/1.1",
    )


def with_before(url: str, before: int) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode({"before": before}), ""))


class ChannelSpider(scrapy.Spider):
    name = "channels"

    def __init__(
        self,
        sources: list[Source],
        crawl_ids: dict[str, int] | None = None,
        covered: Callable[[str], list[tuple[int, int]]] | None = None,
        full: bool = False,
        max_pages: int | None = None,
        depth: int = 1,
        follow: str | None = None,
        profile: str | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.sources = {s.key: s for s in sources}
        self.crawl_ids = crawl_ids or {}
        self.covered = covered or (lambda name: [])
        self.full = full
        self.max_pages = max_pages
        self.depth = depth
        self.follow = follow
        self.profile = profile
        self.requested: dict[str, int] = {}
        self.telegram_walks: dict[str, TelegramWalk] = {}
        self.web_walks: dict[str, WebWalk] = {}

    def _request(self, source: str, url: str, **meta) -> scrapy.Request | None:
        if self.max_pages is not None and self.requested.get(source, 0) >= self.max_pages:
            return None
        self.requested[source] = self.requested.get(source, 0) + 1
        return scrapy.Request(
            url,
            callback=self.parse,
            errback=self.on_error,
            meta={"source": source, **meta},
            dont_filter=True,
        )

    async def start(self):
        for source in self.sources.values():
            request = self._request(source.key, source.url, depth=0, before=None)
            if request is not None:
                yield request

    def parse(self, response):
        source = response.meta["source"]
        capture = capture_from_response(response)
        try:
            page = extract_page(
                response.body,
                response.url,
                content_type=response.headers.get("Content-Type", b"").decode("latin-1"),
                before=response.meta.get("before"),
            )
        except Exception as exc:  # a page we cannot parse is still kept, with the reason
            self.logger.warning("Could not parse %s: %r", response.url, exc)
            yield PageItem(source, capture, None)
            yield ErrorItem(source, response.url, store.ERROR_PARSE, repr(exc))
            return
        yield PageItem(source, capture, page)
        if page.kind == KIND_TELEGRAM:
            yield from self._next_telegram(source, response, page)
        else:
            yield from self._next_web(source, response, page)

    def _next_telegram(self, source: str, response, page):
        walk = self.telegram_walks.get(source)
        if walk is None:
            covered = self.covered(page.channel.name) if page.channel else []
            walk = self.telegram_walks[source] = TelegramWalk(covered, full=self.full)
        before = walk.next_before(page)
        if before is not None:
            request = self._request(source, with_before(response.url, before), before=before)
            if request is not None:
                yield request

    def _next_web(self, source: str, response, page):
        walk = self.web_walks.get(source)
        if walk is None:
            walk = self.web_walks[source] = WebWalk(
                self.sources[source].url, depth=self.depth, follow=self.follow
            )
        depth = response.meta.get("depth", 0)
        for url in walk.links_to_follow(page.links, depth):
            request = self._request(source, url, depth=depth + 1, before=None)
            if request is not None:
                yield request

    def on_error(self, failure):
        request = failure.request
        source = request.meta.get("source")
        kind, message = describe_failure(failure)
        self.logger.warning("Fetch failed: %s (%s)", request.url, message)
        yield ErrorItem(source, request.url, kind, message)
