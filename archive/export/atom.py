"""Atom feeds (RFC 4287): one channel's posts, and the archive's change events.

:func:`write_atom` (``export --format atom``) writes one entry per post in the export scope (or per version with
``all_versions``), deleted posts left out: a feed reader shows what the
channel holds. An entry's ``updated`` is when chanarchive captured that
version and its ``published`` the post's own date, so an edited post
reads as updated; its title says ``(edited)``. The feed is written as it
is read, entry by entry; only the feed's ``updated`` is computed first.

:func:`write_change_feed` (``changes --format atom``) writes one entry per
change event of :mod:`archive.query.changes`, newest first: a post new,
edited (the word diff as HTML ``<del>``/``<ins>``), deleted, undeleted.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterable
from typing import IO, Any
from xml.sax.saxutils import escape, quoteattr

from .. import __version__
from ..errors import BadInput
from ..query.changes import EDITED, Change, ChangeScope, iter_changes, iter_matching
from ..query.history import ADDED, REMOVED
from ..query.search import SearchQuery
from ..source import channel_key
from ..times import rfc3339
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


# --------------------------------------------------------------------------
# The change feed
# --------------------------------------------------------------------------

#: How each kind of change reads in an entry's title.
CHANGE_TITLES = {"new": "New", "edited": "Edited", "deleted": "Deleted", "undeleted": "Back"}


def change_entry_id(change: Change) -> str:
    """A stable id for one event: the same event gets the same id in every feed."""
    return (
        f"tag:chanarchive,2026:change/{change.channel}/{change.post_id}/{change.kind}/{change.at}"
    )


def _change_html(change: Change) -> str:
    """The entry's content: the post's text, an edit's removed and added words marked up."""
    if change.kind != EDITED:
        return f"<p>{_x(change.text)}</p>".replace("\n", "<br/>")
    parts = []
    for kind, text in change.segments:
        if kind == REMOVED:
            parts.append(f"<del>{_x(text)}</del>")
        elif kind == ADDED:
            parts.append(f"<ins>{_x(text)}</ins>")
        else:
            parts.append(_x(text))
    return "<p>" + "".join(parts).replace("\n", "<br/>") + "</p>"


def _change_entry(change: Change) -> str:
    first = next((ln.strip() for ln in change.text.splitlines() if ln.strip()), "")
    first = change.title or first
    if len(first) > TITLE_WIDTH:
        first = first[: TITLE_WIDTH - 1] + "…"
    title = f"{CHANGE_TITLES[change.kind]}: {change.name}" + (f" — {first}" if first else "")
    lines = [
        "  <entry>",
        f"    <id>{_x(change_entry_id(change))}</id>",
        f"    <title>{_x(title)}</title>",
        f"    <updated>{_x(change.at)}</updated>",
    ]
    if change.url:
        lines.append(f'    <link rel="alternate" href={_attr(change.url)}/>')
    lines.append(f"    <category term={_attr(change.kind)}/>")
    # The HTML is escaped once more as the text of the element (type="html").
    lines.append(f'    <content type="html">{_x(_change_html(change))}</content>')
    lines.append("  </entry>\n")
    return "\n".join(lines)


def write_change_feed(
    conn: sqlite3.Connection,
    out: IO[str],
    scope: ChangeScope,
    *,
    title: str,
    changes: Iterable[Change] | None = None,
    query: SearchQuery | None = None,
) -> int:
    """Write the change events of ``scope`` as an Atom feed named ``title``; returns the entries.

    ``changes``: the events already read (newest first; e.g. one page of
    them, their texts bounded), instead of every event of ``scope``. With
    ``query``, only the new and edited posts that match it (:func:`iter_matching`).
    """
    scope = scope.normalized()
    feed_key = ",".join(scope.channels) or "all"

    def events(scope: ChangeScope):
        return iter_changes(conn, scope) if query is None else iter_matching(conn, scope, query)

    if changes is not None:
        changes = list(changes)
        newest = changes[0] if changes else None
    else:
        newest = next(events(ChangeScope(**{**vars(scope), "limit": 1})), None)
    updated = newest.at if newest else "1970-01-01T00:00:00+00:00"
    out.write('<?xml version="1.0" encoding="utf-8"?>\n')
    out.write(f'<feed xmlns="{ATOM_NS}">\n')
    out.write(f"  <id>{_x(f'tag:chanarchive,2026:changes/{feed_key}')}</id>\n")
    out.write(f"  <title>{_x(title)}</title>\n")
    out.write(f"  <updated>{_x(updated)}</updated>\n")
    out.write("  <author><name>chanarchive</name></author>\n")
    out.write(f'  <generator version="{_x(__version__)}">chanarchive</generator>\n')
    count = 0
    for change in events(scope) if changes is None else changes:
        out.write(_change_entry(change))
        count += 1
    out.write("</feed>\n")
    return count
