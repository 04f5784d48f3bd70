"""Streaming exports of the archive.

Rows are read with one cursor and written as they come, so an export of a
million posts runs in constant memory.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import IO, Any

import sqlite_utils

from .records import record_from_row

_SELECT = """
SELECT ch.name AS channel, p.post_id, p.url, COALESCE(v.published_at, p.published_at) AS published_at,
       v.title, v.text, v.raw_text, v.version, v.captured_at, v.edited, p.deleted_at,
       p.views, v.forwarded_from, v.reply_to, v.links, v.media, v.source_url
FROM posts p
JOIN channels ch ON ch.id = p.channel_id
JOIN post_versions v ON v.post = p.id
"""


def iter_records(
    db: sqlite_utils.Database, *, channel: str | None = None, all_versions: bool = False
) -> Iterator[dict[str, Any]]:
    """Export records: the current version of each post, or every version."""
    where, params = [], []
    if not all_versions:
        where.append("v.version = p.current_version")
    if channel is not None:
        where.append("ch.name = ?")
        params.append(channel)
    sql = _SELECT + (" WHERE " + " AND ".join(where) if where else "")
    sql += " ORDER BY ch.name, p.post_num, p.post_id, v.version"
    cursor = db.conn.execute(sql, params)
    names = [d[0] for d in cursor.description]
    for row in cursor:
        yield record_from_row(dict(zip(names, row, strict=True)))


def write_jsonl(records: Iterator[dict[str, Any]], out: IO[str]) -> int:
    count = 0
    for record in records:
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        count += 1
    return count
