"""The archive's change events: posts new, edited, deleted and undeleted, newest first.

Everything that tells a person what changed reads this module: ``chanarchive
changes``, the Atom change feed (:func:`archive.export.atom.write_change_feed`),
the pages of ``chanarchive serve`` and the scheduler's notifications.

The events are derived from what the write path already keeps, so every
archive has them, back to its first crawl:

- **new**: a post's first version (``post_versions.version = 1``), at its
  capture time;
- **edited**: every later version, at its capture time, with the word diff
  from the version before (:func:`archive.query.history.word_segments`:
  Latin words are units, every CJK character is one);
- **deleted**: every time a crawl confirmed the post gone (``post_deletions``:
  its embed said "Post not found", or a web post's page answered 404 / 410;
  a post only missing from its listing is no event);
- **undeleted**: every time a later crawl saw it again (``restored_at``).

A channel's first crawl finds every post it has at once: a list for people
(:mod:`.changelist`) summarises those ``new`` events in one line per channel
(``ChangeScope(first_crawls=False)`` leaves them out here); records, feeds
and notifications keep every event.

An event's time is the ``fetched_at`` of the page that showed the change
(for a Telegram deletion, of the embed that confirmed it),
which is never earlier than the start of the crawl that fetched it (the
scheduler's notifications rely on that to keep a watermark).
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import BadInput
from ..source import channel_key
from ..times import parse_time
from .history import ADDED, REMOVED, word_segments
from .search import SearchQuery

NEW, EDITED, DELETED, UNDELETED = "new", "edited", "deleted", "undeleted"
#: Every kind of change event.
KINDS = (NEW, EDITED, DELETED, UNDELETED)
#: The kinds a query picks among (:func:`iter_matching`): the posts with new text.
MATCHED_KINDS = (NEW, EDITED)


def parse_kinds(text: str | None) -> tuple[str, ...]:
    """The kinds named in ``text`` (``edited,deleted``), in :data:`KINDS` order; all when empty.

    Raises :class:`BadInput` naming an unknown kind.
    """
    asked = [k.strip().lower() for k in (text or "").split(",") if k.strip()]
    unknown = [k for k in asked if k not in KINDS]
    if unknown:
        raise BadInput(f"unknown kind of change {unknown[0]!r}: give some of {', '.join(KINDS)}")
    return tuple(k for k in KINDS if k in asked) if asked else KINDS


@dataclass(frozen=True)
class ChangeScope:
    """Which change events to read (times in any ISO 8601 form; see :meth:`normalized`)."""

    channels: tuple[str, ...] = ()  # empty: every channel
    since: str | None = None  # events at or after this time
    after: str | None = None  # events strictly after this time (a watermark)
    until: str | None = None  # events at or before this time
    before: str | None = None  # events strictly before this time
    kinds: tuple[str, ...] = KINDS
    limit: int | None = None
    #: False: leave out the ``new`` events of each channel's first crawl (summarised apart).
    first_crawls: bool = True

    def normalized(self) -> ChangeScope:
        """Channel names as the archive spells them; times in the archive's UTC form."""
        return replace(
            self,
            channels=tuple(channel_key(c) for c in self.channels),
            since=parse_time(self.since, option="--since") if self.since else None,
            after=parse_time(self.after, option="after") if self.after else None,
            until=parse_time(self.until, option="until") if self.until else None,
            before=parse_time(self.before, option="--before") if self.before else None,
        )


@dataclass(frozen=True)
class Change:
    """One change event of one post."""

    kind: str  # new, edited, deleted, undeleted
    at: str  # when the archive saw it (ISO 8601 UTC)
    channel: str
    post_id: str
    url: str | None
    version: int | None  # new: 1; edited: the version it made; else the current one
    text: str  # the post's text after the change (deleted: the text it had)
    title: str | None = None
    #: edited: the word diff from the version before, as (kind, text) runs.
    segments: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    #: Read with a query (:func:`iter_matching`): the post's words that matched it.
    matched: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """``channel/post_id``, the short name ``history`` and ``diff`` take."""
        return f"{self.channel}/{self.post_id}"

    @property
    def removed(self) -> list[str]:
        """Edited: the runs of words taken out (blank runs left out)."""
        return [text.strip() for kind, text in self.segments if kind == REMOVED and text.strip()]

    @property
    def added(self) -> list[str]:
        """Edited: the runs of words put in (blank runs left out)."""
        return [text.strip() for kind, text in self.segments if kind == ADDED and text.strip()]

    def excerpt(self, context: int | None = None) -> list[tuple[str, str]]:
        """Edited: the word diff runs, unchanged stretches cut to ``context`` characters on
        the side of each change (``…`` marks a cut); all of them with ``context`` None."""
        runs = list(self.segments)
        return [
            (kind, _cut(text, context, first=i == 0, last=i == len(runs) - 1))
            if kind not in (REMOVED, ADDED)
            else (kind, text)
            for i, (kind, text) in enumerate(runs)
        ]

    def marked(
        self,
        marks: tuple[str, str, str, str] = ("[-", "-]", "{+", "+}"),
        *,
        context: int | None = None,
    ) -> str:
        """Edited: the new text with removed runs ``[-…-]`` and added runs ``{+…+}``
        (``context``: see :meth:`excerpt`)."""
        out = []
        for kind, text in self.excerpt(context):
            if kind == REMOVED:
                out.append(marks[0] + text + marks[1])
            elif kind == ADDED:
                out.append(marks[2] + text + marks[3])
            else:
                out.append(text)
        return "".join(out)

    def record(self) -> dict[str, Any]:
        """A JSON-ready record (``changes --format jsonl``)."""
        return {
            "kind": self.kind,
            "at": self.at,
            "channel": self.channel,
            "post_id": self.post_id,
            "url": self.url,
            "version": self.version,
            "title": self.title,
            "text": self.text,
            "removed": self.removed if self.kind == EDITED else None,
            "added": self.added if self.kind == EDITED else None,
            "diff": self.marked() if self.kind == EDITED else None,
            **({"matched": list(self.matched)} if self.matched else {}),
        }


def _cut(text: str, context: int | None, *, first: bool, last: bool) -> str:
    """Unchanged text around changes, cut to ``context`` characters on the side of each change."""
    if context is None:
        return text
    head = 0 if first else context  # the end of the change before it
    tail = 0 if last else context  # the start of the change after it
    if first and last:  # no change at all: the start of the text
        head = 2 * context
    if len(text) <= head + tail + 1:
        return text
    return text[:head] + "…" + (text[len(text) - tail :] if tail else "")


# Each branch gives: kind, at, post (posts.id), version, text, title, previous text and title.
# "{where}" is filled with the scope's conditions on the branch's time column (the second).
_BRANCHES: dict[str, tuple[str, str]] = {
    NEW: (
        "v.captured_at",
        "SELECT 'new' AS kind, v.captured_at AS at, v.post AS post, v.version AS version,"
        " v.text AS text, v.title AS title, NULL AS prev_text, NULL AS prev_title"
        " FROM post_versions v JOIN posts p ON p.id = v.post"
        " JOIN channels ch ON ch.id = p.channel_id"
        " WHERE v.version = 1 AND {where}",
    ),
    EDITED: (
        "v.captured_at",
        "SELECT 'edited', v.captured_at, v.post, v.version, v.text, v.title, pv.text, pv.title"
        " FROM post_versions v JOIN post_versions pv ON pv.post = v.post"
        " AND pv.version = v.version - 1"
        " JOIN posts p ON p.id = v.post JOIN channels ch ON ch.id = p.channel_id"
        " WHERE v.version > 1 AND {where}",
    ),
    DELETED: (
        "d.deleted_at",
        "SELECT 'deleted', d.deleted_at, d.post, cv.version, cv.text, cv.title, NULL, NULL"
        " FROM post_deletions d JOIN posts p ON p.id = d.post"
        " JOIN channels ch ON ch.id = p.channel_id"
        # The version the post had when it was found gone.
        " LEFT JOIN post_versions cv ON cv.post = d.post AND cv.version = ("
        "SELECT MAX(x.version) FROM post_versions x"
        " WHERE x.post = d.post AND x.captured_at <= d.deleted_at)"
        " WHERE {where}",
    ),
    UNDELETED: (
        "d.restored_at",
        "SELECT 'undeleted', d.restored_at, d.post, p.current_version, p.text, p.title,"
        " NULL, NULL"
        " FROM post_deletions d JOIN posts p ON p.id = d.post"
        " JOIN channels ch ON ch.id = p.channel_id"
        " WHERE d.restored_at IS NOT NULL AND {where}",
    ),
}

#: The crawl that first showed a channel ``ch`` (the crawl of the page it was first seen on).
FIRST_CRAWL = (
    "(SELECT s0.crawl_id FROM snapshots s0 WHERE s0.fetched_at = ch.first_seen"
    " AND s0.channel_id = ch.id ORDER BY s0.id LIMIT 1)"
)
#: A ``new`` event (version ``v`` of a post of channel ``ch``) that the channel's first crawl
#: made. The captures of every channel's first crawl are listed once (not per event), so
#: leaving a first crawl's 100,000 posts out costs a lookup each.
_IN_FIRST_CRAWL = (
    "(v.snapshot, ch.id) IN (SELECT s.id, s.channel_id FROM channels ch"
    f" JOIN snapshots s ON s.channel_id = ch.id AND s.crawl_id = {FIRST_CRAWL})"
)

#: Among events of one post at one time, the order newest-first lists them in.
_KIND_ORDER = (
    "CASE e.kind WHEN 'undeleted' THEN 0 WHEN 'edited' THEN 1 WHEN 'deleted' THEN 2 ELSE 3 END"
)


def change_query(scope: ChangeScope) -> tuple[str, dict[str, Any]]:
    """The SQL (and its parameters) whose rows are the change events of ``scope``, newest first."""
    scope = scope.normalized()
    params: dict[str, Any] = {}
    names = []
    for i, name in enumerate(scope.channels):
        params[f"ch{i}"] = name
        names.append(f":ch{i}")

    def where(column: str) -> str:
        terms = ["1"]
        if names:
            terms.append(f"ch.name IN ({', '.join(names)})")
        if scope.since is not None:
            terms.append(f"{column} >= :since")
            params["since"] = scope.since
        if scope.after is not None:
            terms.append(f"{column} > :after")
            params["after"] = scope.after
        if scope.until is not None:
            terms.append(f"{column} <= :until")
            params["until"] = scope.until
        if scope.before is not None:
            terms.append(f"{column} < :before")
            params["before"] = scope.before
        return " AND ".join(terms)

    branches = []
    for kind in KINDS:
        if kind not in scope.kinds:
            continue
        column, template = _BRANCHES[kind]
        branch = template.replace("{where}", where(column))
        if kind == NEW and not scope.first_crawls:
            branch += f" AND NOT {_IN_FIRST_CRAWL}"
        if scope.limit is not None:
            # Each kind's newest first, in the final order: the top of each is all the
            # outer query needs, and the time index finds it without reading every version.
            branch = (
                f"SELECT * FROM ({branch} ORDER BY {column} DESC, ch.name,"
                " p.post_num DESC, p.post_id DESC LIMIT :limit)"
            )
        branches.append(branch)
    if not branches:
        raise ValueError("no kinds of change asked for")
    sql = (
        # The columns named once for every branch (a branch's own names would be the first's).
        "WITH e(kind, at, post, version, text, title, prev_text, prev_title) AS ("
        f"{' UNION ALL '.join(branches)})"
        " SELECT e.kind, e.at, ch.name, p.post_id, p.url, e.version, e.text, e.title,"
        " e.prev_text, e.prev_title"
        " FROM e JOIN posts p ON p.id = e.post JOIN channels ch ON ch.id = p.channel_id"
        f" ORDER BY e.at DESC, ch.name, p.post_num DESC, p.post_id DESC, {_KIND_ORDER}"
    )
    if scope.limit is not None:
        sql += " LIMIT :limit"
        params["limit"] = max(0, int(scope.limit))
    return sql, params


def _document(title: str | None, text: str | None, with_title: bool) -> str:
    return f"{title or ''}\n\n{text or ''}" if with_title else (text or "")


def change_from_row(row: tuple[Any, ...]) -> Change:
    """A :class:`Change` from one row of :func:`change_query`."""
    kind, at, channel, post_id, url, version, text, title, prev_text, prev_title = row
    segments: tuple[tuple[str, str], ...] = ()
    if kind == EDITED:
        with_title = bool(title or prev_title) and title != prev_title
        segments = tuple(
            word_segments(
                _document(prev_title, prev_text, with_title), _document(title, text, with_title)
            )
        )
    return Change(
        kind=kind,
        at=at,
        channel=channel,
        post_id=post_id,
        url=url,
        version=version,
        text=text or "",
        title=title,
        segments=segments,
    )


def iter_changes(conn: sqlite3.Connection, scope: ChangeScope | None = None) -> Iterator[Change]:
    """The change events of ``scope`` (default: all of them), newest first, read as a stream."""
    sql, params = change_query(scope or ChangeScope())
    cursor = conn.execute(sql, params)
    try:
        for row in cursor:
            yield change_from_row(row)
    finally:
        with contextlib.suppress(sqlite3.ProgrammingError):  # the connection may be closed
            cursor.close()


def iter_matching(
    conn: sqlite3.Connection, scope: ChangeScope, query: SearchQuery
) -> Iterator[Change]:
    """The new and edited events of ``scope`` whose post holds every term of ``query``
    (its title or text after the change, read as ``search`` reads a query), newest first,
    each with the words that matched (:attr:`Change.matched`).

    Keyword alerts (``sources add --match``) and ``changes --match`` read this. Deletions
    and returns bring no new text and are left out. ``scope.limit`` counts the matches.
    """
    kinds = tuple(kind for kind in scope.kinds if kind in MATCHED_KINDS)
    if not kinds:
        return
    sql, params = change_query(replace(scope, kinds=kinds, limit=None))
    cursor = conn.execute(sql, params)
    left = scope.limit
    try:
        for row in cursor:
            if left is not None and left <= 0:
                break
            words = query.found(row[7], row[6])  # checked before any word diff is made
            if words:
                yield replace(change_from_row(row), matched=words)
                left = None if left is None else left - 1
    finally:
        with contextlib.suppress(sqlite3.ProgrammingError):  # the connection may be closed
            cursor.close()
