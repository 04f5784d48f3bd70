"""Media files of the posts a crawl sees, fetched at first sight (``crawl --media``).

Once a page is written, the writer hands it to its crawl's :class:`MediaPlan`,
which picks the files the mode asks for (``photos``: photos, the thumbnails
of videos and link-preview images; ``all``: also videos, gifs, voice, round
videos, audio, documents and stickers), drops what the archive already
holds (asked by post slot and by URL), links every slot to its URL, and
returns a request for each URL not yet asked for in this crawl. Media
requests go through the same downloader as pages: robots.txt, the per-host
delay and backoff apply to media hosts too, and ``download_maxsize`` caps
each file. They are side fetches (:mod:`crawler.sidefetches`): bounded in
time, not retried when their host fails below HTTP, and not sent at all to a
host that failed too often in the crawl (kept as *not tried*, for a later
crawl).

Each fetched (or failed) URL becomes one :class:`~crawler.items.MediaItem`
naming the post slots its request was made for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import scrapy

from archive.models import (
    MEDIA_ALL,
    MEDIA_MAX_SIZE,
    MEDIA_MODES,
    MEDIA_NONE,
    MediaFetch,
    MediaRef,
    Page,
    Post,
)
from archive.store.media import MediaKnown
from archive.times import utcnow

from ..items import MediaItem
from ..responses import describe_failure, ip_address_of
from ..sidefetches import NotTried

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


def media_request(source: str, url: str, refs: list[MediaRef], max_size: int) -> scrapy.Request:
    """The request for one media file, carrying the post slots that show it and the size cap.

    Its callbacks are the spider's ``parse_media`` / ``media_failed`` (set by
    whoever sends it: :data:`CALLBACKS`).
    """
    return scrapy.Request(
        url,
        priority=MEDIA_PRIORITY,
        meta={
            "source": source,
            "media_url": url,
            "media_refs": [[r.channel, r.post_id, r.slot] for r in refs],
            "download_maxsize": max_size,
            "download_warnsize": 0,
        },
        dont_filter=True,
    )


#: The spider's callbacks of a media request: (callback, errback).
CALLBACKS = ("parse_media", "media_failed")


def _refs(meta: dict) -> list[MediaRef]:
    return [MediaRef(*ref) for ref in meta.get("media_refs") or []]


def media_item(response) -> MediaItem:
    """The item of a media response (a body too large or an HTML page is a failure)."""
    meta = response.meta
    url = meta["media_url"]
    max_size = int(meta.get("download_maxsize") or MEDIA_MAX_SIZE)
    content_type = response.headers.get("Content-Type", b"").decode("latin-1") or None
    reason = None
    if len(response.body) > max_size:
        reason = f"too large: {len(response.body)} bytes (the cap is {max_size})"
    elif content_type and content_type.split(";")[0].strip().lower() == "text/html":
        reason = "not a media file: the server answered an HTML page"
    fetch = MediaFetch(
        url=url,
        fetched_at=utcnow(),
        ok=reason is None,
        body=response.body if reason is None else b"",
        content_type=content_type,
        http_status=response.status,
        reason=reason,
        ip_address=ip_address_of(response),
    )
    return MediaItem(meta["source"], url, _refs(meta), fetch)


def failed_media_item(failure) -> MediaItem:
    """The item of a media request that failed (HTTP error, too large, timeout ...), or was
    not tried at all (its host failed too often in the crawl: no try used up)."""
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
        tried=not failure.check(NotTried),
    )
    return MediaItem(request.meta["source"], url, _refs(request.meta), fetch)


class MediaPlan:
    """One crawl's media: which files its pages show that it must ask for, each once."""

    def __init__(self, mode: str, max_size: int) -> None:
        if mode not in MEDIA_MODES:
            raise ValueError(f"unknown media mode {mode!r}")
        self.mode = mode
        self.max_size = max_size
        #: URLs this crawl asked for already.
        self.asked: set[str] = set()

    def plan(
        self,
        source: str,
        page: Page,
        known: KnownMedia,
        link: Callable[[str, list[MediaRef]], None],
    ) -> list[scrapy.Request]:
        """The requests for ``page``'s media files the archive lacks; every slot showing a
        file is linked to its URL now (``link``), so a file already kept serves it at once
        and a new one fills it when it arrives."""
        if self.mode == MEDIA_NONE or not page.posts:
            return []
        requests = []
        for url, refs, fetched in plan_media(page, self.mode, known):
            link(url, refs)
            if fetched or url in self.asked:
                continue
            self.asked.add(url)
            requests.append(media_request(source, url, refs, self.max_size))
        return requests
