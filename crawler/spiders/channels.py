"""The spider: fetch channel pages, parse them, yield them for the archive.

It only parses: what the archive already holds reaches it as plain data
(``covered``, a function from a channel name to the id ranges archived in
full; ``known_posts``, a function from a web channel's name to its live
posts and the listings they were on), and every page goes out as a
:class:`~crawler.items.PageItem` for the pipeline to write.

Web sources: pages are extracted with the crawl's profile; a listing that no
longer shows a post it showed last time makes the spider fetch that post's
page again, and a 404 / 410 there is a deleted post (a ``gone`` page).

Telegram sources: a post its listing page no longer shows is looked at
through its own embed, within a budget (:mod:`crawler.checks`); a channel
that cannot be read (preview disabled, no such channel, no channel markup,
throttled on its first page) is said so as the crawl's reason
(:mod:`archive.extract.unreadable`), never archived as a web page.

Many sources share one crawl: the spider keeps count, in ``runs``
(:class:`~crawler.runs.SourceRuns`), of each source's requests not yet
handled and items not yet written, and says when a source has none left
(:data:`~crawler.runs.source_idle`), so its crawl row is closed then. A
source whose run is closed (its time limit passed) gets no more requests.

Media: after a page is parsed, ``media`` (:class:`~crawler.media.MediaFetcher`)
yields requests for its posts' files not yet archived (``crawl --media``);
each answer becomes a :class:`~crawler.items.MediaItem`, counted in the
source's run like a page.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode, urlsplit, urlunsplit

import scrapy

from archive.clean.profiles import load_options
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
    WebKnown,
)
from archive.source import SOURCE_TELEGRAM, SOURCE_URL, Source, origin_of, site_channel_name

from .. import checks
from ..backfill import ConcurrentWalk
from ..captures import capture_from_response
from ..failures import describe_failure
from ..items import CheckItem, ErrorItem, MediaItem, PageItem
from ..media import MediaFetcher
from ..runs import SourceRuns, source_idle
from ..walks import TelegramWalk, WebWalk

#: Kept with a crawl whose first Telegram page stayed empty through every throttling retry.
THROTTLED_TOO_LONG = (
    "Telegram kept serving an empty page (tme_no_messages_found) through every retry:"
    " the channel could not be read; try again later"
)

#: HTTP statuses that mean a web post was removed.
GONE_STATUSES = (404, 410)


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
        known_posts: Callable[[str], WebKnown] | None = None,
        runs: SourceRuns | None = None,
        media: MediaFetcher | None = None,
        deletion_checks: int = 0,
        held: checks.Held | None = None,
        pending_checks: checks.Pending | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.sources = {s.key: s for s in sources}
        self.crawl_ids = crawl_ids or {}
        self.runs = runs or SourceRuns(self.crawl_ids)
        self.covered = covered or (lambda name: [])
        self.full = full
        self.max_pages = max_pages
        self.depth = depth
        self.follow = follow
        self.profile = profile
        self.options = load_options(profile)
        self.known_posts = known_posts or (lambda name: WebKnown(urls={}, listings={}))
        #: The posts' media files to archive (``crawl --media``; none unless given).
        self.media = media or MediaFetcher()
        self.web_known: dict[str, WebKnown] = {}
        self.requested: dict[str, int] = {}
        self.telegram_walks: dict[str, TelegramWalk] = {}
        self.web_walks: dict[str, WebWalk] = {}
        #: Which missing posts to look at through their embed (crawler/checks.py).
        self.checks = checks.DeletionChecks(deletion_checks, held, pending_checks)
        #: The Telegram channel each source's pages must list (a @name source knows it).
        self.channel_names: dict[str, str] = {
            s.key: s.name for s in sources if s.kind == SOURCE_TELEGRAM and s.name
        }

    def _request(self, source: str, url: str, **meta) -> scrapy.Request | None:
        if self.max_pages is not None and self.requested.get(source, 0) >= self.max_pages:
            return None
        if not self.runs.is_open(source):
            return None  # its time limit passed
        self.requested[source] = self.requested.get(source, 0) + 1
        self.runs.hold(source)
        if self.sources[source].kind == SOURCE_URL:
            # A web post page that answers 404 / 410 is a deleted post: parse() decides.
            meta["handle_httpstatus_list"] = list(GONE_STATUSES)
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

    def _counted(self, source: str, outputs):
        """``outputs`` of a callback for ``source``, each item counted until it is written."""
        try:
            for output in outputs:
                if isinstance(output, (PageItem, ErrorItem, MediaItem, CheckItem)):
                    self.runs.hold(output.source)
                yield output
        finally:
            self._release(source)

    def _release(self, source: str) -> None:
        """A request of ``source`` is handled; say so when it was the last thing outstanding."""
        if self.runs.release(source):
            self.crawler.signals.send_catch_log(signal=source_idle, source=source)

    def parse(self, response):
        source = response.meta["source"]
        return self._counted(source, self._parse(source, response))

    def _parse(self, source: str, response):
        moved = self._elsewhere(source, response)
        if moved:
            self.logger.warning("Not archived: %s (%s)", response.url, moved)
            yield ErrorItem(source, response.url, ERROR_HTTP, moved)
            return
        unreadable = self._unreadable(source, response)
        if unreadable:
            self.logger.info("Cannot read %s: %s", response.url, unreadable)
            yield ErrorItem(source, response.url, ERROR_UNREADABLE, unreadable)
            return
        capture = capture_from_response(response)
        if response.status in GONE_STATUSES:
            yield from self._gone(source, response, capture)
            return
        try:
            page = extract_page(
                response.body,
                response.url,
                content_type=response.headers.get("Content-Type", b"").decode("latin-1"),
                before=response.meta.get("before"),
                options=self.options,
                channel=self.channel_names.get(source),
            )
            page.profile = self.profile
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
            self.channel_names.setdefault(source, page.channel.name)
        if page.kind != KIND_TELEGRAM and page.channel is not None:
            self._known(page.channel.name)  # as it stood before this page is archived
        first = response.meta.get("before") is None
        if page.kind == KIND_TELEGRAM and page.throttled and not page.posts and first:
            # Its first page stayed Telegram's empty answer through every retry: nothing read.
            self.logger.info("Cannot read %s: throttled for too long", response.url)
            yield ErrorItem(source, response.url, ERROR_THROTTLED, THROTTLED_TOO_LONG)
            return
        if page.kind == KIND_TELEGRAM:
            # The walk may mark the page (the channel's start): decide before it is archived.
            following = list(self._next_telegram(source, response, page))
            yield PageItem(source, capture, page)
            yield from following
            yield from self._deletion_checks(source, response, page)
        else:
            yield PageItem(source, capture, page)
            yield from self._next_web(source, response, page)
        yield from self.media.outputs(source, page, lambda url: self._media_request(source, url))

    def _media_request(self, source: str, url: str) -> scrapy.Request | None:
        """A request for a media file of ``source``'s posts, counted in its run."""
        if not self.runs.is_open(source):
            return None
        self.runs.hold(source)
        return self.media.request(url, source, self.parse_media, self.media_failed)

    def parse_media(self, response):
        source = response.meta["source"]
        return self._counted(source, [self.media.fetched(response)])

    def media_failed(self, failure):
        source = failure.request.meta["source"]
        return self._counted(source, [self.media.failed(failure)])

    def _elsewhere(self, source: str, response) -> str | None:
        """Why a response is not the source's own page (redirected to another host), or None."""
        wanted = origin_of(self.sources[source].url)
        got = origin_of(response.url)
        if got != wanted:
            return f"redirected to another host ({got or response.url}): not archived"
        return None

    def _unreadable(self, source: str, response) -> str | None:
        """Why a Telegram source's page (or a ``/s/NAME`` page anywhere) holds no channel, or None."""
        spec = self.sources[source]
        if spec.kind != SOURCE_TELEGRAM and preview_channel(spec.url) is None:
            return None
        requested = (response.meta.get("redirect_urls") or [response.url])[0]
        return unreadable_reason(requested, response.url, response.status, response.body)

    def _deletion_checks(self, source: str, response, page):
        """Look at the posts this page no longer shows (and earlier crawls left undecided)."""
        for post_num in self.checks.to_check(source, page):
            if not self.runs.is_open(source):
                return
            self.runs.hold(source)
            yield checks.check_request(
                source,
                response.url,
                page.channel.name,
                post_num,
                self.parse_check,
                self.check_failed,
            )

    def parse_check(self, response):
        source = response.meta["source"]
        return self._counted(source, [checks.check_item(response)])

    def check_failed(self, failure):
        source = failure.request.meta.get("source")
        outputs = [checks.failed_check_item(failure)] if self.runs.is_open(source) else []
        return self._counted(source, outputs)

    def _next_telegram(self, source: str, response, page):
        walk = self.telegram_walks.get(source)
        if walk is None:
            concurrency = self._host_concurrency(response.request) if self.full else 1
            if concurrency > 1:  # the user let the host take several: backfill in windows
                walk = self.telegram_walks[source] = ConcurrentWalk(concurrency)
            else:
                covered = self.covered(page.channel.name) if page.channel else []
                walk = self.telegram_walks[source] = TelegramWalk(covered, full=self.full)
        if isinstance(walk, ConcurrentWalk):
            for before in walk.next_befores(page):
                request = self._request(source, with_before(response.url, before), before=before)
                if request is not None:
                    yield request
            return
        before = walk.next_before(page)
        if before is not None:
            request = self._request(source, with_before(response.url, before), before=before)
            if request is not None:
                yield request

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

    def _next_web(self, source: str, response, page):
        walk = self.web_walks.get(source)
        if walk is None:
            walk = self.web_walks[source] = WebWalk(
                self.sources[source].url, depth=self.depth, follow=self.follow
            )
        depth = response.meta.get("depth", 0)
        if response.meta.get("recheck"):
            return  # a post fetched again only to see whether it still exists
        for url in walk.links_to_follow(page.links, depth):
            request = self._request(source, url, depth=depth + 1, before=None)
            if request is not None:
                yield request
        if page.page_type == PAGE_LISTING and page.channel is not None:
            known = self._known(page.channel.name)
            present = {post.post_id for post in page.posts}
            for post_id in known.listings.get(page.url, []):
                url = known.urls.get(post_id)
                if post_id in present or not url or not walk.claim(url):
                    continue
                # Gone from its listing: deleted, or only pushed off. Its page tells.
                request = self._request(
                    source, url, depth=depth + 1, before=None, post_id=post_id, recheck=True
                )
                if request is not None:
                    yield request

    def _known(self, channel: str) -> WebKnown:
        if channel not in self.web_known:
            self.web_known[channel] = self.known_posts(channel)
        return self.web_known[channel]

    def _gone(self, source: str, response, capture: Capture):
        """A web page answered 404 / 410: a known post is deleted; anything else is an error."""
        channel = self.options.channel or site_channel_name(response.url) or "local"
        post_id = response.meta.get("post_id")
        if post_id is None:
            by_url = {url: pid for pid, url in self._known(channel).urls.items()}
            post_id = by_url.get(response.url) or by_url.get(response.request.url)
        if post_id is None:
            self.logger.warning("Fetch failed: %s (HTTP %s)", response.url, response.status)
            yield ErrorItem(source, response.url, ERROR_HTTP, f"HTTP {response.status}")
            return
        page = gone_page(response.url, post_id=post_id, options=self.options)
        page.profile = self.profile
        yield PageItem(source, capture, page)

    def on_error(self, failure):
        source = failure.request.meta.get("source")
        return self._counted(source, self._error(source, failure))

    def _error(self, source: str, failure):
        request = failure.request
        kind, message = describe_failure(failure)
        if not self.runs.is_open(source):
            return  # cut off at its time limit: the reason is kept with its crawl already
        response = getattr(failure.value, "response", None)
        if response is not None and source in self.sources:
            unreadable = self._unreadable(source, response)
            if unreadable:  # e.g. /s/NAME answered 404: no such channel
                self.logger.info("Cannot read %s: %s", response.url, unreadable)
                yield ErrorItem(source, response.url, ERROR_UNREADABLE, unreadable)
                return
        self.logger.warning("Fetch failed: %s (%s)", request.url, message)
        yield ErrorItem(source, request.url, kind, message)
