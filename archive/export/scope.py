"""What an export covers, read as a stream of export records.

Rows are read with one cursor and written as they come, so an export of a
million posts runs in constant memory. What is exported is an
:class:`ExportScope`:

- by default the current version of each post, deleted posts included
  (their ``deleted_at`` set); ``all_versions`` gives every version;
- ``since`` / ``until`` keep versions *captured* in ``[since, until)``
  (the time chanarchive first saw that text, so ``since`` the time of the
  last export gives what is new or edited since);
- ``as_of`` gives the archive as it stood at that time: posts first seen
  later are absent, each post has the version that was current then (the
  last captured at or before it), a post deleted at or before it (and not
  back by then: ``post_deletions`` keeps every deletion and restoration)
  is present with that ``deleted_at``, as a plain export has it, and later
  deletions are not applied; ``views`` is the last count observed at or
  before it. So an export as of a time after the last crawl is the plain
  export;
- ``live`` leaves out the posts that are deleted (at ``as_of``, if given).

Every format (:mod:`.tabular` for jsonl and csv, :mod:`.warc`,
:mod:`.atom`) shares the scope.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import sqlite_utils

from ..source import channel_key
from ..times import parse_time
from .records import record_from_row

#: Called with the number of records written so far.
Progress = Callable[[int], None]

#: How many records go by between two progress calls.
PROGRESS_EVERY = 1000


@dataclass(frozen=True)
class ExportScope:
    """Which posts and versions an export holds (times as ISO 8601; see the module doc)."""

    channel: str | None = None
    since: str | None = None
    until: str | None = None
    as_of: str | None = None
    all_versions: bool = False
    post: int | None = None  # one post (posts.id): ``history`` uses this
    live: bool = False  # leave out posts deleted (by ``as_of``, when given)

    def normalized(self) -> ExportScope:
        """Times in the archive's UTC form, the channel name as the archive spells it."""
        return replace(
            self,
            channel=channel_key(self.channel) if self.channel else None,
            since=parse_time(self.since, option="--since") if self.since else None,
            until=parse_time(self.until, option="--until") if self.until else None,
            as_of=parse_time(self.as_of, option="--as-of") if self.as_of else None,
        )


def connection(db: sqlite_utils.Database | sqlite3.Connection) -> sqlite3.Connection:
    """The sqlite3 connection behind ``db``."""
    return db.conn if isinstance(db, sqlite_utils.Database) else db


#: Per record, the archived files of its media slots: for each slot, the file linked to the
#: latest version up to the record's own (a file arrives once and serves the later versions).
MEDIA_FILES_SQL = (
    "(SELECT json_group_array(json_array(CAST(pm.slot AS TEXT), CAST(pm.sha256 AS TEXT),"
    " CASE WHEN typeof(f.size) = 'integer' THEN f.size END, CAST(f.content_type AS TEXT)))"
    " FROM post_media pm JOIN media_files f ON f.sha256 = pm.sha256"
    " WHERE pm.post = p.id AND pm.version = (SELECT MAX(pm2.version) FROM post_media pm2"
    " WHERE pm2.post = p.id AND pm2.slot = pm.slot AND pm2.version <= v.version"
    " AND pm2.sha256 IS NOT NULL)) AS media_files"
)


def has_media_tables(conn: sqlite3.Connection) -> bool:
    """Whether the archive keeps media files (an older archive, read as it is, may not)."""
    row = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'post_media'"
    ).fetchone()
    return row is not None


def table_columns(conn: sqlite3.Connection, table: str) -> set[str]:
    """The columns ``table`` has (none when it is missing): an older archive, read as it is,
    lacks the newer ones."""
    return {row[1] for row in conn.execute("SELECT * FROM pragma_table_info(?)", [table])}


def record_query(scope: ExportScope, *, media: bool = False) -> tuple[str, dict[str, Any]]:
    """The SQL (and its parameters) whose rows are the export records of ``scope``.

    ``media``: also a ``media_files`` column, the archived files of the media items.
    """
    scope = scope.normalized()
    params: dict[str, Any] = {}
    if scope.as_of is None:
        deleted, views, reactions = "p.deleted_at", "p.views", "p.reactions"
    else:
        params["as_of"] = scope.as_of
        # Deleted at T: a deletion at or before T that was not undone by T.
        deleted = (
            "(SELECT MAX(d.deleted_at) FROM post_deletions d WHERE d.post = p.id"
            " AND d.deleted_at <= :as_of AND (d.restored_at IS NULL OR d.restored_at > :as_of))"
        )
        views = (
            "(SELECT pv.views FROM post_views pv WHERE pv.post = p.id"
            " AND pv.observed_at <= :as_of ORDER BY pv.observed_at DESC LIMIT 1)"
        )
        reactions = (
            "(SELECT pr.reactions FROM post_reactions pr WHERE pr.post = p.id"
            " AND pr.observed_at <= :as_of ORDER BY pr.observed_at DESC LIMIT 1)"
        )
    sql = (
        "SELECT ch.name AS channel, p.post_id, p.url,"
        " COALESCE(v.published_at, p.published_at) AS published_at,"
        " v.title, v.text, v.raw_text, v.version, v.captured_at, v.edited,"
        f" {deleted} AS deleted_at, {views} AS views,"
        f" v.forwarded_from, v.reply_to, v.links, v.media, {reactions} AS reactions,"
        " v.source_url"
        + (f", {MEDIA_FILES_SQL}" if media else "")
        +  # CROSS JOIN keeps this join order, which walks the indexes in the export's
        # order: no sort of the whole archive before the first row comes out.
        " FROM channels ch"
        " CROSS JOIN posts p ON p.channel_id = ch.id"
        " CROSS JOIN post_versions v ON v.post = p.id"
    )
    where = []
    if scope.as_of is None:
        if not scope.all_versions:
            where.append("v.version = p.current_version")
    else:
        if scope.all_versions:
            where.append("v.captured_at <= :as_of")
        else:
            where.append(
                "v.version = (SELECT MAX(v2.version) FROM post_versions v2"
                " WHERE v2.post = p.id AND v2.captured_at <= :as_of)"
            )
        where.append("p.first_seen <= :as_of")
    if scope.live:
        where.append(f"{deleted} IS NULL")
    if scope.channel is not None:
        where.append("ch.name = :channel")
        params["channel"] = scope.channel
    if scope.since is not None:
        where.append("v.captured_at >= :since")
        params["since"] = scope.since
    if scope.until is not None:
        where.append("v.captured_at < :until")
        params["until"] = scope.until
    if scope.post is not None:
        where.append("p.id = :post")
        params["post"] = scope.post
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY ch.name, p.post_num, p.post_id, v.version"
    return sql, params


def iter_scope(
    db: sqlite_utils.Database | sqlite3.Connection, scope: ExportScope
) -> Iterator[dict[str, Any]]:
    """The export records of ``scope``, one cursor, in channel / post / version order."""
    conn = connection(db)
    sql, params = record_query(scope, media=has_media_tables(conn))
    cursor = conn.execute(sql, params)
    names = [d[0] for d in cursor.description]
    try:
        for row in cursor:
            yield record_from_row(dict(zip(names, row, strict=True)))
    finally:
        with contextlib.suppress(sqlite3.ProgrammingError):  # the connection may be closed
            cursor.close()


def latest_capture(
    db: sqlite_utils.Database | sqlite3.Connection, scope: ExportScope
) -> str | None:
    """The latest ``captured_at`` among the records of ``scope`` (None when it is empty)."""
    sql, params = record_query(scope)
    row = connection(db).execute(f"SELECT MAX(captured_at) FROM ({sql})", params).fetchone()
    return row[0] if row else None


def counted(
    records: Iterable[dict[str, Any]], progress: Progress | None
) -> Iterator[dict[str, Any]]:
    """``records`` unchanged, calling ``progress(n)`` every :data:`PROGRESS_EVERY` and at the end."""
    count = 0
    for record in records:
        yield record
        count += 1
        if progress is not None and count % PROGRESS_EVERY == 0:
            progress(count)
    if progress is not None:
        progress(count)
