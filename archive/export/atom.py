"""An Atom feed (RFC 4287) of one channel's new and edited posts.

One entry per post in the export scope (or per version with
``all_versions``), deleted posts left out: a feed reader shows what the
channel holds. An entry's ``updated`` is when chanarchive captured that
version and its ``published`` the post's own date, so an edited post
reads as updated; its title says ``(edited)``. The feed is written as it
is read, entry by entry; only the feed's ``updated`` is computed first.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from typing import IO, Any
from xml.sax.saxutils import escape, quoteattr

from .. import __version__
from ..errors import BadInput
from ..source import channel_key
from ..times import to_datetime
from .scope import ExportScope, counted, iter_scope, latest_capture

ATOM_NS = "http://www.w3.org/2005/Atom"
TITLE_WIDTH = 80

# Characters XML 1.0 does not allow, even escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _x(text: Any) -> str:
    return escape(_NOT_XML.sub("", str(text)))


def _attr(text: Any) -> str:
    return quoteattr(_NOT_XML.sub("", str(text)))


def entry_title(record: dict[str, Any]) -> str:
    """The post's title, else its first line cut to :data:`TITLE_WIDTH` characters."""
    title = record.get("title") or ""
    if not title:
        first = next(
            (line.strip() for line in (record.get("text") or "").splitlines() if line.strip()), ""
        )
        title = first if len(first) <= TITLE_WIDTH else first[: TITLE_WIDTH - 1] + "…"
    title = title or f"{record['channel']}/{record['post_id']}"
    return f"{title} (edited)" if record.get("edited") else title


def entry_id(record: dict[str, Any], *, per_version: bool) -> str:
    """The post's URL (a stable IRI), or a tag URI; with the version when entries are versions."""
    base = record.get("url") or f"tag:chanarchive,2026:{record['channel']}/{record['post_id']}"
    return f"{base}#v{record['version']}" if per_version else base


def channel_info(conn: sqlite3.Connection, channel: str) -> dict[str, Any]:
    """The channel's row; :class:`BadInput` when the archive has no such channel."""
    cursor = conn.execute(
        "SELECT name, kind, title, description, source_url FROM channels WHERE name = ?",
        [channel_key(channel)],
    )
    row = cursor.fetchone()
    if row is None:
        raise BadInput(f"no channel {channel!r} in the archive")
    return dict(zip([d[0] for d in cursor.description], row, strict=True))


def write_atom(
    conn: sqlite3.Connection,
    out: IO[str],
    scope: ExportScope,
    *,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write the feed of ``scope.channel`` (required); returns how many entries."""
    if not scope.channel:
        raise BadInput("an Atom feed is one channel's: give --channel NAME")
    scope = scope.normalized()
    channel = channel_info(conn, scope.channel)
    # Deleted posts are left out; under --as-of the scope already drops them.
    updated = latest_capture(conn, scope) or channel_updated(conn, channel["name"])
    link = channel["source_url"] or (
        f"https://t.me/s/{channel['name']}" if channel["kind"] == "telegram" else None
    )
    feed_id = link or f"tag:chanarchive,2026:{channel['name']}"
    out.write('<?xml version="1.0" encoding="utf-8"?>\n')
    out.write(f'<feed xmlns="{ATOM_NS}">\n')
    out.write(f"  <id>{_x(feed_id)}</id>\n")
    out.write(f"  <title>{_x(channel['title'] or channel['name'])}</title>\n")
    if channel["description"]:
        out.write(f"  <subtitle>{_x(channel['description'])}</subtitle>\n")
    if link:
        out.write(f'  <link rel="alternate" href={_attr(link)}/>\n')
    out.write(f"  <updated>{_x(updated)}</updated>\n")
    out.write(f"  <author><name>{_x(channel['title'] or channel['name'])}</name></author>\n")
    out.write(f'  <generator version="{_x(__version__)}">chanarchive</generator>\n')
    count = 0
    for record in counted(iter_scope(conn, scope), progress):
        if record["deleted_at"]:
            continue
        out.write(_entry(record, per_version=scope.all_versions))
        count += 1
    out.write("</feed>\n")
    return count


def channel_updated(conn: sqlite3.Connection, channel: str) -> str:
    """When the channel was last crawled (a feed needs an ``updated`` even when empty)."""
    row = conn.execute(
        "SELECT COALESCE(last_crawled, first_seen) FROM channels WHERE name = ?", [channel]
    ).fetchone()
    return row[0] if row and row[0] else "1970-01-01T00:00:00+00:00"


def rfc3339(value: str | None) -> str | None:
    """An ISO 8601 time as RFC 3339 (a date alone becomes midnight UTC); None if it is not one."""
    when = to_datetime(value)
    return when.isoformat() if when else None


def _entry(record: dict[str, Any], *, per_version: bool) -> str:
    published = rfc3339(record.get("published_at")) or record["captured_at"]
    lines = [
        "  <entry>",
        f"    <id>{_x(entry_id(record, per_version=per_version))}</id>",
        f"    <title>{_x(entry_title(record))}</title>",
        f"    <updated>{_x(record['captured_at'])}</updated>",
        f"    <published>{_x(published)}</published>",
    ]
    if record.get("url"):
        lines.append(f'    <link rel="alternate" href={_attr(record["url"])}/>')
    if record.get("edited"):
        lines.append('    <category term="edited"/>')
    lines.append(f'    <content type="text">{_x(record.get("text") or "")}</content>')
    lines.append("  </entry>\n")
    return "\n".join(lines)
