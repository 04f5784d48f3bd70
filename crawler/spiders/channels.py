"""The spider: fetch channel pages, parse them, yield them for the archive.

It only parses: everything it works on is one crawl's
:class:`~crawler.state.CrawlState` — the sources, the options, each
source's walk — and what the archive already holds reaches it through the
state's :class:`~crawler.view.ArchiveView` (a Telegram channel's archived
id ranges; a web channel's live posts and the listings they were on).
Every page goes out as a :class:`~crawler.items.PageItem` for the writer.

Web sources: pages are extracted with the crawl's profile; a listing that no
longer shows a post it showed last time makes the spider fetch that post's
page again, and a 404 / 410 there is a deleted post (a ``gone`` page).

Telegram sources: a channel that cannot be read (preview disabled, no such
channel, no channel markup, throttled on its first page) is said so as the
crawl's reason (:mod:`archive.extract.unreadable`), never archived as a web
page.

The side requests a page leads to — its media files, looks at the posts it
no longer shows — are planned by the writer once the page is written
(:mod:`crawler.writer`); their answers come back here
(:meth:`ChannelSpider.parse_media`, :meth:`ChannelSpider.parse_check`).

Many sources share one crawl: the spider keeps count, in the state's runs
(:class:`~crawler.state.SourceRuns`), of each source's requests not yet
handled and items not yet written, and says when a source has none left
(:data:`~crawler.state.source_idle`), so its crawl row is closed then. A
source whose run is closed (its time limit passed) gets no more requests.

A request cut off because the crawl was told to stop
(:class:`~crawler.stopping.CrawlStopped`) is dropped unanswered: it is no
error of its crawl, and it holds its source's run open, so the source's row
is closed as stopped.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode, urlsplit, urlunsplit

import scrapy

from archive.errors import NotAPage
from archive.extract import extract_page, gone_page
from archive.extract.unreadable import preview_channel, unreadable_reason
from archive.models import (
    ERROR_HTTP,
    ERROR_PARSE,
    ERROR_THROTTLED,
    ERROR_UNREADABLE,
    KIND_TELEGRAM,
    PAGE_LISTING,
    Capture,
    uncovered_ranges,
)
from archive.source import SOURCE_TELEGRAM, SOURCE_URL, Source, origin_of, site_channel_name

from ..items import ITEM_TYPES, ErrorItem, PageItem
from ..options import CrawlOptions
from ..plans import checks, media
from ..plans.backfill import ConcurrentWalk
from ..plans.gaps import GapWalk
from ..plans.walks import TelegramWalk, WebWalk
from ..responses import capture_from_response, describe_failure
from ..state import CrawlState, source_idle
from ..stopping import stopped

#: Kept with a crawl whose first Telegram page stayed empty through every throttling retry.
THROTTLED_TOO_LONG = (
    "Telegram kept serving an empty page (tme_no_messages_found) through every retry:"
    " the channel could not be read; try again later"
)

ITEMS = tuple(ITEM_TYPES.values())

#: HTTP statuses that mean a web post was removed.
GONE_STATUSES = (404, 410)


def with_before(url: str, before: int) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode({"before": before}), ""))


def page_meta(source_kind: str, **meta) -> dict:
    """The meta of a page request of a source of ``source_kind``."""
    if source_kind == SOURCE_URL:
        # A web post page that answers 404 / 410 is a deleted post: parse() decides.
        meta["handle_httpstatus_list"] = list(GONE_STATUSES)
    return meta


class ChannelSpider(scrapy.Spider):
    name = "channels"

    def __init__(self, state: CrawlState | None = None, **kwargs):
        super().__init__(**kwargs)
        #: The crawl of a local process (a worker has none: each request brings its own).
        self.state = state

    #: Whether the sources of a crawl, and its options, come from the user of this process (a
    #: local crawl); a worker takes them from Redis (see the worker's spider).
    trusts_sources = True

    def crawl_state(self, request: scrapy.Request) -> CrawlState:
        """The state of the crawl ``request`` belongs to."""
        return self.state

    def source_of(self, request: scrapy.Request) -> tuple[Source, CrawlOptions] | None:
        """The source ``request`` is made for and its crawl's options (what it may reach:
        :mod:`crawler.downloadermiddlewares.reach`); None for a request of no crawl, such as
        the robots.txt Scrapy asks for."""
        state = self.state
        source = state.sources.get(request.meta.get("source")) if state is not None else None
        return (source, state.options) if source is not None else None

    def crawl_key(self, request: scrapy.Request) -> int | None:
        """Which crawl ``request`` belongs to, for what a crawl learns of hosts (the hosts it
        stopped asking: :mod:`crawler.downloadermiddlewares.breaker`); None: this process's
        one crawl."""
        return None

    # -- requests -------------------------------------------------------------

    def _request(self, state: CrawlState, source: str, url: str, **meta) -> scrapy.Request | None:
        if not state.may_request(source):
            return None  # its page budget is spent, or its time limit passed
        state.requested[source] = state.requested.get(source, 0) + 1
        state.runs.hold(source)
        return scrapy.Request(
            url,
            callback=self.parse,
            errback=self.on_error,
            meta=page_meta(state.sources[source].kind, source=source, **meta),
            dont_filter=True,
        )

    async def start(self):
        state = self.state
        for source in state.sources.values():
            if state.options.fill_gaps:
                request = self._gap_request(state, source)
            else:
                request = self._request(state, source.key, source.url, depth=0, before=None)
            if request is not None:
                yield request

    def _gap_request(self, state: CrawlState, source: Source) -> scrapy.Request | None:
        """``--fill-gaps``: the first page of the walk through the channel's holes, or None."""
        name = state.channel_names.get(source.key)
        if name is None:
            return None  # not a Telegram channel by name: it has no id ranges to fill
        walk = GapWalk(uncovered_ranges(state.view.coverage(name)))
        state.telegram_walks[source.key] = walk
        before = walk.first_before()
        if before is None:
            return None
        return self._request(state, source.key, with_before(source.url, before), before=before)

    def _handle(self, request: scrapy.Request, produce):
        """What a callback gives for ``request``: ``produce(state, source)``'s outputs, each
        item counted in its source's run until it is written; the request itself is handled."""
        state = self.crawl_state(request)
        source = request.meta.get("source")
        try:
            for output in produce(state, source):
                if isinstance(output, ITEMS):
                    state.runs.hold(output.source)
                yield output
        finally:
            if state.runs.release(source):
                self.crawler.signals.send_catch_log(signal=source_idle, source=source)

    # -- pages ----------------------------------------------------------------

    def parse(self, response):
        return self._handle(
            response.request, lambda state, source: self._parse(state, source, response)
        )

    def _parse(self, state: CrawlState, source: str, response):
        moved = self._elsewhere(state, source, response)
        if moved:
            self.logger.warning("Not archived: %s (%s)", response.url, moved)
            yield ErrorItem(source, response.url, ERROR_HTTP, moved)
            return
        unreadable = self._unreadable(state, source, response)
        if unreadable:
            self.logger.info("Cannot read %s: %s", response.url, unreadable)
            yield ErrorItem(source, response.url, ERROR_UNREADABLE, unreadable)
            return
        capture = capture_from_response(response)
        if response.status in GONE_STATUSES:
            yield from self._gone(state, source, response, capture)
            return
        try:
            page = extract_page(
                response.body,
                response.url,
                content_type=response.headers.get("Content-Type", b"").decode("latin-1"),
                before=response.meta.get("before"),
                options=state.extract,
                channel=state.channel_names.get(source),
            )
        except NotAPage as exc:  # kept as a capture, never as posts
            self.logger.warning("Not a page: %s (%s)", response.url, exc)
            yield PageItem(source, capture, None)
            yield ErrorItem(source, response.url, ERROR_PARSE, str(exc))
            return
        except Exception as exc:  # a page we cannot parse is still kept, with the reason
            self.logger.warning("Could not parse %s: %r", response.url, exc)
            yield PageItem(source, capture, None)
            yield ErrorItem(source, response.url, ERROR_PARSE, repr(exc))
            return
        if page.kind == KIND_TELEGRAM and page.channel is not None:
            # Every later page of this source lists the same channel's messages.
            state.channel_names.setdefault(source, page.channel.name)
        if page.kind != KIND_TELEGRAM and page.channel is not None:
            state.known(page.channel.name)  # as it stood before this page is archived
        refusal = (
            state.view.page_refusal(page.channel.name, page.kind, response.url)
            if page.channel is not None
            else None
        )
        if refusal is not None:  # the archive will keep its capture only: it leads nowhere
            self.logger.warning("Not archived: %s (%s)", response.url, refusal)
            state.halted.add(source)
            yield PageItem(source, capture, page)
            return
        first = response.meta.get("before") is None
        if page.kind == KIND_TELEGRAM and page.throttled and not page.posts and first:
            # Its first page stayed Telegram's empty answer through every retry: nothing read.
            self.logger.info("Cannot read %s: throttled for too long", response.url)
            yield ErrorItem(source, response.url, ERROR_THROTTLED, THROTTLED_TOO_LONG)
            return
        if page.kind == KIND_TELEGRAM:
            # The walk may find the page is the channel's start: decide before it is archived.
            start, following = self._next_telegram(state, source, response, page)
            yield PageItem(source, capture, page, start=start)
            yield from following
        else:
            yield PageItem(source, capture, page)
            yield from self._next_web(state, source, response, page)

    def _elsewhere(self, state: CrawlState, source: str, response) -> str | None:
        """Why a response is not the source's own page (redirected to another host), or None."""
        wanted = origin_of(state.sources[source].url)
        got = origin_of(response.url)
        if got != wanted:
            return f"redirected to another host ({got or response.url}): not archived"
        return None

    def _unreadable(self, state: CrawlState, source: str, response) -> str | None:
        """Why a Telegram source's page (or a ``/s/NAME`` page anywhere) holds no channel, or None."""
        spec = state.sources[source]
        if spec.kind != SOURCE_TELEGRAM and preview_channel(spec.url) is None:
            return None
        requested = (response.meta.get("redirect_urls") or [response.url])[0]
        return unreadable_reason(requested, response.url, response.status, response.body)

    def _next_telegram(self, state: CrawlState, source: str, response, page):
        """(whether the page is the channel's start, the requests of the next pages)."""
        walk = state.telegram_walks.get(source)
        if walk is None:
            full = state.options.full and state.backfill
            concurrency = self._host_concurrency(response.request) if full else 1
            since = state.options.since
            if concurrency > 1:  # the user let the host take several: backfill in windows
                walk = ConcurrentWalk(concurrency, since=since)
            else:
                covered = state.view.coverage(page.channel.name) if page.channel else []
                walk = TelegramWalk(covered, full=state.options.full, since=since)
            state.telegram_walks[source] = walk
        if isinstance(walk, ConcurrentWalk):
            befores = walk.next_befores(page)
        else:
            before = walk.next_before(page)
            befores = [] if before is None else [before]
        requests = []
        for before in befores:
            request = self._request(state, source, with_before(response.url, before), before=before)
            if request is not None:
                requests.append(request)
        return walk.start_page, requests

    def _host_concurrency(self, request) -> int:
        """How many requests the request's host may have at once (its download slot's limit)."""
        downloader = getattr(getattr(self.crawler, "engine", None), "downloader", None)
        if downloader is None or request is None:
            return 1
        key = downloader.get_slot_key(request)
        slot = downloader.slots.get(key)
        if slot is not None:
            return slot.concurrency
        return downloader.per_slot_settings.get(key, {}).get(
            "concurrency", downloader.domain_concurrency
        )

    def _next_web(self, state: CrawlState, source: str, response, page):
        walk = state.web_walks.get(source)
        if walk is None:
            walk = state.web_walks[source] = WebWalk(
                state.sources[source].url,
                depth=state.options.depth,
                follow=state.options.follow,
            )
        depth = response.meta.get("depth", 0)
        if response.meta.get("recheck"):
            return  # a post fetched again only to see whether it still exists
        for url in walk.links_to_follow(page.links, depth):
            request = self._request(state, source, url, depth=depth + 1, before=None)
            if request is not None:
                yield request
        if page.page_type == PAGE_LISTING and page.channel is not None:
            known = state.known(page.channel.name)
            present = {post.post_id for post in page.posts}
            for post_id in known.listings.get(page.url, []):
                url = known.urls.get(post_id)
                if post_id in present or not url or not walk.claim(url):
                    continue
                # Gone from its listing: deleted, or only pushed off. Its page tells.
                request = self._request(
                    state, source, url, depth=depth + 1, before=None, post_id=post_id,
                    recheck=True,
                )  # fmt: skip
                if request is not None:
                    yield request

    def _gone(self, state: CrawlState, source: str, response, capture: Capture):
        """A web page answered 404 / 410: a known post is deleted; anything else is an error."""
        channel = state.extract.channel or site_channel_name(response.url) or "local"
        post_id = response.meta.get("post_id")
        if post_id is None:
            by_url = {url: pid for pid, url in state.known(channel).urls.items()}
            post_id = by_url.get(response.url) or by_url.get(response.request.url)
        if post_id is None:
            self._failed(response.request, f"HTTP {response.status}", response.url)
            yield ErrorItem(source, response.url, ERROR_HTTP, f"HTTP {response.status}")
            return
        yield PageItem(
            source, capture, gone_page(response.url, post_id=post_id, options=state.extract)
        )

    def on_error(self, failure):
        if stopped(failure):
            return []  # cut off by the crawl's stop: unanswered, its source is cut short
        return self._handle(
            failure.request, lambda state, source: self._error(state, source, failure)
        )

    def _error(self, state: CrawlState, source: str, failure):
        request = failure.request
        kind, message = describe_failure(failure)
        if not state.runs.is_open(source) or source in state.halted:
            return  # cut off (time limit, a refused page): the reason is kept with its crawl
        response = getattr(failure.value, "response", None)
        if response is not None and source in state.sources:
            unreadable = self._unreadable(state, source, response)
            if unreadable:  # e.g. /s/NAME answered 404: no such channel
                self.logger.info("Cannot read %s: %s", response.url, unreadable)
                yield ErrorItem(source, response.url, ERROR_UNREADABLE, unreadable)
                return
        self._failed(request, message)
        yield ErrorItem(source, request.url, kind, message)

    def _failed(self, request: scrapy.Request, message: str, url: str | None = None) -> None:
        """Log a page that failed, once: a source's first page failing fails its crawl, whose
        reason the command line tells (so only at INFO here); a later page's at WARNING."""
        first = request.meta.get("depth") == 0
        self.logger.log(
            logging.INFO if first else logging.WARNING,
            "Fetch failed: %s (%s)", url or request.url, message,
        )  # fmt: skip

    # -- side requests: media files and deletion checks -------------------------

    def parse_media(self, response):
        return self._handle(response.request, lambda state, source: [media.media_item(response)])

    def media_failed(self, failure):
        if stopped(failure):
            return []  # not tried: a later crawl fetches it

        def produce(state: CrawlState, source: str):
            return [] if source in state.halted else [media.failed_media_item(failure)]

        return self._handle(failure.request, produce)

    def parse_check(self, response):
        return self._handle(response.request, lambda state, source: [checks.check_item(response)])

    def check_failed(self, failure):
        if stopped(failure):
            return []

        def produce(state: CrawlState, source: str):
            if not state.runs.is_open(source) or source in state.halted:
                return []
            return [checks.failed_check_item(failure)]

        return self._handle(failure.request, produce)
