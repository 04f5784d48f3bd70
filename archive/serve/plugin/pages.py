"""The pages: the home page's channels, ``/-/channel/NAME`` and ``/-/post/NAME/ID``.

Each page reads the archive through Datasette's own read-only connection
(``mode=ro``, with the SQL guard of :mod:`archive.query.guard` that the
plugin's ``prepare_connection`` puts on it), calling the same library
functions as the command line: :mod:`archive.query.changes` for what
changed, :mod:`archive.query.channels` for a channel at a glance,
:mod:`archive.query.history` for a post's versions. Templates escape
every value (Jinja autoescape); the charts escape their own text
(:mod:`.charts`); links are made only of http(s) URLs.
"""

from __future__ import annotations

import sqlite3
from typing import Any
from urllib.parse import quote, urlsplit

from ...query.changes import EDITED, Change, ChangeScope, iter_changes
from ...query.channels import channel_crawls, channel_summaries, channel_summary, daily_activity
from ...query.history import (
    get_post,
    reactions_over_time,
    versions,
    views_over_time,
    word_segments,
)
from ...times import readable
from .charts import activity_chart, line_chart

#: Tables that make a Datasette database a chanarchive archive.
ARCHIVE_TABLES = {"channels", "posts", "post_versions", "post_deletions"}

#: How many changes the home page and a channel page list.
HOME_CHANGES = 15
CHANNEL_CHANGES = 30
CHANNEL_CRAWLS = 20
#: Reactions drawn on a post's chart: the most given ones.
REACTION_LINES = 6


def safe_href(url: str | None) -> str | None:
    """``url`` when it is an http(s) URL a page may link to; None otherwise (``javascript:`` …)."""
    if not url:
        return None
    try:
        scheme = urlsplit(url.strip()).scheme.lower()
    except ValueError:
        return None
    return url.strip() if scheme in ("http", "https") else None


def channel_path(name: str) -> str:
    return "/-/channel/" + quote(name, safe="")


def post_path(channel: str, post_id: str) -> str:
    return f"/-/post/{quote(channel, safe='')}/{quote(post_id, safe='/')}"


def short(text: str | None, width: int = 140) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= width else text[: width - 1] + "…"


def when(stamp: str | None) -> str:
    """An archive time as a page shows it: ``2026-11-27 10:00:05 UTC``."""
    if not stamp:
        return ""
    return readable(stamp) + " UTC" if "T" in stamp else stamp[:19]


# ------------------------------------------------------------------ changes


def change_view(change: Change) -> dict[str, Any]:
    """What a template needs of a change event."""
    return {
        "kind": change.kind,
        "at": when(change.at),
        "name": change.name,
        "channel": change.channel,
        "href": post_path(change.channel, change.post_id),
        "version": change.version,
        "segments": [{"kind": kind, "text": text} for kind, text in change.excerpt(24)]
        if change.kind == EDITED
        else [],
        "text": short(change.title or change.text),
    }


# ------------------------------------------------------------------ home


def home_data(conn: sqlite3.Connection) -> dict[str, Any]:
    """The channels of one archive with their counts, and its latest changes."""
    channels = []
    for c in channel_summaries(conn):
        channels.append(
            {
                "name": c.name,
                "href": channel_path(c.name),
                "title": c.title,
                "kind": c.kind,
                "posts": c.posts,
                "edits": c.edits,
                "deletions": c.deletions,
                "last_crawl": when(c.last_crawl_at or c.last_crawled),
                "last_status": c.last_crawl_status,
            }
        )
    changes = [change_view(c) for c in iter_changes(conn, ChangeScope(limit=HOME_CHANGES))]
    return {"channels": channels, "changes": changes}


# ------------------------------------------------------------------ channel


def channel_data(conn: sqlite3.Connection, name: str) -> dict[str, Any] | None:
    """Everything ``/-/channel/NAME`` shows, or None when there is no such channel."""
    summary = channel_summary(conn, name)
    if summary is None:
        return None
    latest = [
        change_view(c)
        for c in iter_changes(conn, ChangeScope(channels=(summary.name,), limit=CHANNEL_CHANGES))
    ]
    crawls = [
        {
            "id": r.id,
            "trigger": r.trigger,
            "status": r.status,
            "started_at": when(r.started_at),
            "finished_at": when(r.finished_at),
            "pages": r.pages,
            "new": r.posts_new,
            "changed": r.posts_changed,
            "deleted": r.posts_deleted,
            "errors": r.errors,
            "reason": r.reason,
            "error_list": [
                {"at": when(e.at), "kind": e.kind, "url": e.url, "message": e.message}
                for e in r.error_list
            ],
        }
        for r in channel_crawls(conn, summary.name, limit=CHANNEL_CRAWLS)
    ]
    return {
        "channel": {
            "name": summary.name,
            "title": summary.title,
            "kind": summary.kind,
            "description": summary.description,
            "source_url": safe_href(summary.source_url),
            "source_text": summary.source_url,
            "subscribers": summary.subscribers,
            "first_seen": when(summary.first_seen),
            "last_crawled": when(summary.last_crawled),
            "posts": summary.posts,
            "deleted": summary.deleted,
            "edits": summary.edits,
            "deletions": summary.deletions,
        },
        "activity_svg": activity_chart(daily_activity(conn, summary.name)),
        "changes": latest,
        "crawls": crawls,
    }


# ------------------------------------------------------------------ post


def post_data(conn: sqlite3.Connection, channel: str, post_id: str) -> dict[str, Any] | None:
    """Everything ``/-/post/NAME/ID`` shows, or None when there is no such post."""
    ref = get_post(conn, channel, post_id)
    if ref is None:
        return None
    found = versions(conn, ref)
    shown = []
    previous = None
    media: dict[str, dict[str, Any]] = {}
    files = archived_media(conn, ref.id)
    for v in found:
        segments = []
        if previous is not None:
            segments = [
                {"kind": kind, "text": text} for kind, text in word_segments(previous.text, v.text)
            ]
        shown.append(
            {
                "version": v.version,
                "captured_at": when(v.captured_at),
                "title": v.title,
                "title_before": previous.title if previous and previous.title != v.title else None,
                "text": v.text,
                "raw_differs": v.raw_text.strip() != v.text.strip(),
                "raw_text": v.raw_text,
                "source_href": safe_href(v.source_url),
                "source_text": v.source_url,
                "segments": segments,
                "changed": bool(previous is not None and previous.text != v.text),
            }
        )
        previous = v
        for index, item in enumerate(v.media):
            url = str(item.get("url") or "")
            archived = _file_for(files, str(index), v.version)
            entry = media.setdefault(
                url or f"#{len(media)}",
                {
                    "type": item.get("type") or "media",
                    "href": safe_href(url),
                    "url": url,
                    "sha256": item.get("sha256"),
                    "size": item.get("size"),
                    "content_type": item.get("content_type"),
                    "versions": [],
                },
            )
            if archived is not None and not entry["sha256"]:
                entry.update(archived)
            entry["versions"].append(v.version)
    views = views_over_time(conn, ref)
    reactions = reactions_over_time(conn, ref)
    reactions_svg = None
    if reactions is not None:
        totals: dict[str, int] = {}
        for _at, counts in reactions:
            for emoji, n in counts.items():
                totals[emoji] = max(totals.get(emoji, 0), n)
        top = sorted(totals, key=lambda e: -totals[e])[:REACTION_LINES]
        lines = {emoji: [(at, c[emoji]) for at, c in reactions if emoji in c] for emoji in top}
        reactions_svg = line_chart(lines, label="Reactions over time", css_class="reactions")
    published_at, first_seen = conn.execute(
        "SELECT published_at, first_seen FROM posts WHERE id = ?", [ref.id]
    ).fetchone()
    deletions = [
        {"deleted_at": when(d), "restored_at": when(r)}
        for d, r in conn.execute(
            "SELECT deleted_at, restored_at FROM post_deletions WHERE post = ? ORDER BY deleted_at",
            [ref.id],
        )
    ]
    return {
        "post": {
            "channel": ref.channel,
            "channel_href": channel_path(ref.channel),
            "post_id": ref.post_id,
            "name": ref.name,
            "href": safe_href(ref.url),
            "url": ref.url,
            "deleted_at": when(ref.deleted_at),
            "current_version": ref.current_version,
            "published_at": (published_at or "").replace("T", " "),
            "first_seen": when(first_seen),
        },
        "versions": shown,
        "edits": max(0, len(found) - 1),
        "deletions": deletions,
        "views": [{"at": when(at), "views": n} for at, n in views],
        "views_svg": line_chart({"views": views}, label="Views over time") if views else None,
        "reactions_kept": reactions is not None,
        "reactions_svg": reactions_svg if reactions else None,
        "media": list(media.values()),
        "pictures": pictures(files),
    }


def archived_media(conn: sqlite3.Connection, post: int) -> dict[str, list[tuple[int, dict]]]:
    """A post's archived media files by slot: [(version, file)] oldest first ({} without media)."""
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'post_media'"
    ).fetchone()
    if not exists:
        return {}
    files: dict[str, list[tuple[int, dict]]] = {}
    for version, slot, sha, size, kind in conn.execute(
        "SELECT pm.version, pm.slot, f.sha256, f.size, f.content_type FROM post_media pm"
        " JOIN media_files f ON f.sha256 = pm.sha256 WHERE pm.post = ? ORDER BY pm.version",
        [post],
    ):
        item = {"sha256": sha, "size": size, "content_type": kind, "src": media_path(sha)}
        files.setdefault(slot, []).append((version, item))
    return files


def _file_for(files: dict[str, list[tuple[int, dict]]], slot: str, version: int) -> dict | None:
    """The file of ``slot`` as ``version`` showed it: the latest linked at or before it."""
    found = None
    for linked, item in files.get(slot, []):
        if linked <= version:
            found = item
    return found


def media_path(sha256: str) -> str:
    return f"/-/media/{sha256}"


def pictures(files: dict[str, list[tuple[int, dict]]]) -> list[dict[str, Any]]:
    """The archived images of a post to show, each once (thumbnails and previews included)."""
    shown: dict[str, dict[str, Any]] = {}
    for slot in sorted(files):
        for _version, item in files[slot]:
            kind = (item["content_type"] or "").split(";")[0].strip().lower()
            if kind.startswith("image/") and kind != "image/svg+xml":
                shown.setdefault(item["sha256"], {**item, "slot": slot})
    return list(shown.values())
