"""Media files of the posts a crawl sees, fetched at first sight (``crawl --media``).

After a page is parsed the spider hands it to :class:`MediaFetcher`, which
picks the files the mode asks for (``photos``: photos, the thumbnails of
videos and link-preview images; ``all``: also videos, gifs, voice, round
videos, audio, documents and stickers), drops what the archive already
holds (asked through ``known_media``, by post slot and by URL), and returns
a request for each URL not yet asked for in this crawl. Media requests go
through the same downloader as pages: robots.txt, the per-host delay and
backoff apply to media hosts too, and ``download_maxsize`` caps each file.

Each fetched (or failed) URL becomes one :class:`~crawler.items.MediaItem`
naming every post slot that showed it; a slot whose URL was fetched
already (earlier, or earlier in this crawl) becomes a link-only item.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import scrapy

from archive.models import (
    MEDIA_ALL,
    MEDIA_MAX_SIZE,
    MEDIA_NONE,
    MEDIA_PHOTOS,
    MediaFetch,
    MediaRef,
    Page,
    Post,
)
from archive.store.media import MediaKnown
from archive.times import utcnow

from .failures import describe_failure
from .items import MediaItem

#: Media types fetched with ``--media photos`` (their own URL is an image).
PHOTO_TYPES = {"photo"}
#: Types whose own URL is fetched only with ``--media all``.
OTHER_TYPES = {"video", "gif", "round_video", "voice", "audio", "document", "sticker"}
#: Hosts whose links are Telegram pages, never media files.
PAGE_HOSTS = {"t.me", "telegram.me", "www.t.me"}
#: Media requests wait behind the pages of the crawl.
MEDIA_PRIORITY = -10

KnownMedia = Callable[[str, list[str], list[str]], MediaKnown]


def post_media_urls(post: Post, mode: str) -> list[tuple[str, str]]:
    """The (slot, url) pairs of ``post`` that ``mode`` archives, in page order."""
    if mode == MEDIA_NONE:
        return []
    wanted: list[tuple[str, str]] = []
    for index, item in enumerate(post.media):
        kind, url, thumb = item.get("type"), item.get("url"), item.get("thumb")
        if kind in PHOTO_TYPES or (mode == MEDIA_ALL and kind in OTHER_TYPES):
            wanted.append((str(index), url))
        elif url and url == thumb:  # a video shown by its thumbnail only
            wanted.append((str(index), url))
        if thumb and thumb != url:
            wanted.append((f"{index}/thumb", thumb))
    image = (post.link_preview or {}).get("image")
    if image:
        wanted.append(("preview", image))
    return [(slot, url) for slot, url in wanted if _fetchable(url, post.url)]


def plan_media(
    page: Page, mode: str, known: KnownMedia
) -> Iterator[tuple[str, list[MediaRef], bool]]:
    """What ``page``'s posts show that ``mode`` archives and the archive lacks.

    One ``(url, refs, fetched)`` per URL, in page order: the post slots
    showing it, and whether the archive holds the URL's file already (then
    only the links are missing). A slot already linked, or given up on, and a
    URL that failed too often are left out.
    """
    by_channel: dict[str, list[tuple[MediaRef, str]]] = {}
    for post in page.posts:
        for slot, url in post_media_urls(post, mode):
            ref = MediaRef(post.channel, post.post_id, slot)
            by_channel.setdefault(post.channel, []).append((ref, url))
    for channel, wants in by_channel.items():
        have = known(
            channel,
            sorted({ref.post_id for ref, _ in wants}),
            sorted({url for _, url in wants}),
        )
        by_url: dict[str, list[MediaRef]] = {}
        for ref, url in wants:
            key = (ref.post_id, ref.slot)
            if key in have.linked or key in have.given_up or url in have.failed:
                continue
            by_url.setdefault(url, []).append(ref)
        for url, refs in by_url.items():
            yield url, refs, url in have.fetched


def _fetchable(url: str | None, post_url: str) -> bool:
    if not url or url == post_url:
        return False
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and (parts.hostname or "") not in PAGE_HOSTS


class MediaFetcher:
    """One crawl's media: what to fetch, what was asked for already, and the results."""

    def __init__(
        self,
        mode: str = MEDIA_NONE,
        max_size: int = MEDIA_MAX_SIZE,
        known: KnownMedia | None = None,
    ) -> None:
        if mode not in (MEDIA_NONE, MEDIA_PHOTOS, MEDIA_ALL):
            raise ValueError(f"unknown media mode {mode!r}")
        self.mode = mode
        self.max_size = max_size
        self.known = known or (lambda channel, post_ids, urls: MediaKnown())
        #: URL -> the slots waiting for it, while its request is in flight.
        self.pending: dict[str, list[MediaRef]] = {}
        #: URLs whose request has ended in this crawl (their item is on its way).
        self.ended: set[str] = set()

    @property
    def enabled(self) -> bool:
        return self.mode != MEDIA_NONE

    def outputs(
        self, source: str, page: Page | None, request: Callable[[str], scrapy.Request | None]
    ) -> Iterator:
        """Requests and link-only items for ``page``'s media; ``request(url)`` makes a request."""
        if not self.enabled or page is None or not page.posts:
            return
        for url, refs, fetched in plan_media(page, self.mode, self.known):
            if fetched or url in self.ended:
                yield MediaItem(source, url, refs)
            elif url in self.pending:
                self.pending[url].extend(refs)
            else:
                self.pending[url] = list(refs)
                made = request(url)
                if made is None:
                    del self.pending[url]
                else:
                    yield made

    def request(self, url: str, source: str, callback, errback) -> scrapy.Request:
        return scrapy.Request(
            url,
            callback=callback,
            errback=errback,
            priority=MEDIA_PRIORITY,
            meta={
                "source": source,
                "media_url": url,
                "download_maxsize": self.max_size,
                "download_warnsize": 0,
            },
            dont_filter=True,
        )

    def fetched(self, response) -> MediaItem:
        """The item of a media response (a body too large or a page is a failure)."""
        url = response.meta["media_url"]
        content_type = response.headers.get("Content-Type", b"").decode("latin-1") or None
        now = utcnow()
        reason = None
        if len(response.body) > self.max_size:
            reason = f"too large: {len(response.body)} bytes (the cap is {self.max_size})"
        elif content_type and content_type.split(";")[0].strip().lower() == "text/html":
            reason = "not a media file: the server answered an HTML page"
        fetch = MediaFetch(
            url=url,
            fetched_at=now,
            ok=reason is None,
            body=response.body if reason is None else b"",
            content_type=content_type,
            http_status=response.status,
            reason=reason,
        )
        return self._ended(response.meta["source"], url, fetch)

    def failed(self, failure) -> MediaItem:
        """The item of a media request that failed (HTTP error, too large, timeout ...)."""
        request = failure.request
        url = request.meta["media_url"]
        _kind, message = describe_failure(failure)
        response = getattr(failure.value, "response", None)
        fetch = MediaFetch(
            url=url,
            fetched_at=utcnow(),
            ok=False,
            http_status=response.status if response is not None else None,
            reason=message,
        )
        return self._ended(request.meta["source"], url, fetch)

    def _ended(self, source: str, url: str, fetch: MediaFetch) -> MediaItem:
        self.ended.add(url)
        return MediaItem(source, url, self.pending.pop(url, []), fetch)
