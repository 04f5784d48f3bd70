"""The change events as people read them: a page at a time, a channel's first crawl in one line.

A channel's first crawl finds every post the channel has, and each is a
``new`` event (:mod:`.changes`): listed one by one, the 48 posts of a
channel's history bury the edits and deletions found since. A list for
people (``chanarchive changes`` as text, the pages of ``serve``) shows them
as one item per channel, a :class:`FirstCrawl` ("48 posts archived on
2026-12-02"), at the time of the last page that crawl fetched; later ``new`` events are
listed one by one. Records and feeds (``--format jsonl``, Atom) keep every
event.

A list is read a page at a time, newest first. Where the next page starts
is a :class:`Cursor`: a time, and how many items of that very time the
pages before have shown (a crawl's page gives all its posts one capture
time, so a time alone would cut a page's events in two). Written out it is
``2026-12-02T10:00:04.000000+00:00~3``; a bare time means "strictly before
it".
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass, replace
from typing import Any

from ..errors import BadInput
from ..times import parse_time
from .changes import FIRST_CRAWL, NEW, Change, ChangeScope, change_from_row, change_query

#: What a summary of a first crawl is called where a kind of change would stand.
ARCHIVED = "archived"


@dataclass(frozen=True)
class FirstCrawl:
    """The posts a channel's first crawl archived, as one item of a list."""

    channel: str
    at: str  # when that crawl fetched the channel's last page it archived
    posts: int
    crawl_id: int
    kind: str = ARCHIVED

    @property
    def day(self) -> str:
        return self.at[:10]

    def summary(self) -> str:
        """``48 posts archived on 2026-12-02 (the channel's first crawl)``."""
        noun = "post" if self.posts == 1 else "posts"
        return f"{self.posts} {noun} archived on {self.day} (the channel's first crawl)"

    def record(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "at": self.at,
            "channel": self.channel,
            "posts": self.posts,
            "crawl_id": self.crawl_id,
        }


Item = Change | FirstCrawl


@dataclass(frozen=True)
class Cursor:
    """Where a page of a list starts: items older than ``at``, or, with ``shown``,
    items at ``at`` after the first ``shown`` of them, then older ones."""

    at: str
    shown: int | None = None

    def __str__(self) -> str:
        return f"{self.at}~{self.shown}" if self.shown else self.at


_CURSOR = re.compile(r"(?P<at>.+?)(?:~(?P<shown>\d{1,9}))?")


def parse_cursor(text: str, *, option: str = "--before") -> Cursor:
    """A :class:`Cursor` from its text: ``TIME`` or ``TIME~N``; :class:`BadInput` otherwise."""
    found = _CURSOR.fullmatch((text or "").strip())
    try:
        if found is None:
            raise BadInput("no time")
        at = parse_time(found["at"], option=option)
    except BadInput:
        raise BadInput(
            f"bad {option} {text!r}: give a time (ISO 8601), or the cursor a page printed"
        ) from None
    shown = int(found["shown"]) if found["shown"] else None
    return Cursor(at, shown or None)


@dataclass(frozen=True)
class ChangeList:
    """One page of a list: its items, newest first, and where the next page starts (or None)."""

    items: list[Item]
    more: Cursor | None


def first_crawls(conn: sqlite3.Connection, scope: ChangeScope) -> list[tuple[str, int, str]]:
    """(channel, crawl id, time) of each channel's first crawl in ``scope``, newest first."""
    where, params = ["1"], {}
    if scope.channels:
        marks = []
        for i, name in enumerate(scope.channels):
            params[f"ch{i}"] = name
            marks.append(f":ch{i}")
        where.append(f"ch.name IN ({', '.join(marks)})")
    rows = conn.execute(
        "SELECT f.name, f.crawl, (SELECT MAX(s.fetched_at) FROM snapshots s"
        " WHERE s.crawl_id = f.crawl AND s.channel_id = f.id)"
        f" FROM (SELECT ch.id AS id, ch.name AS name, {FIRST_CRAWL} AS crawl FROM channels ch"
        f" WHERE {' AND '.join(where)}) f WHERE f.crawl IS NOT NULL",
        params,
    ).fetchall()
    found = []
    for name, crawl_id, at in rows:
        if not isinstance(at, str) or not isinstance(crawl_id, int) or not _in_window(at, scope):
            continue
        found.append((name, crawl_id, at))
    return sorted(found, key=lambda f: (f[2], f[0]), reverse=True)


def _in_window(at: str, scope: ChangeScope) -> bool:
    if scope.since is not None and at < scope.since:
        return False
    if scope.after is not None and at <= scope.after:
        return False
    if scope.until is not None and at > scope.until:
        return False
    return scope.before is None or at < scope.before


def first_crawl_posts(conn: sqlite3.Connection, channel: str, crawl_id: int) -> int:
    """How many of ``channel``'s posts its first crawl (``crawl_id``) archived: exactly the
    ``new`` events ``ChangeScope(first_crawls=False)`` leaves out.

    Read through the capture times of that crawl's pages (each version's
    ``captured_at`` is its page's), so only the versions of that crawl's
    time span are looked at.
    """
    lo, hi = conn.execute(
        "SELECT MIN(fetched_at), MAX(fetched_at) FROM snapshots WHERE crawl_id = ?", [crawl_id]
    ).fetchone()
    if lo is None:
        return 0
    return conn.execute(
        "SELECT COUNT(*) FROM post_versions v JOIN posts p ON p.id = v.post"
        " JOIN channels ch ON ch.id = p.channel_id"
        " JOIN snapshots s ON s.id = v.snapshot"
        " WHERE v.captured_at BETWEEN ? AND ? AND v.version = 1 AND ch.name = ?"
        " AND s.crawl_id = ?",
        [lo, hi, channel, crawl_id],
    ).fetchone()[0]


def iter_items(
    conn: sqlite3.Connection,
    scope: ChangeScope,
    *,
    summarise: bool = True,
    row: Callable[[tuple[Any, ...]], Change] = change_from_row,
    counts: MutableMapping[tuple[int, str], int] | None = None,
) -> Iterator[Item]:
    """The change events of ``scope``, newest first, each channel's first crawl summarised
    (with ``summarise``) as one :class:`FirstCrawl` at its time.

    ``row`` turns a row of :func:`~.changes.change_query` into a Change (a
    page bounds its values on the way); ``counts`` may keep the number of
    posts of each first crawl between calls (a finished crawl's never changes).
    """
    scope = scope.normalized()
    summaries: list[tuple[str, int, str]] = []
    if summarise and NEW in scope.kinds:
        summaries = first_crawls(conn, scope)
    sql, params = change_query(replace(scope, first_crawls=not summarise))
    cursor = conn.execute(sql, params)
    try:
        for found in cursor:
            change = row(found)
            while summaries and summaries[0][2] > (change.at or ""):
                summary = _summary(conn, *summaries.pop(0), counts)
                if summary is not None:
                    yield summary
            yield change
    finally:
        cursor.close()
    for found in summaries:
        summary = _summary(conn, *found, counts)
        if summary is not None:
            yield summary


def _summary(
    conn: sqlite3.Connection,
    channel: str,
    crawl_id: int,
    at: str,
    counts: MutableMapping[tuple[int, str], int] | None,
) -> FirstCrawl | None:
    key = (crawl_id, at)
    posts = counts.get(key) if counts is not None else None
    if posts is None:
        posts = first_crawl_posts(conn, channel, crawl_id)
        if counts is not None:
            counts[key] = posts
    return FirstCrawl(channel, at, posts, crawl_id) if posts else None


def list_changes(
    conn: sqlite3.Connection,
    scope: ChangeScope,
    *,
    limit: int,
    before: Cursor | None = None,
    summarise: bool = True,
    row: Callable[[tuple[Any, ...]], Change] = change_from_row,
    counts: MutableMapping[tuple[int, str], int] | None = None,
) -> ChangeList:
    """One page of at most ``limit`` items of :func:`iter_items`, starting at ``before``."""
    if limit < 1:
        raise BadInput("--limit must be at least 1")
    scope = scope.normalized()
    skip = 0
    if before is not None and before.shown is None:
        scope = replace(scope, before=min(filter(None, (scope.before, before.at))))
    elif before is not None:
        scope = replace(scope, until=min(filter(None, (scope.until, before.at))))
        skip = before.shown or 0
    # Enough events for the page, the ones skipped, and one to tell whether there is more.
    scope = replace(scope, limit=limit + skip + 1)
    items: list[Item] = []
    more = False
    for item in iter_items(conn, scope, summarise=summarise, row=row, counts=counts):
        if skip and before is not None and item.at == before.at:
            skip -= 1
            continue
        skip = 0
        if len(items) == limit:
            more = True
            break
        items.append(item)
    if not more or not items:
        return ChangeList(items, None)
    last = items[-1].at
    if not isinstance(last, str):  # a hostile row's time: no place to go on from
        return ChangeList(items, None)
    shown = sum(1 for item in items if item.at == last)
    if before is not None and before.shown and last == before.at:
        shown += before.shown
    return ChangeList(items, Cursor(last, shown))
