"""Coverage gaps: which message ids of a Telegram channel the archive holds, and which it lacks.

For each channel: the id ranges archived in full (the ``coverage`` table, what
the crawls walked), the *holes* no crawl has walked yet (below the lowest
range unless it reaches the channel's start, and between ranges: up to the
newest id known), the ids inside the archived ranges that no page showed
(deleted before the first crawl, or never a message), the posts confirmed
deleted, those missing from the listing but not yet decided, those missing
but shown alive by their embed (hidden), and the ``?before=`` pages whose
walk fills each hole (``crawl --fill-gaps`` fetches exactly those).

Plain reads on a read-only connection; nothing here writes.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit, urlunsplit

from ..errors import BadInput
from ..models import CHECK_ALIVE, KIND_TELEGRAM, uncovered_ranges
from ..source import channel_key

#: How many messages a t.me/s page shows, to estimate the pages a hole takes.
PAGE_MESSAGES = 20

Ranges = list[tuple[int, int]]


@dataclass(frozen=True)
class FillPage:
    """The first page of the walk that fills one hole: ``?before=`` the hole's top + 1."""

    hole: tuple[int, int]
    before: int
    url: str | None  # None when the channel's source URL is unknown
    pages: int  # about how many pages the walk takes (a page shows about 20 messages)


@dataclass(frozen=True)
class ChannelGaps:
    """One Telegram channel's coverage, holes and losses (every list as id ranges)."""

    channel: str
    source_url: str | None
    newest_id: int | None
    archived: Ranges
    holes: Ranges  # never walked: the pages below fill them
    never_seen: Ranges  # inside the archived ranges, shown by no page
    deleted: Ranges  # confirmed by the post's embed ("Post not found")
    missing: Ranges  # left the listing, no look has decided yet
    hidden: Ranges  # left the listing, but the embed still shows the post
    pages: list[FillPage]

    def ids(self, what: str) -> int:
        """How many ids one of the range lists holds."""
        return sum(hi - lo + 1 for lo, hi in getattr(self, what))

    def to_record(self) -> dict:
        return {
            "channel": self.channel,
            "source_url": self.source_url,
            "newest_id": self.newest_id,
            **{
                what: [list(r) for r in getattr(self, what)]
                for what in ("archived", "holes", "never_seen", "deleted", "missing", "hidden")
            },
            "pages": [
                {"before": p.before, "url": p.url, "hole": list(p.hole), "pages": p.pages}
                for p in self.pages
            ],
        }


def as_ranges(numbers: list[int]) -> Ranges:
    """Sorted numbers as runs of consecutive ones."""
    runs: Ranges = []
    for n in sorted(set(numbers)):
        if runs and n == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], n)
        else:
            runs.append((n, n))
    return runs


def page_url(source_url: str | None, before: int) -> str | None:
    """The channel page that shows the messages just older than ``before``."""
    if not source_url:
        return None
    parts = urlsplit(source_url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode({"before": before}), ""))


def _within(numbers: list[int], ranges: Ranges) -> Ranges:
    """The ids inside ``ranges`` that are not among ``numbers`` (sorted), as ranges."""
    absent: Ranges = []
    present = sorted(numbers)
    i = 0
    for lo, hi in ranges:
        nxt = lo
        while i < len(present) and present[i] < lo:
            i += 1
        while i < len(present) and present[i] <= hi:
            if present[i] > nxt:
                absent.append((nxt, present[i] - 1))
            nxt = max(nxt, present[i] + 1)
            i += 1
        if nxt <= hi:
            absent.append((nxt, hi))
    return absent


def fill_pages(holes: Ranges, source_url: str | None) -> list[FillPage]:
    """The first ``?before=`` page of the walk down through each hole, newest first."""
    return [
        FillPage(
            hole=(lo, hi),
            before=hi + 1,
            url=page_url(source_url, hi + 1),
            pages=-(-(hi - lo + 1) // PAGE_MESSAGES),
        )
        for lo, hi in sorted(holes, reverse=True)
    ]


def channel_gaps(conn: sqlite3.Connection, name: str) -> ChannelGaps:
    """The gaps of Telegram channel ``name``; :class:`BadInput` when the archive lacks it."""
    row = conn.execute(
        "SELECT id, name, kind, source_url FROM channels WHERE name = ?", [channel_key(name)]
    ).fetchone()
    if row is None:
        raise BadInput(f"no channel {name!r} in the archive (see: chanarchive query"
                       " \"SELECT name FROM channels\")")  # fmt: skip
    channel_id, key, kind, source_url = row
    if kind != KIND_TELEGRAM:
        raise BadInput(f"{key} is a web channel: gaps reads Telegram message ids only")
    archived = [
        (lo, hi)
        for lo, hi in conn.execute(
            "SELECT lo, hi FROM coverage WHERE channel_id = ? ORDER BY lo", [channel_id]
        )
    ]
    posts = conn.execute(
        "SELECT p.post_num, p.deleted_at IS NOT NULL, p.missing_since IS NOT NULL,"
        " EXISTS (SELECT 1 FROM deletion_checks d WHERE d.post = p.id AND d.outcome = ?"
        " AND d.checked_at >= p.missing_since)"
        " FROM posts p WHERE p.channel_id = ? AND p.post_num IS NOT NULL",
        [CHECK_ALIVE, channel_id],
    ).fetchall()
    deleted = [n for n, gone, _m, _a in posts if gone]
    missing = [n for n, gone, miss, alive in posts if miss and not gone and not alive]
    hidden = [n for n, gone, miss, alive in posts if miss and not gone and alive]
    holes = uncovered_ranges(archived)
    highest = [hi for _lo, hi in archived] + [n for n, *_ in posts]
    base = source_url.split("?", 1)[0] if source_url else None
    return ChannelGaps(
        channel=key,
        source_url=base,
        newest_id=max(highest) if highest else None,
        archived=archived,
        holes=holes,
        never_seen=_within([n for n, *_ in posts], archived),
        deleted=as_ranges(deleted),
        missing=as_ranges(missing),
        hidden=as_ranges(hidden),
        pages=fill_pages(holes, base),
    )


def telegram_channels(conn: sqlite3.Connection) -> list[str]:
    """Every Telegram channel of the archive, by name."""
    return [
        name
        for (name,) in conn.execute(
            "SELECT name FROM channels WHERE kind = ? ORDER BY name", [KIND_TELEGRAM]
        )
    ]


def archive_gaps(conn: sqlite3.Connection, names: list[str] | None = None) -> list[ChannelGaps]:
    """The gaps of the channels named (default: every Telegram channel), in that order."""
    return [channel_gaps(conn, name) for name in (names or telegram_channels(conn))]
