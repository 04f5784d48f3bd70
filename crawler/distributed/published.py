"""What workers need to crawl incrementally, published by the ingester in Redis.

Workers have no archive: the ingester, after each commit, publishes what
the spider asks of the archive (:class:`crawler.view.ArchiveView`): each
Telegram channel's id ranges archived in full, and each web channel's live
posts with the listings they were on. :class:`PublishedView` is the
worker's view, read from there.

What a worker reads there is checked like everything else from Redis (id
ranges of whole numbers; text for ids, URLs and listings, of bounded sizes).
A value that does not fit is logged and taken as nothing published: the
crawl then walks as if the archive held nothing of the channel, which costs
fetches and loses nothing, and the ingester publishes the true value again
once it writes the channel.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import Any

import redis
import sqlite_utils

from archive import store
from archive.errors import BadRecord
from archive.models import KIND_TELEGRAM, WebKnown

from .frontier import Frontier
from .serialize import read_json

logger = logging.getLogger(__name__)

#: The longest published value read (a web channel's known posts are the long ones).
MAX_PUBLISHED = 64 * 1024 * 1024
#: The most id ranges, posts and listings read; and the longest text.
MAX_ENTRIES, MAX_TEXT = 1_000_000, 8192


def publish(
    frontier: Frontier, db: sqlite_utils.Database, channels: Iterable[tuple[str, str]]
) -> None:
    """Publish what the archive now holds of ``channels`` ((kind, name) pairs)."""
    channels = sorted(set(channels))
    if not channels:
        return
    pipe = frontier.server.pipeline(transaction=False)
    for kind, name in channels:
        if kind == KIND_TELEGRAM:
            ranges = [list(span) for span in store.coverage(db, name)]
            pipe.hset(frontier.coverage_key, name, json.dumps(ranges))
        else:
            known = store.known_web_posts(db, name)
            data = {"urls": known.urls, "listings": known.listings}
            pipe.hset(frontier.known_key, name, json.dumps(data, ensure_ascii=False))
    for answer in pipe.execute(raise_on_error=False):
        if isinstance(answer, redis.ResponseError):  # a key of another type, put there by hand
            logger.error("could not publish what the archive holds: %s", answer)
            break


def publish_all(frontier: Frontier, db: sqlite_utils.Database) -> None:
    """Publish every channel of the archive (an ingester starting)."""
    publish(
        frontier, db, [(kind, name) for name, kind in db.execute("SELECT name, kind FROM channels")]
    )


class PublishedView:
    """The archive as the ingester published it: a worker's :class:`~crawler.view.ArchiveView`."""

    def __init__(self, frontier: Frontier) -> None:
        self.frontier = frontier

    def coverage(self, channel: str) -> list[tuple[int, int]]:
        raw = self.frontier.server.hget(self.frontier.coverage_key, channel)
        if not raw:
            return []
        try:
            return read_coverage(raw)
        except BadRecord as exc:
            logger.warning("Ignored the published coverage of %s: %s", channel, exc)
            return []

    def known_posts(self, channel: str) -> WebKnown:
        raw = self.frontier.server.hget(self.frontier.known_key, channel)
        if not raw:
            return WebKnown(urls={}, listings={})
        try:
            return read_known(raw)
        except BadRecord as exc:
            logger.warning("Ignored the published posts of %s: %s", channel, exc)
            return WebKnown(urls={}, listings={})

    def page_refusal(self, channel: str, kind: str, url: str) -> str | None:
        return None  # a worker cannot tell: the ingester refuses the page and ends the crawl


def read_coverage(raw: Any) -> list[tuple[int, int]]:
    """A Telegram channel's archived id ranges as published, checked."""
    data = read_json(raw, "published coverage", limit=MAX_PUBLISHED)
    if not isinstance(data, list) or len(data) > MAX_ENTRIES:
        raise BadRecord(f"published coverage: not a list of at most {MAX_ENTRIES} ranges")
    spans = []
    for span in data:
        if not (isinstance(span, list) and len(span) == 2 and all(_id(n) for n in span)):
            raise BadRecord("published coverage: a range is not two ids")
        if span[0] > span[1]:
            raise BadRecord("published coverage: an empty range")
        spans.append((span[0], span[1]))
    return spans


def read_known(raw: Any) -> WebKnown:
    """A web channel's live posts and listings as published, checked."""
    data = read_json(raw, "published posts", limit=MAX_PUBLISHED)
    if not isinstance(data, dict) or set(data) - {"urls", "listings"}:
        raise BadRecord("published posts: not an object of urls and listings")
    urls, listings = data.get("urls", {}), data.get("listings", {})
    if not (isinstance(urls, dict) and len(urls) <= MAX_ENTRIES):
        raise BadRecord("published posts: urls is not an object")
    if not all(_text(k) and _text(v) for k, v in urls.items()):
        raise BadRecord("published posts: a post id or URL is not text")
    if not (isinstance(listings, dict) and len(listings) <= MAX_ENTRIES):
        raise BadRecord("published posts: listings is not an object")
    for url, ids in listings.items():
        if not (_text(url) and isinstance(ids, list) and len(ids) <= MAX_ENTRIES):
            raise BadRecord("published posts: a listing is not a URL with its post ids")
        if not all(_text(i) for i in ids):
            raise BadRecord("published posts: a listing's post id is not text")
    return WebKnown(urls=urls, listings=listings)


def _id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**63


def _text(value: Any) -> bool:
    return isinstance(value, str) and len(value) <= MAX_TEXT
