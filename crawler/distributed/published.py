"""What workers need to crawl incrementally, published by the ingester in Redis.

Workers have no archive: the ingester, after each commit, publishes what
the spider asks of the archive (:class:`crawler.view.ArchiveView`): each
Telegram channel's id ranges archived in full, and each web channel's live
posts with the listings they were on. :class:`PublishedView` is the
worker's view, read from there.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

import sqlite_utils

from archive import store
from archive.models import KIND_TELEGRAM, WebKnown

from .frontier import Frontier


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
    pipe.execute()


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
        return [(int(lo), int(hi)) for lo, hi in json.loads(raw)] if raw else []

    def known_posts(self, channel: str) -> WebKnown:
        raw = self.frontier.server.hget(self.frontier.known_key, channel)
        data = json.loads(raw) if raw else {}
        return WebKnown(urls=data.get("urls", {}), listings=data.get("listings", {}))
