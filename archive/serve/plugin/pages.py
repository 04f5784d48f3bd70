"""The pages: the home page's channels, ``/-/channel/NAME`` and ``/-/post/NAME/ID``.

Each page reads the archive through Datasette's own read-only connection
(``mode=ro``, with the SQL guard of :mod:`archive.query.guard` that the
plugin's ``prepare_connection`` puts on it), calling the same library
functions as the command line: :mod:`archive.query.changelist` for what
changed (through :mod:`.changes`), :mod:`archive.query.channels` for a
channel at a glance, :mod:`archive.query.history` for a post and its word
diffs. A post's versions, views and reactions are read here, each value of
a bounded size.

Every value from the archive reaches a template through :mod:`.values`, so
that no one row can break a page: long text is shortened (the whole value
a click away, on Datasette's row page), a count that is not a number and a
time that does not parse (or lies outside 1970–2100) are shown as absent.
Times are kept as ISO 8601 (what the page's ``.json`` gives) and written
out by the templates' ``moment`` filter. Templates escape every value
(Jinja autoescape); the charts escape their own text (:mod:`.charts`);
links are made only of http(s) URLs (:func:`.paths.safe_href`) and of the
archive's own pages (:mod:`.paths`): a version links to the capture it
came from, a deletion to the capture that confirmed it.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from ...query.changelist import Cursor
from ...query.changes import KINDS
from ...query.channels import (
    DayActivity,
    channel_crawls,
    channel_summaries,
    channel_summary,
    daily_activity,
)
from ...query.history import get_post, word_segments
from . import values
from .changes import CHANNEL_CHANGES, HOME_CHANGES, change_list
from .charts import activity_chart, line_chart
from .paths import capture_path, channel_path, from_path, media_path, post_path, safe_href

__all__ = ["channel_path", "from_path", "post_path", "safe_href"]

#: Crawls a channel page lists (the newest).
CHANNEL_CRAWLS = 20
#: Reactions drawn on a post's chart: the most given ones.
REACTION_LINES = 6
#: The largest JSON value (a version's media list, a reactions object) read to be shown.
MAX_JSON = 256 * 1024
#: Versions a post page shows (the newest); a post edited more often says so.
MAX_VERSIONS = 200
#: Counts over time drawn on a post's chart (the latest).
MAX_POINTS = 2000


def short(text: Any, width: int = 140) -> str:
    return values.text(text, width)


def has_table(conn: sqlite3.Connection, name: str) -> bool:
    return (
        conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type IN ('table', 'view') AND name = ?", [name]
        ).fetchone()
        is not None
    )


def has_column(conn: sqlite3.Connection, table: str, column: str) -> bool:
    return any(row[1] == column for row in conn.execute(f"PRAGMA table_info({table})"))


# ------------------------------------------------------------------ home


def home_data(
    conn: sqlite3.Connection,
    database: str,
    *,
    kinds: tuple[str, ...] = KINDS,
    before: Cursor | None = None,
    many: bool = False,
) -> dict[str, Any]:
    """The channels of one archive with their counts, and its latest changes."""
    channels = []
    for c in channel_summaries(conn):
        channels.append(
            {
                "name": values.text(c.name, 300),
                "href": channel_path(values.exact(c.name)),
                "title": values.optional(c.title),
                "kind": values.text(c.kind, 20),
                "posts": values.number(c.posts),
                "edits": values.number(c.edits),
                "deletions": values.number(c.deletions),
                "last_crawl": values.iso(c.last_crawl_at) or values.iso(c.last_crawled),
                "last_status": values.optional(c.last_crawl_status, 20),
            }
        )
    changes = change_list(
        conn, database, kinds=kinds, before=before, limit=HOME_CHANGES, here="/", many=many
    )
    return {"channels": channels, "changes": changes}


# ------------------------------------------------------------------ channel


def activity_days(days: list[DayActivity]) -> list[DayActivity]:
    """The days that can be drawn: a date from 1970 to 2100, with counts."""
    kept = []
    for d in days:
        if values.day(d.day) is None:
            continue
        kept.append(
            DayActivity(
                values.day(d.day).isoformat(),
                values.number(d.posts),
                values.number(d.edits),
                values.number(d.deletions),
            )
        )
    return kept


def channel_data(
    conn: sqlite3.Connection,
    name: str,
    database: str,
    *,
    kinds: tuple[str, ...] = KINDS,
    before: Cursor | None = None,
    many: bool = False,
) -> dict[str, Any] | None:
    """Everything ``/-/channel/NAME`` shows, or None when there is no such channel."""
    summary = channel_summary(conn, name)
    if summary is None:
        return None
    key = values.exact(summary.name)
    latest = change_list(
        conn,
        database,
        channel=key,
        kinds=kinds,
        before=before,
        limit=CHANNEL_CHANGES,
        here=channel_path(key),
        many=many,
    )
    crawls = [
        {
            "id": values.count(r.id),
            "trigger": values.optional(r.trigger, 40),
            "status": values.text(r.status, 20),
            "started_at": values.iso(r.started_at),
            "finished_at": values.iso(r.finished_at),
            "pages": values.count(r.pages),
            "new": values.count(r.posts_new),
            "changed": values.count(r.posts_changed),
            "deleted": values.count(r.posts_deleted),
            "errors": values.number(r.errors),
            "reason": values.optional(r.reason, 2000),
            "error_list": [
                {
                    "at": values.iso(e.at),
                    "kind": values.text(e.kind, 40),
                    "url": values.optional(e.url, 500),
                    "message": values.text(e.message, 2000),
                }
                for e in r.error_list
            ],
        }
        for r in channel_crawls(conn, key, limit=CHANNEL_CRAWLS)
    ]
    days = activity_days(daily_activity(conn, key))
    # Posts whose date does not parse, or lies outside 1970–2100, are not drawn: said.
    undated = max(0, values.number(summary.posts) - sum(d.posts for d in days))
    source_text = values.optional(summary.source_url, 500)
    return {
        "channel": {
            "name": values.text(key, 300),
            "title": values.optional(summary.title, 500),
            "kind": values.text(summary.kind, 20),
            "description": values.optional(summary.description, 5000),
            "source_url": safe_href(summary.source_url),
            "source_text": source_text,
            "subscribers": values.count(summary.subscribers),
            "first_seen": values.iso(summary.first_seen),
            "last_crawled": values.iso(summary.last_crawled),
            "posts": values.number(summary.posts),
            "deleted": values.number(summary.deleted),
            "edits": values.number(summary.edits),
            "deletions": values.number(summary.deletions),
        },
        "activity_svg": activity_chart(days),
        "undated_posts": undated,
        "changes": latest,
        "crawls": crawls,
    }


# ------------------------------------------------------------------ post


@dataclass
class _Version:
    """One version of a post, its text read to :data:`values.LONG` characters at most."""

    row_id: int | None
    version: int
    captured_at: Any
    title: str | None
    text: values.Shown
    raw_text: values.Shown
    source_url: Any
    media: list[dict[str, Any]]
    snapshot: int | None  # the capture it came from


def _versions(conn: sqlite3.Connection, post: int) -> tuple[list[_Version], int]:
    """A post's versions, oldest first (the newest :data:`MAX_VERSIONS`), and how many in all."""
    total = conn.execute("SELECT COUNT(*) FROM post_versions WHERE post = ?", [post]).fetchone()[0]
    rows = conn.execute(
        "SELECT * FROM (SELECT id, version, captured_at, substr(title, 1, 2000),"
        " substr(text, 1, :n), length(text), substr(raw_text, 1, :n), length(raw_text),"
        " source_url, CASE WHEN length(media) <= :json THEN media END, snapshot"
        " FROM post_versions WHERE post = :post ORDER BY version DESC, id DESC LIMIT :many)"
        " ORDER BY version, id",
        {"n": values.LONG + 1, "json": MAX_JSON, "post": post, "many": MAX_VERSIONS},
    ).fetchall()
    found = []
    for row_id, version, at, title, text, text_len, raw, raw_len, source, media, snap in rows:
        found.append(
            _Version(
                values.count(row_id),
                values.number(version),
                at,
                values.optional(title, 1000),
                values.shown(text, values.LONG, length=text_len),
                values.shown(raw, values.LONG, length=raw_len),
                source,
                _media_items(media),
                values.count(snap),
            )
        )
    return found, values.number(total)


def _media_items(value: Any) -> list[dict[str, Any]]:
    try:
        items = json.loads(value) if isinstance(value, str) else []
    except (ValueError, RecursionError):
        return []
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def _views(conn: sqlite3.Connection, post: int) -> list[tuple[str, int]]:
    """The post's view counts over time: the points that are a time and a count."""
    points = []
    for at, n in conn.execute(
        "SELECT * FROM (SELECT observed_at, views FROM post_views WHERE post = ?"
        " ORDER BY observed_at DESC LIMIT ?) ORDER BY observed_at",
        [post, MAX_POINTS],
    ):
        stamp, views = values.timestamp(at), values.count(n)
        if stamp is not None and views is not None:
            points.append((stamp, views))
    return points


def _reactions(conn: sqlite3.Connection, post: int) -> list[tuple[str, dict[str, int]]] | None:
    """The post's reactions over time (None when the archive keeps none), bad points left out."""
    kept = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type IN ('table', 'view') AND name = 'post_reactions'"
    ).fetchone()
    if not kept:
        return None
    series = []
    for at, value in conn.execute(
        "SELECT * FROM (SELECT observed_at, CASE WHEN length(reactions) <= ? THEN reactions END"
        " FROM post_reactions WHERE post = ? ORDER BY observed_at DESC LIMIT ?)"
        " ORDER BY observed_at",
        [MAX_JSON, post, MAX_POINTS],
    ):
        stamp = values.timestamp(at)
        try:
            counts = json.loads(value) if isinstance(value, str) else None
        except (ValueError, RecursionError):
            counts = None
        if stamp is None or not isinstance(counts, dict):
            continue
        clean = {
            values.text(emoji, 40): n
            for emoji, n in ((k, values.count(v)) for k, v in counts.items())
            if n is not None
        }
        series.append((stamp, clean))
    return series


def _reactions_chart(reactions: list[tuple[str, dict[str, int]]]) -> str | None:
    totals: dict[str, int] = {}
    for _at, counts in reactions:
        for emoji, n in counts.items():
            totals[emoji] = max(totals.get(emoji, 0), n)
    if not totals:
        return None
    top = sorted(totals, key=lambda e: -totals[e])[:REACTION_LINES]
    lines = {emoji: [(at, c[emoji]) for at, c in reactions if emoji in c] for emoji in top}
    return line_chart(lines, label="Reactions over time", css_class="reactions")


def post_data(
    conn: sqlite3.Connection, channel: str, post_id: str, database: str | None = None
) -> dict[str, Any] | None:
    """Everything ``/-/post/NAME/ID`` shows, or None when there is no such post.

    ``database``: the archive's name, for the links to its captures (when
    Datasette serves more than one archive).
    """
    ref = get_post(conn, channel, post_id)
    if ref is None:
        return None
    channel_name = values.exact(ref.channel)
    the_id = values.exact(ref.post_id)
    found, total = _versions(conn, ref.id)
    shown = []
    previous: _Version | None = None
    media: dict[str, dict[str, Any]] = {}
    files = archived_media(conn, ref.id)
    for v in found:
        segments = []
        if previous is not None:
            segments = [
                {"kind": kind, "text": text}
                for kind, text in word_segments(previous.text.text, v.text.text)
            ]
        shown.append(
            {
                "version": v.version,
                "row_id": v.row_id,
                "captured_at": values.iso(v.captured_at),
                "title": v.title,
                "title_before": previous.title if previous and previous.title != v.title else None,
                "text": v.text.text,
                "shortened": v.text.shortened,
                "length": v.text.length,
                "raw_differs": v.raw_text.text.strip() != v.text.text.strip(),
                "raw_text": v.raw_text.text,
                "raw_shortened": v.raw_text.shortened,
                "raw_length": v.raw_text.length,
                "source_href": safe_href(v.source_url),
                "source_text": values.optional(v.source_url, 500),
                "capture": v.snapshot,
                "capture_href": capture_path(v.snapshot, database, post_id=the_id)
                if v.snapshot is not None
                else None,
                "segments": segments,
                "changed": bool(previous is not None and previous.text.text != v.text.text),
            }
        )
        previous = v
        for index, item in enumerate(v.media[:100]):
            url = values.text(item.get("url"), 2000)
            archived = _file_for(files, str(index), v.version)
            entry = media.setdefault(
                url or f"#{len(media)}",
                {
                    "type": values.text(item.get("type") or "media", 40),
                    "href": safe_href(item.get("url")),
                    "url": url,
                    "sha256": values.sha256(item.get("sha256")),
                    "size": values.count(item.get("size")),
                    "content_type": values.optional(item.get("content_type"), 100),
                    "versions": [],
                },
            )
            if archived is not None and not entry["sha256"]:
                entry.update(archived)
            entry["versions"].append(v.version)
    views = _views(conn, ref.id)
    reactions = _reactions(conn, ref.id)
    published_at, first_seen = conn.execute(
        "SELECT published_at, first_seen FROM posts WHERE id = ?", [ref.id]
    ).fetchone()
    deletions = [
        {
            "deleted_at": values.iso(d),
            "restored_at": values.iso(r),
            "evidence": values.count(evidence),
            "evidence_href": capture_path(values.count(evidence), database)
            if values.count(evidence) is not None
            else None,
        }
        for d, r, evidence in _deletions(conn, ref.id, ref.url)
    ]
    return {
        "post": {
            "channel": channel_name,
            "channel_href": channel_path(channel_name),
            "post_id": the_id,
            "row": values.count(ref.id),
            "name": f"{channel_name}/{the_id}",
            "href": safe_href(ref.url),
            "url": values.optional(ref.url, 2000),
            "deleted_at": values.iso(ref.deleted_at),
            "current_version": values.count(ref.current_version),
            "published_at": values.iso(published_at),
            "first_seen": values.iso(first_seen),
        },
        "versions": shown,
        "versions_total": total,
        "edits": max(0, total - 1),
        "deletions": deletions,
        "views": [{"at": values.iso(at), "views": n} for at, n in views],
        "views_svg": line_chart({"views": views}, label="Views over time") if views else None,
        "reactions_kept": reactions is not None,
        "reactions_svg": _reactions_chart(reactions) if reactions else None,
        "media": list(media.values()),
        "pictures": pictures(files),
    }


def _deletions(conn: sqlite3.Connection, post: int, url: Any) -> list[tuple[Any, Any, Any]]:
    """A post's deletions (found gone, back), each with the capture that confirmed it: the
    answer of the deletion check that found it gone (its embed's "Post not found"), or a
    web post's own page answering 404 / 410 at that time (None: none kept)."""
    checks = has_table(conn, "deletion_checks") and has_column(conn, "deletion_checks", "snapshot")
    evidence = (
        "(SELECT c.snapshot FROM deletion_checks c WHERE c.post = d.post"
        " AND c.checked_at = d.deleted_at AND c.outcome = 'deleted'"
        " AND c.snapshot IS NOT NULL ORDER BY c.id LIMIT 1)"
        if checks
        else "NULL"
    )
    gone = (
        "(SELECT s.id FROM snapshots s WHERE s.url = :url AND s.fetched_at = d.deleted_at"
        " AND s.page_type = 'gone' ORDER BY s.id LIMIT 1)"
    )
    return conn.execute(
        f"SELECT d.deleted_at, d.restored_at, COALESCE({evidence}, {gone})"
        " FROM post_deletions d WHERE d.post = :post ORDER BY d.deleted_at LIMIT 100",
        {"post": post, "url": url if isinstance(url, str) else None},
    ).fetchall()


def archived_media(conn: sqlite3.Connection, post: int) -> dict[str, list[tuple[int, dict]]]:
    """A post's archived media files by slot: [(version, file)] oldest first ({} without media)."""
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'post_media'"
    ).fetchone()
    if not exists:
        return {}
    files: dict[str, list[tuple[int, dict]]] = {}
    for version, slot, sha, size, kind in conn.execute(
        "SELECT pm.version, pm.slot, f.sha256, f.size, substr(f.content_type, 1, 200)"
        " FROM post_media pm JOIN media_files f ON f.sha256 = pm.sha256 WHERE pm.post = ?"
        " ORDER BY pm.version LIMIT 1000",
        [post],
    ):
        sha = values.sha256(sha)
        if sha is None:
            continue
        item = {
            "sha256": sha,
            "size": values.count(size),
            "content_type": values.optional(kind, 100),
            "src": media_path(sha),
        }
        files.setdefault(values.text(slot, 40), []).append((values.number(version), item))
    return files


def _file_for(files: dict[str, list[tuple[int, dict]]], slot: str, version: int) -> dict | None:
    """The file of ``slot`` as ``version`` showed it: the latest linked at or before it."""
    found = None
    for linked, item in files.get(slot, []):
        if linked <= version:
            found = item
    return found


def pictures(files: dict[str, list[tuple[int, dict]]]) -> list[dict[str, Any]]:
    """The archived images of a post to show, each once (thumbnails and previews included)."""
    shown: dict[str, dict[str, Any]] = {}
    for slot in sorted(files):
        for _version, item in files[slot]:
            kind = (item["content_type"] or "").split(";")[0].strip().lower()
            if kind.startswith("image/") and kind != "image/svg+xml":
                shown.setdefault(item["sha256"], {**item, "slot": slot})
    return list(shown.values())
