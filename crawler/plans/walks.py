"""Where a crawl goes next: the pagination walks the spider follows.

:class:`TelegramWalk`: a t.me/s page shows about twenty messages; ``?before=N``
shows the ones just older than N. The walk decides, page after page, the next
``before`` to ask for: it follows the page's "older" link, or the lowest id
seen when the link is missing (t.me drops it under load), and, unless the
walk is ``full``, jumps over id ranges the archive already holds in full
and stops when nothing older is missing.

:class:`WebWalk`: which links of a web (mirror) page a crawl follows. Only
same-host links whose URL matches ``--follow`` are followed, up to
``--depth`` hops from the start page; each URL is fetched once per crawl.
"""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import urldefrag, urlsplit

from archive.models import Page, post_number
from archive.times import to_datetime


def older_than(page: Page, since: datetime | None) -> bool:
    """Whether ``page`` shows a post published before ``since`` (never, without ``since``)."""
    if since is None:
        return False
    return any((when := to_datetime(p.published_at)) and when < since for p in page.posts)


def merge_ranges(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Merge overlapping or adjacent inclusive id ranges."""
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


class TelegramWalk:
    """The pagination state of one channel's crawl."""

    def __init__(
        self,
        covered: list[tuple[int, int]] | None = None,
        *,
        full: bool = False,
        since: str | None = None,
    ):
        self.full = full
        #: ``crawl --since``: no page is asked for below one with a post older than this.
        self.since = to_datetime(since) if since else None
        self.reached_since = False
        self.covered = merge_ranges(list(covered or []))
        self.pages = 0
        self.reached_start = False
        self.stalled = False
        #: The page asked for now lies below a short page that had no "older" link.
        self.probing = False
        #: The last page read proved that no message of the channel is older than it shows
        #: (its lowest id; an empty page: its ``before``).
        self.start_page = False
        self.fullest = 0  # the most messages a page of this walk showed

    def _covering(self, message_id: int) -> tuple[int, int] | None:
        for lo, hi in self.covered:
            if lo <= message_id <= hi:
                return lo, hi
        return None

    def next_before(self, page: Page) -> int | None:
        """The ``before`` of the next page to fetch, or None when the walk is over.

        Sets :attr:`start_page` when the page proves that no message of the
        channel is older than it shows, whichever way t.me shows the start: the
        empty page below the first post (the channel header, no message, not
        Telegram's throttled answer), nothing but throttling below a short page
        without its "older" link (:attr:`probing`), the message with id 1, or
        the "Channel created" service message. The archive then remembers that
        the start was reached (its coverage goes down to 1), and no later crawl
        asks for anything below it again.
        """
        self.pages += 1
        self.start_page = False
        probing, self.probing = self.probing, False
        ids = [n for p in page.posts if (n := post_number(p.post_id)) is not None]
        if not ids and probing and page.before is not None:
            # Below a short page without an "older" link nothing answers, not even
            # after the throttling retries: the channel starts here. (Under load t.me
            # drops the link from full pages too, so its absence alone proves nothing.)
            self.start_page = self.reached_start = True
            return None
        if page.throttled:
            return None
        if not ids:
            # An empty answer that is not throttling (the channel header, no message, no
            # tme_no_messages_found): what t.me shows below a channel's first post.
            self.start_page = self.reached_start = page.before is not None
            return None
        lowest = min(ids)
        if page.shows_creation():
            # The "Channel created" service message: nothing is older, whatever its id.
            self.covered = merge_ranges([*self.covered, page.covered_range(start=True)])
            self.start_page = self.reached_start = True
            return None
        if page.before is not None and lowest >= page.before:
            # The server ignored ?before= (a static copy, a proxy): going on would loop.
            self.stalled = True
            return None
        nxt = min(lowest, page.older) if page.older else lowest
        if not self.full:
            while (span := self._covering(nxt - 1)) is not None:
                nxt = span[0]
        self.covered = merge_ranges([*self.covered, page.covered_range()])
        if older_than(page, self.since):
            self.reached_since = True
            return None
        if lowest <= 1:
            # The first message (id 1) is on the page: nothing is older.
            self.start_page = self.reached_start = True
            return None
        if nxt <= 1:
            self.reached_start = True  # the archive holds everything below: a known start
            return None
        short = len(ids) < self.fullest
        self.fullest = max(self.fullest, len(ids))
        self.probing = page.older is None and nxt == lowest and short
        return nxt


class WebWalk:
    def __init__(self, start_url: str, *, depth: int = 1, follow: str | None = None):
        self.host = urlsplit(start_url).netloc.lower()
        self.depth = depth
        self.follow = re.compile(follow) if follow else None
        self.seen: set[str] = {urldefrag(start_url)[0]}

    def claim(self, url: str) -> bool:
        """Mark ``url`` as fetched in this crawl; False when it already was."""
        url = urldefrag(url)[0]
        if url in self.seen:
            return False
        self.seen.add(url)
        return True

    def links_to_follow(self, links: list[str], depth: int) -> list[str]:
        """The links of a page at ``depth`` hops that the crawl should fetch next."""
        if self.follow is None or depth >= self.depth:
            return []
        chosen = []
        for link in links:
            url = urldefrag(link)[0]
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or parts.netloc.lower() != self.host:
                continue
            if url in self.seen or not self.follow.search(url):
                continue
            self.seen.add(url)
            chosen.append(url)
        return chosen
