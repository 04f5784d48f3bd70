"""The archive as a crawl sees it: a named interface, read from SQLite or from Redis.

The spider never opens the archive: what it must know to crawl
incrementally reaches it through an :class:`ArchiveView` — the id ranges of
a Telegram channel archived in full (where the walk may stop) and a web
channel's live posts with the listings they were on (what to look at
again). A local crawl reads them from the file (:class:`SqliteView`); a
distributed worker from what the ingester published in Redis
(:class:`crawler.distributed.published.PublishedView`).

The writer, which always has the file, asks more of it (:class:`SqliteView`
only): the live post ids of a range and the posts left undecided (for the
deletion checks), and what media it holds (for the media files to fetch).
"""

from __future__ import annotations

from typing import Protocol

import sqlite_utils

from archive import store
from archive.models import WebKnown
from archive.store import MediaKnown
from archive.store.ingest import channel_refusal


class ArchiveView(Protocol):
    """What the spider may ask of the archive."""

    def coverage(self, channel: str) -> list[tuple[int, int]]:
        """The id ranges of Telegram channel ``channel`` archived in full."""
        ...

    def known_posts(self, channel: str) -> WebKnown:
        """Web channel ``channel``'s live posts, and the listing pages they were on."""
        ...

    def page_refusal(self, channel: str, kind: str, url: str) -> str | None:
        """Why the archive will refuse a page of ``channel`` fetched from ``url`` (another
        origin's, another kind's), or None (it will not, or this view cannot tell)."""
        ...


class EmptyView:
    """An archive that holds nothing: every crawl is a first crawl."""

    def coverage(self, channel: str) -> list[tuple[int, int]]:
        return []

    def known_posts(self, channel: str) -> WebKnown:
        return WebKnown(urls={}, listings={})

    def page_refusal(self, channel: str, kind: str, url: str) -> str | None:
        return None


class SqliteView:
    """The answers read from the archive file itself."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db

    def coverage(self, channel: str) -> list[tuple[int, int]]:
        return store.coverage(self.db, channel)

    def known_posts(self, channel: str) -> WebKnown:
        return store.known_web_posts(self.db, channel)

    def page_refusal(self, channel: str, kind: str, url: str) -> str | None:
        return channel_refusal(self.db, channel, kind, url)

    def live_post_nums(self, channel: str, lo: int, hi: int) -> list[int]:
        """The ids of ``channel``'s posts between ``lo`` and ``hi`` not known to be deleted."""
        return store.live_post_nums(self.db, channel, lo, hi)

    def pending_checks(self, channel: str, limit: int) -> list[int]:
        """``channel``'s missing posts no check has decided yet, the longest missing first."""
        return store.pending_deletion_checks(self.db, channel, limit=limit)

    def known_media(self, channel: str, post_ids: list[str], urls: list[str]) -> MediaKnown:
        """What of these posts' media and of these URLs the archive holds already."""
        return store.known_media(self.db, channel, post_ids, urls)
