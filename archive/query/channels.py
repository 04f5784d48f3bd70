"""Each channel at a glance: what it holds, what changed in it day by day, how its crawls went.

The pages of ``chanarchive serve`` are drawn from these (the home page's
channel list, a channel's activity chart and its crawls); they are plain
reads, usable on any read-only connection.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from ..source import channel_key


@dataclass(frozen=True)
class ChannelSummary:
    """One channel with its counts."""

    name: str
    kind: str
    title: str | None
    description: str | None
    source_url: str | None
    subscribers: int | None
    first_seen: str | None
    last_crawled: str | None
    posts: int  # every post archived, deleted ones included
    deleted: int  # posts gone now
    edits: int  # versions after the first: each edit found
    deletions: int  # each time a post was found gone
    last_crawl_status: str | None
    last_crawl_at: str | None  # when the last crawl started


_SUMMARY = (
    "SELECT ch.name, ch.kind, ch.title, ch.description, ch.source_url, ch.subscribers,"
    " ch.first_seen, ch.last_crawled,"
    " (SELECT COUNT(*) FROM posts p WHERE p.channel_id = ch.id),"
    " (SELECT COUNT(*) FROM posts p WHERE p.channel_id = ch.id AND p.deleted_at IS NOT NULL),"
    " (SELECT COALESCE(SUM(p.current_version - 1), 0) FROM posts p"
    " WHERE p.channel_id = ch.id AND p.current_version > 1),"
    " (SELECT COUNT(*) FROM post_deletions d JOIN posts p ON p.id = d.post"
    " WHERE p.channel_id = ch.id),"
    " (SELECT c.status FROM crawls c WHERE c.channel_id = ch.id"
    " ORDER BY c.started_at DESC, c.id DESC LIMIT 1),"
    " (SELECT MAX(c.started_at) FROM crawls c WHERE c.channel_id = ch.id)"
    " FROM channels ch"
)


def channel_summaries(conn: sqlite3.Connection) -> list[ChannelSummary]:
    """Every channel with its counts, the most recently crawled first."""
    rows = conn.execute(
        _SUMMARY + " ORDER BY COALESCE(ch.last_crawled, ch.first_seen) DESC, ch.name"
    ).fetchall()
    return [ChannelSummary(*row) for row in rows]


def channel_summary(conn: sqlite3.Connection, name: str) -> ChannelSummary | None:
    """The channel called ``name`` (any spelling: ``@Durov`` is ``durov``), or None."""
    row = conn.execute(_SUMMARY + " WHERE ch.name = ?", [channel_key(name)]).fetchone()
    return ChannelSummary(*row) if row else None


@dataclass(frozen=True)
class DayActivity:
    """What happened in a channel on one day (UTC dates; a post's day is its own date)."""

    day: str  # YYYY-MM-DD
    posts: int  # posts published that day (first seen, when the page gave no date)
    edits: int  # edits found that day
    deletions: int  # deletions found that day


def daily_activity(conn: sqlite3.Connection, name: str) -> list[DayActivity]:
    """The channel's days with any activity, oldest first (days with none are left out)."""
    rows = conn.execute(
        "WITH ch AS (SELECT id FROM channels WHERE name = :name),"
        " events(day, kind) AS ("
        " SELECT substr(COALESCE(p.published_at, p.first_seen), 1, 10), 'post'"
        " FROM posts p WHERE p.channel_id = (SELECT id FROM ch)"
        " UNION ALL SELECT substr(v.captured_at, 1, 10), 'edit'"
        " FROM post_versions v JOIN posts p ON p.id = v.post"
        " WHERE p.channel_id = (SELECT id FROM ch) AND v.version > 1"
        " UNION ALL SELECT substr(d.deleted_at, 1, 10), 'deletion'"
        " FROM post_deletions d JOIN posts p ON p.id = d.post"
        " WHERE p.channel_id = (SELECT id FROM ch))"
        " SELECT day, SUM(kind = 'post'), SUM(kind = 'edit'), SUM(kind = 'deletion')"
        " FROM events WHERE day GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'"
        " GROUP BY day ORDER BY day",
        {"name": channel_key(name)},
    ).fetchall()
    return [DayActivity(*row) for row in rows]


@dataclass(frozen=True)
class CrawlErrorRow:
    """One row of ``crawl_errors``: why one fetch or parse of a crawl failed (a record, not an exception)."""

    at: str | None
    kind: str | None
    url: str | None
    message: str | None


@dataclass(frozen=True)
class CrawlRun:
    """One crawl of a channel and how it went."""

    id: int
    source: str | None
    trigger: str | None
    status: str | None
    started_at: str | None
    finished_at: str | None
    pages: int
    posts_new: int
    posts_changed: int
    posts_deleted: int
    errors: int
    reason: str | None
    error_list: tuple[CrawlErrorRow, ...] = field(default=())


def channel_crawls(
    conn: sqlite3.Connection, name: str, *, limit: int = 20, errors_each: int = 5
) -> list[CrawlRun]:
    """The channel's latest crawls, newest first, each with its first ``errors_each`` errors.

    A crawl that failed before it reached a page has no channel yet: a
    Telegram channel's crawls are also found by their source, ``@name``.
    """
    key = channel_key(name)
    rows = conn.execute(
        "SELECT c.id, c.source, c.trigger, c.status, c.started_at, c.finished_at,"
        " COALESCE(c.pages, 0), COALESCE(c.posts_new, 0), COALESCE(c.posts_changed, 0),"
        " COALESCE(c.posts_deleted, 0), COALESCE(c.errors, 0), c.reason"
        " FROM crawls c WHERE c.channel_id = (SELECT id FROM channels WHERE name = :name)"
        " OR (c.channel_id IS NULL AND c.source = '@' || :name)"
        " ORDER BY c.started_at DESC, c.id DESC LIMIT :limit",
        {"name": key, "limit": limit},
    ).fetchall()
    runs = []
    for row in rows:
        errors = tuple(
            CrawlErrorRow(*e)
            for e in conn.execute(
                "SELECT at, kind, url, message FROM crawl_errors WHERE crawl_id = ?"
                " ORDER BY id LIMIT ?",
                [row[0], errors_each],
            )
        )
        runs.append(CrawlRun(*row, error_list=errors))
    return runs
