"""The worker's spider: :class:`~crawler.spiders.channels.ChannelSpider`, one request at a time.

A local crawl's spider keeps its crawl in memory: the sources, the walk
through each channel, the pages left in the budget. A worker serves many
crawls, and the next page of a walk may be parsed by another worker, so
here each request carries its crawl in ``meta`` (JSON):

- ``meta["crawl"]``: the crawl id, its source and options (``full``,
  ``max_pages``, ``depth``, ``follow``, ``profile``);
- ``meta["walk"]``: a Telegram walk's id ranges known to be archived;
- ``meta["channel"]``: the Telegram channel the source's pages must list.

Each callback runs the local spider's own code (same parsing, same walks,
same decisions) with that state put back for the call, and returns one
:class:`Delivery`: the pages and errors of the request, and the requests
it leads to. The duplicate filter and the page budget are applied in Redis
when the delivery is pushed. What the archive holds (coverage, known web
posts) comes from Redis, published there by the ingester.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider

from archive.clean.profiles import load_options
from archive.models import (
    CHECK_FAILED,
    ERROR_PARSE,
    MEDIA_ALL,
    MEDIA_MAX_SIZE,
    MediaFetch,
    MediaRef,
    WebKnown,
)
from archive.source import SOURCE_URL, Source
from archive.times import utcnow

from .. import checks
from ..items import CheckItem, ErrorItem, MediaItem, PageItem
from ..media import MediaFetcher
from ..options import CrawlOptions
from ..spiders.channels import GONE_STATUSES, ChannelSpider
from ..walks import TelegramWalk
from . import serialize
from .frontier import Child, request_key


@dataclass
class Delivery:
    """Everything one leased request produced, handed to the ingester in one push."""

    crawl: int
    rkey: str
    lease: int
    source: str
    max_pages: int | None
    items: list[PageItem | ErrorItem | MediaItem | CheckItem] = field(default_factory=list)
    children: list[Child] = field(default_factory=list)


def crawl_context(crawl_id: int, source: Source, options: CrawlOptions) -> dict[str, Any]:
    """The ``meta["crawl"]`` every request of a crawl carries."""
    return {
        "id": crawl_id,
        "source": {"kind": source.kind, "key": source.key, "url": source.url, "name": source.name},
        "options": options.to_record(),
    }


def seed_request(crawl_id: int, source: Source, options: CrawlOptions) -> Child:
    """A crawl's first request, as :meth:`ChannelSpider.start` makes it, ready to enqueue."""
    meta: dict[str, Any] = {"source": source.key, "depth": 0, "before": None}
    if source.kind == SOURCE_URL:
        meta["handle_httpstatus_list"] = list(GONE_STATUSES)
    meta["crawl"] = crawl_context(crawl_id, source, options)
    if source.name:
        meta["channel"] = source.name
    meta["rkey"] = request_key("GET", source.url)
    request = scrapy.Request(source.url, meta=meta, dont_filter=True)
    data = request.to_dict()
    data["callback"], data["errback"] = "parse", "on_error"
    return Child(meta["rkey"], -request.priority, serialize.dumps(data))


def _side_child(crawl_id: int, source: Source, request: scrapy.Request, callback: str,
                errback: str) -> Child:  # fmt: skip
    """A side request of a crawl (the ingester's), ready to enqueue: it carries just enough
    of its crawl for its delivery."""
    request.meta["crawl"] = crawl_context(crawl_id, source, CrawlOptions())
    request.meta["rkey"] = request_key(request.method, request.url)
    data = request.to_dict()
    data["callback"], data["errback"] = callback, errback
    return Child(request.meta["rkey"], -request.priority, serialize.dumps(data))


def media_child(
    crawl_id: int, source: Source, url: str, refs: list[MediaRef], max_size: int
) -> Child:
    """A request for one media file of a crawl.

    It carries the post slots that show the file, so that its delivery links
    them (or counts a failed try against them), and the crawl's size cap.
    """
    request = MediaFetcher(MEDIA_ALL, max_size).request(url, source.key, None, None)
    request.meta["media_refs"] = [[r.channel, r.post_id, r.slot] for r in refs]
    return _side_child(crawl_id, source, request, "parse_media", "media_failed")


def check_child(crawl_id: int, source: Source, page_url: str, channel: str, post_num: int) -> Child:
    """A look at one missing post's own embed, on the host ``page_url`` came from."""
    request = checks.check_request(source.key, page_url, channel, post_num, None, None)
    return _side_child(crawl_id, source, request, "parse_check", "check_failed")


class WorkerSpider(ChannelSpider):
    name = "channels"

    def __init__(self, link=None, **kwargs):
        super().__init__(sources=[], **kwargs)
        self.link = link
        self.covered = self._published_coverage
        self.known_posts = self._published_known
        self._options: dict[str | None, Any] = {}

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.idle, signal=signals.spider_idle)
        return spider

    def idle(self, spider=None):
        raise DontCloseSpider  # other workers may still queue requests: wait for them

    async def start(self):
        return  # every request comes from the shared queue
        yield  # pragma: no cover

    # -- what the archive holds, as the ingester published it
    def _published_coverage(self, channel: str) -> list[tuple[int, int]]:
        return self.link.frontier.coverage(channel)

    def _published_known(self, channel: str) -> WebKnown:
        data = self.link.frontier.known(channel) or {}
        return WebKnown(urls=data.get("urls", {}), listings=data.get("listings", {}))

    # -- the local spider's code, with one request's crawl put back
    @contextlib.contextmanager
    def _crawl(self, meta: dict):
        ctx = meta["crawl"]
        spec = ctx["source"]
        source = Source(kind=spec["kind"], key=spec["key"], url=spec["url"], name=spec.get("name"))
        self.sources = {source.key: source}
        self.crawl_ids = {source.key: ctx["id"]}
        options = CrawlOptions.from_record(ctx.get("options"))
        self.full = options.full
        self.max_pages = None  # the budget is kept in Redis, for the whole crawl
        self.depth = options.depth
        self.follow = options.follow
        self.profile = options.profile
        if self.profile not in self._options:
            self._options[self.profile] = load_options(self.profile)
        self.options = self._options[self.profile]
        self.requested = {}
        self.telegram_walks = {}
        self.web_walks = {}
        self.web_known = {}
        channel = meta.get("channel") or source.name
        self.channel_names = {source.key: channel} if channel else {}
        try:
            yield source.key
        finally:
            self.sources, self.crawl_ids = {}, {}

    def _next_telegram(self, source, response, page):
        covered = response.meta.get("walk")
        if covered is None:
            covered = self.covered(page.channel.name) if page.channel else []
        walk = self.telegram_walks[source] = TelegramWalk(covered, full=self.full)
        for request in super()._next_telegram(source, response, page):
            request.meta["walk"] = [list(span) for span in walk.covered]
            yield request

    def _deliver(self, request: scrapy.Request, key: str, outputs: list) -> list[Delivery]:
        meta = request.meta
        ctx = meta["crawl"]
        delivery = Delivery(
            crawl=ctx["id"],
            rkey=meta["rkey"],
            lease=meta["lease"],
            source=key,
            max_pages=CrawlOptions.from_record(ctx.get("options")).max_pages,
        )
        for out in outputs:
            if isinstance(out, scrapy.Request):
                out.meta["crawl"] = ctx
                channel = self.channel_names.get(key)
                if channel:
                    out.meta["channel"] = channel
                rkey = out.meta["rkey"] = request_key(out.method, out.url)
                data = out.to_dict(spider=self)
                delivery.children.append(Child(rkey, -out.priority, serialize.dumps(data)))
            elif isinstance(out, PageItem | ErrorItem | MediaItem | CheckItem):
                delivery.items.append(out)
        return [delivery]

    # -- deletion checks: the ingester asks for them (it knows which posts went missing)
    def parse_check(self, response):
        return self._check(response.request, lambda: checks.check_item(response))

    def check_failed(self, failure):
        return self._check(failure.request, lambda: checks.failed_check_item(failure))

    def _check(self, request: scrapy.Request, look) -> list[Delivery]:
        key = request.meta["crawl"]["source"]["key"]
        try:
            item = look()
        except Exception as exc:  # an undecided look: the post is looked at again later
            self.logger.warning("Could not read the check %s: %r", request.url, exc)
            channel, post_id = request.meta["check"]
            item = CheckItem(key, channel, post_id, request.url, CHECK_FAILED, None,
                             f"worker: {exc!r}", utcnow())  # fmt: skip
        return self._deliver(request, key, [item])

    # -- media files: the ingester asks for them (it knows what the archive holds)
    def parse_media(self, response):
        return self._media(response.request, lambda fetcher: fetcher.fetched(response))

    def media_failed(self, failure):
        return self._media(failure.request, lambda fetcher: fetcher.failed(failure))

    def _media(self, request: scrapy.Request, fetch) -> list[Delivery]:
        """One media request's delivery: the file (or why not) and the slots showing it."""
        meta = request.meta
        key = meta["crawl"]["source"]["key"]
        fetcher = MediaFetcher(MEDIA_ALL, int(meta.get("download_maxsize") or MEDIA_MAX_SIZE))
        refs = [MediaRef(*ref) for ref in meta.get("media_refs") or []]
        try:
            item = fetch(fetcher)
        except Exception as exc:  # as a failed fetch: a media file never fails its crawl
            self.logger.warning("Could not keep media %s: %r", request.url, exc)
            failed = MediaFetch(request.url, utcnow(), ok=False, reason=f"worker: {exc!r}")
            item = MediaItem(key, request.url, [], failed)
        item.refs = refs
        return self._deliver(request, key, [item])

    def parse(self, response):
        return self._run(response.request, lambda: super(WorkerSpider, self).parse(response))

    def on_error(self, failure):
        return self._run(failure.request, lambda: super(WorkerSpider, self).on_error(failure))

    def _run(self, request: scrapy.Request, callback) -> list[Delivery]:
        """The local spider's callback, made into this request's one delivery, whatever happens.

        A leased request that ended in no delivery would hold its crawl open:
        a failure anywhere here is delivered as the page's parse error.
        """
        key = request.meta["crawl"]["source"]["key"]
        try:
            with self._crawl(request.meta):
                return self._deliver(request, key, list(callback()))
        except Exception as exc:
            self.logger.warning("Could not parse %s: %r", request.url, exc)
            self.channel_names = {}
            failed = [ErrorItem(key, request.url, ERROR_PARSE, repr(exc))]
            return self._deliver(request, key, failed)
