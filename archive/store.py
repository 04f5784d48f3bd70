"""The archive's write path.

:func:`ingest_page` is the one function that turns a fetched page into
archive rows: it stores the raw capture (once per distinct body), the
channel, every post and a new version when a post's content changed, view
counts, deletions, and the crawl's running counts. It runs in one short
``BEGIN IMMEDIATE`` transaction per page, so a killed crawl loses at most
the page in flight and never leaves half a page. It takes plain data
(:class:`~archive.models.Capture`, :class:`~archive.models.Page`), so a
separate ingester process can call it with items from a queue.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import zlib
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from . import boilerplate, clean
from .db import utcnow, write_transaction
from .errors import BadInput
from .models import KIND_TELEGRAM, PAGE_GONE, PAGE_LISTING, Capture, ChannelInfo, Page, Post
from .options import ExtractOptions
from .profiles import load_options

#: Crawl statuses.
RUNNING, OK, PARTIAL, FAILED = "running", "ok", "partial", "failed"

#: Kinds of recorded crawl errors.
ERROR_FETCH, ERROR_HTTP, ERROR_PARSE, ERROR_THROTTLED, ERROR_INGEST = (
    "fetch",
    "http",
    "parse",
    "throttled",
    "ingest",
)


@dataclass
class PageResult:
    """What one page changed in the archive."""

    snapshot_id: int
    channel_id: int | None
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    deleted: int = 0
    body_stored: bool = False


# --------------------------------------------------------------------------
# Crawls
# --------------------------------------------------------------------------


def begin_crawl(
    db: sqlite_utils.Database,
    source: str,
    *,
    channel_id: int | None = None,
    trigger: str = "manual",
    options: dict[str, Any] | None = None,
) -> int:
    """Record the start of a crawl of ``source``; returns the crawl id."""
    with write_transaction(db):
        cursor = db.execute(
            "INSERT INTO crawls (source, channel_id, started_at, status, trigger, options, worker)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                source,
                channel_id,
                utcnow(),
                RUNNING,
                trigger,
                json.dumps(options or {}, sort_keys=True),
                _pid_tag(),
            ],
        )
        return cursor.lastrowid


def record_error(
    db: sqlite_utils.Database, crawl_id: int, url: str | None, kind: str, message: str
) -> None:
    """Keep the reason a fetch or parse failed, and count it on the crawl."""
    with write_transaction(db):
        db.execute(
            "INSERT INTO crawl_errors (crawl_id, at, url, kind, message) VALUES (?, ?, ?, ?, ?)",
            [crawl_id, utcnow(), url, kind, message[:2000]],
        )
        db.execute("UPDATE crawls SET errors = errors + 1 WHERE id = ?", [crawl_id])


def finish_crawl(
    db: sqlite_utils.Database,
    crawl_id: int,
    *,
    status: str | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    """Close a crawl: its status follows from its pages and errors unless given."""
    with write_transaction(db):
        row = crawl_row(db, crawl_id)
        if status is None:
            if row["pages"] == 0:
                status = FAILED
            elif row["errors"]:
                status = PARTIAL
            else:
                status = OK
        if reason is None and status != OK:
            first = db.execute(
                "SELECT kind, url, message FROM crawl_errors WHERE crawl_id = ? ORDER BY id LIMIT 1",
                [crawl_id],
            ).fetchone()
            if first:
                reason = f"{first[0]}: {first[2]} ({first[1]})" if first[1] else first[2]
            elif row["pages"] == 0:
                reason = "no page was fetched"
        now = utcnow()
        db.execute(
            "UPDATE crawls SET status = ?, reason = ?, finished_at = ?, worker = NULL WHERE id = ?",
            [status, reason, now, crawl_id],
        )
        if row["channel_id"] is not None:
            db.execute(
                "UPDATE channels SET last_crawled = ? WHERE id = ?", [now, row["channel_id"]]
            )
    return crawl_row(db, crawl_id)


def reap_interrupted_crawls(db: sqlite_utils.Database) -> int:
    """Mark as failed the crawls left ``running`` by a process that is gone."""
    host = socket.gethostname()
    stale = []
    for crawl_id, tag in db.execute("SELECT id, worker FROM crawls WHERE status = ?", [RUNNING]):
        pid, _, tag_host = str(tag or "").partition("@")
        if tag_host and tag_host != host:
            continue  # another machine's crawl: not ours to judge
        if not pid.isdigit() or not _alive(int(pid)):
            stale.append(crawl_id)
    for crawl_id in stale:
        finish_crawl(db, crawl_id, status=FAILED, reason="interrupted: the crawl process ended")
    return len(stale)


def _pid_tag() -> str:
    return f"{os.getpid()}@{socket.gethostname()}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def crawl_row(db: sqlite_utils.Database, crawl_id: int) -> dict[str, Any]:
    cursor = db.execute("SELECT * FROM crawls WHERE id = ?", [crawl_id])
    names = [d[0] for d in cursor.description]
    row = cursor.fetchone()
    if row is None:
        raise KeyError(f"no crawl {crawl_id}")
    return dict(zip(names, row, strict=True))


# --------------------------------------------------------------------------
# Pages
# --------------------------------------------------------------------------


def ingest_page(
    db: sqlite_utils.Database, crawl_id: int | None, capture: Capture, page: Page | None
) -> PageResult:
    """Write one fetched page into the archive, atomically.

    ``page`` is None when the body could not be parsed: the capture is still
    kept. Returns what changed.
    """
    sha = hashlib.sha256(capture.body).hexdigest()
    compressed = zlib.compress(capture.body, 6)  # outside the lock: the slow part
    now = capture.fetched_at
    with write_transaction(db):
        body_stored = (
            db.execute(
                "INSERT OR IGNORE INTO bodies (sha256, size, compression, body) VALUES (?, ?, ?, ?)",
                [sha, len(capture.body), "zlib", compressed],
            ).rowcount
            == 1
        )
        channel_id = _upsert_channel(db, page.channel, now) if page and page.channel else None
        if crawl_id is not None and channel_id is not None:
            db.execute(
                "UPDATE crawls SET channel_id = ? WHERE id = ? AND channel_id IS NULL",
                [channel_id, crawl_id],
            )
        snapshot_id = db.execute(
            "INSERT INTO snapshots (crawl_id, channel_id, url, requested_url, fetched_at,"
            " http_status, content_sha256, content_type, headers, protocol, page_type, posts)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                crawl_id,
                channel_id,
                capture.url,
                capture.requested_url,
                now,
                capture.status,
                sha,
                capture.header("Content-Type"),
                json.dumps([list(h) for h in capture.headers], ensure_ascii=False),
                capture.protocol,
                page.page_type if page else None,
                len(page.posts) if page else 0,
            ],
        ).lastrowid
        result = PageResult(snapshot_id=snapshot_id, channel_id=channel_id, body_stored=body_stored)
        if page is not None and channel_id is not None:
            if page.page_type == PAGE_GONE:
                result.deleted += _mark_gone(db, channel_id, page, now)
            else:
                options = _page_options(page)
                learned = boilerplate.learned_for(db, channel_id, options)
                observed: list[tuple[int, str]] = []
                for post in page.posts:
                    _ingest_post(
                        db, channel_id, crawl_id, snapshot_id, post, now, result,
                        learned=learned, observed=observed,
                    )  # fmt: skip
                if page.page_type == PAGE_LISTING:
                    _record_listing(db, channel_id, page, now)
                _learn(db, channel_id, page.kind, observed, options, now)
                if page.kind == KIND_TELEGRAM and not page.throttled:
                    covered = telegram_page_range(page)
                    if covered is not None:
                        if page.posts:
                            result.deleted += _mark_deleted_in_range(
                                db, channel_id, page, covered, now
                            )
                        _add_coverage(db, channel_id, *covered)
        if crawl_id is not None:
            db.execute(
                "UPDATE crawls SET pages = pages + 1, posts_new = posts_new + ?,"
                " posts_changed = posts_changed + ?, posts_unchanged = posts_unchanged + ?,"
                " posts_deleted = posts_deleted + ? WHERE id = ?",
                [result.new, result.changed, result.unchanged, result.deleted, crawl_id],
            )
    return result


def telegram_page_range(page: Page) -> tuple[int, int] | None:
    """The ids a Telegram page shows in full: every id in it that still exists is on the page.

    The newest page covers its lowest to its highest id; a ``?before=N`` page
    covers its lowest id to N-1; an empty (not throttled) ``?before=N`` page
    means nothing is older than N, so it covers 1..N-1.
    """
    ids = [int(p.post_id) for p in page.posts if p.post_id.isdigit()]
    if ids:
        hi = page.before - 1 if page.before is not None else max(ids)
        return min(ids), max(hi, max(ids))
    if page.before is not None and page.before > 1 and not page.throttled:
        return 1, page.before - 1
    return None


def _upsert_channel(db: sqlite_utils.Database, info: ChannelInfo, now: str) -> int:
    row = db.execute("SELECT id FROM channels WHERE name = ?", [info.name]).fetchone()
    fields = {
        "title": info.title,
        "description": info.description,
        "subscribers": info.subscribers,
        "image": info.image,
        "source_url": info.source_url,
    }
    present = {k: v for k, v in fields.items() if v is not None}
    if row is None:
        cursor = db.execute(
            "INSERT INTO channels (name, kind, first_seen, title, description, subscribers,"
            " image, source_url) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [info.name, info.kind, now, *fields.values()],
        )
        return cursor.lastrowid
    if present:
        assignments = ", ".join(f"{k} = ?" for k in present)
        db.execute(f"UPDATE channels SET {assignments} WHERE id = ?", [*present.values(), row[0]])
    return row[0]


def version_fingerprint(post: Post) -> str:
    """The sha256 of what makes a post's content: an edit changes it, a view count does not.

    Telegram media URLs are signed CDN links that change between fetches, so
    media count only by kind; links in the text, the forward and the reply
    are stable and count in full.
    """
    content = {
        "title": post.title or "",
        "text": post.raw_text,
        "links": post.links,
        "media": [m.get("type") for m in post.media],
        "forwarded_from": (post.forwarded_from or {}).get("url")
        or (post.forwarded_from or {}).get("name"),
        "reply_to": post.reply_to,
        "service": post.service,
    }
    blob = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _ingest_post(
    db: sqlite_utils.Database,
    channel_id: int,
    crawl_id: int | None,
    snapshot_id: int,
    post: Post,
    now: str,
    result: PageResult,
    *,
    learned: clean.Learned | None = None,
    observed: list[tuple[int, str]] | None = None,
) -> None:
    fingerprint = version_fingerprint(post)
    # Clean text: the raw text minus the rules (done at extraction when post.text is
    # set) minus the channel's learned boilerplate. The raw text is never altered.
    base = post.text if post.text is not None else clean.clean_text(post.raw_text).text
    clean_text = clean.apply_learned(base, learned).text
    learns = observed is not None and not post.excerpt and not post.service
    row = db.execute(
        "SELECT p.id, p.current_version, p.deleted_at, p.views, p.last_crawl,"
        " v.content_sha256, v.excerpt"
        " FROM posts p LEFT JOIN post_versions v ON v.post = p.id AND v.version = p.current_version"
        " WHERE p.channel_id = ? AND p.post_id = ?",
        [channel_id, post.post_id],
    ).fetchone()
    post_num = int(post.post_id) if post.post_id.isdigit() else None
    if row is None:
        post_pk = db.execute(
            "INSERT INTO posts (channel_id, post_id, post_num, url, published_at, first_seen,"
            " last_seen, current_version, title, text, edited, views, last_crawl)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?)",
            [
                channel_id,
                post.post_id,
                post_num,
                post.url,
                post.published_at,
                now,
                now,
                post.title,
                clean_text,
                int(post.edited),
                post.views,
                crawl_id,
            ],
        ).lastrowid
        _insert_version(db, post_pk, 1, post, clean_text, fingerprint, snapshot_id, now)
        if post.views is not None:
            _insert_views(db, post_pk, now, post.views)
        if learns:
            observed.append((post_pk, post.raw_text))
        result.new += 1
        return

    post_pk, version, deleted_at, views, last_crawl, current_sha, current_excerpt = row
    seen_this_crawl = crawl_id is not None and last_crawl == crawl_id
    # A listing card of a post held in full says nothing of its content: it
    # neither counts nor marks the post seen by this crawl (its page will).
    card_only = post.excerpt and not current_excerpt
    if fingerprint == current_sha:
        outcome = "unchanged"
    elif post.excerpt and not current_excerpt:
        outcome = "unchanged"  # a listing's excerpt never replaces the full text
    elif current_excerpt and not post.excerpt:
        # The full text of a post first seen as an excerpt: complete the version in place.
        _update_version(db, post_pk, version, post, clean_text, fingerprint, snapshot_id)
        db.execute(
            "UPDATE posts SET title = ?, text = ? WHERE id = ?", [post.title, clean_text, post_pk]
        )
        if learns:
            observed.append((post_pk, post.raw_text))
        outcome = "unchanged"
    else:
        version += 1
        _insert_version(db, post_pk, version, post, clean_text, fingerprint, snapshot_id, now)
        db.execute(
            "UPDATE posts SET current_version = ?, title = ?, text = ?, edited = 1 WHERE id = ?",
            [version, post.title, clean_text, post_pk],
        )
        if learns:
            observed.append((post_pk, post.raw_text))
        outcome = "changed"
    db.execute(
        "UPDATE posts SET last_seen = ?, last_crawl = ?, deleted_at = NULL,"
        " published_at = COALESCE(published_at, ?), url = COALESCE(url, ?),"
        " edited = MAX(edited, ?) WHERE id = ?",
        [
            now,
            last_crawl if card_only else crawl_id,
            post.published_at,
            post.url,
            int(post.edited),
            post_pk,
        ],
    )
    if post.views is not None and post.views != views:
        _insert_views(db, post_pk, now, post.views)
        db.execute("UPDATE posts SET views = ? WHERE id = ?", [post.views, post_pk])
    if deleted_at is not None:  # it came back
        db.execute(
            "UPDATE post_deletions SET restored_at = ? WHERE post = ? AND restored_at IS NULL",
            [now, post_pk],
        )
        outcome = "changed" if outcome == "unchanged" else outcome
    if (not seen_this_crawl and not (card_only and outcome == "unchanged")) or outcome == "changed":
        setattr(result, outcome, getattr(result, outcome) + 1)


_OPTIONS: dict[str | None, ExtractOptions] = {}


def _page_options(page: Page) -> ExtractOptions:
    """The extraction options of the page's profile (learning thresholds); the defaults if gone."""
    if page.profile not in _OPTIONS:
        try:
            _OPTIONS[page.profile] = load_options(page.profile)
        except BadInput:
            _OPTIONS[page.profile] = load_options(None)
    return _OPTIONS[page.profile]


def _learn(
    db: sqlite_utils.Database,
    channel_id: int,
    kind: str,
    observed: list[tuple[int, str]],
    options: ExtractOptions,
    now: str,
) -> None:
    """Count the new texts' candidate lines; when a line becomes learned, re-clean its posts."""
    newly = boilerplate.observe(db, channel_id, observed, kind, options, now)
    if not newly:
        return
    learned = boilerplate.learned_for(db, channel_id, options)
    for post_pk in boilerplate.posts_carrying(db, newly):
        # Every version, so that an export of all versions is cleaned alike.
        versions = db.execute(
            "SELECT v.id, v.text, v.version = p.current_version FROM post_versions v"
            " JOIN posts p ON p.id = v.post WHERE v.post = ?",
            [post_pk],
        ).fetchall()
        for version_pk, old_text, is_current in versions:
            if old_text is None:
                continue
            text = clean.apply_learned(old_text, learned).text
            if text != old_text:
                db.execute("UPDATE post_versions SET text = ? WHERE id = ?", [text, version_pk])
                if is_current:
                    db.execute("UPDATE posts SET text = ? WHERE id = ?", [text, post_pk])


def _record_listing(db: sqlite_utils.Database, channel_id: int, page: Page, now: str) -> None:
    """Remember which posts this listing shows, to notice one that leaves it."""
    db.execute(
        "DELETE FROM listing_posts WHERE channel_id = ? AND listing_url = ?", [channel_id, page.url]
    )
    for post in page.posts:
        db.execute(
            "INSERT OR REPLACE INTO listing_posts (channel_id, listing_url, post_id, url, seen_at)"
            " VALUES (?, ?, ?, ?, ?)",
            [channel_id, page.url, post.post_id, post.url, now],
        )


@dataclass
class WebKnown:
    """What the archive knows of a web channel's live posts, for a crawl to compare with."""

    urls: dict[str, str]  # post id -> URL, every post not deleted
    listings: dict[str, list[str]]  # listing URL -> the post ids it showed last time


def known_web_posts(db: sqlite_utils.Database, channel: str) -> WebKnown:
    """The live posts of web channel ``channel`` and the listings they were last seen on."""
    urls = {
        post_id: url
        for post_id, url in db.execute(
            "SELECT p.post_id, p.url FROM posts p JOIN channels c ON c.id = p.channel_id"
            " WHERE c.name = ? AND p.deleted_at IS NULL AND p.url IS NOT NULL",
            [channel],
        )
    }
    listings: dict[str, list[str]] = {}
    for listing_url, post_id in db.execute(
        "SELECT l.listing_url, l.post_id FROM listing_posts l JOIN channels c"
        " ON c.id = l.channel_id WHERE c.name = ? ORDER BY l.listing_url",
        [channel],
    ):
        if post_id in urls:
            listings.setdefault(listing_url, []).append(post_id)
    return WebKnown(urls=urls, listings=listings)


def _version_values(post: Post, clean_text: str, fingerprint: str, snapshot_id: int) -> dict:
    forwarded = post.forwarded_from or {}
    return {
        "text": clean_text,
        "raw_text": post.raw_text,
        "html": post.html,
        "title": post.title,
        "published_at": post.published_at,
        "edited": int(post.edited),
        "excerpt": int(post.excerpt),
        "author": post.author,
        "forwarded_from": forwarded.get("url"),
        "forwarded_from_name": forwarded.get("name"),
        "reply_to": post.reply_to,
        "links": json.dumps(post.links, ensure_ascii=False),
        "media": json.dumps(post.media, ensure_ascii=False),
        "link_preview": json.dumps(post.link_preview, ensure_ascii=False)
        if post.link_preview
        else None,
        "service": int(post.service),
        "content_sha256": fingerprint,
        "snapshot": snapshot_id,
        "source_url": post.source_url,
    }


def _insert_version(
    db: sqlite_utils.Database,
    post_pk: int,
    version: int,
    post: Post,
    clean_text: str,
    fingerprint: str,
    snapshot_id: int,
    now: str,
) -> None:
    values = {"post": post_pk, "version": version, "captured_at": now}
    values.update(_version_values(post, clean_text, fingerprint, snapshot_id))
    columns = ", ".join(values)
    marks = ", ".join("?" for _ in values)
    db.execute(f"INSERT INTO post_versions ({columns}) VALUES ({marks})", list(values.values()))


def _update_version(
    db: sqlite_utils.Database,
    post_pk: int,
    version: int,
    post: Post,
    clean_text: str,
    fingerprint: str,
    snapshot_id: int,
) -> None:
    values = _version_values(post, clean_text, fingerprint, snapshot_id)
    assignments = ", ".join(f"{k} = ?" for k in values)
    db.execute(
        f"UPDATE post_versions SET {assignments} WHERE post = ? AND version = ?",
        [*values.values(), post_pk, version],
    )


def _insert_views(db: sqlite_utils.Database, post_pk: int, now: str, views: int) -> None:
    db.execute(
        "INSERT INTO post_views (post, observed_at, views) VALUES (?, ?, ?)", [post_pk, now, views]
    )


def _mark_deleted_in_range(
    db: sqlite_utils.Database, channel_id: int, page: Page, covered: tuple[int, int], now: str
) -> int:
    present = [int(p.post_id) for p in page.posts if p.post_id.isdigit()]
    marks = ", ".join("?" for _ in present)
    gone = [
        row[0]
        for row in db.execute(
            "SELECT id FROM posts WHERE channel_id = ? AND deleted_at IS NULL"
            f" AND post_num BETWEEN ? AND ? AND post_num NOT IN ({marks})",
            [channel_id, covered[0], covered[1], *present],
        )
    ]
    return _delete_posts(db, gone, now)


def _mark_gone(db: sqlite_utils.Database, channel_id: int, page: Page, now: str) -> int:
    """A post page answered 404/410: the post it carried is deleted."""
    gone = []
    for post in page.posts:
        row = db.execute(
            "SELECT id FROM posts WHERE channel_id = ? AND post_id = ? AND deleted_at IS NULL",
            [channel_id, post.post_id],
        ).fetchone()
        if row is not None:
            gone.append(row[0])
    return _delete_posts(db, gone, now)


def _delete_posts(db: sqlite_utils.Database, post_pks: list[int], now: str) -> int:
    """Mark posts deleted (never removed) and keep the event for exports "as of" a time."""
    for post_pk in post_pks:
        db.execute("UPDATE posts SET deleted_at = ? WHERE id = ?", [now, post_pk])
        db.execute("INSERT INTO post_deletions (post, deleted_at) VALUES (?, ?)", [post_pk, now])
    return len(post_pks)


# --------------------------------------------------------------------------
# Coverage: which Telegram ids the archive has seen in full
# --------------------------------------------------------------------------


def _add_coverage(db: sqlite_utils.Database, channel_id: int, lo: int, hi: int) -> None:
    rows = db.execute(
        "SELECT lo, hi FROM coverage WHERE channel_id = ? AND hi >= ? AND lo <= ?",
        [channel_id, lo - 1, hi + 1],
    ).fetchall()
    for old_lo, old_hi in rows:
        lo, hi = min(lo, old_lo), max(hi, old_hi)
    db.execute(
        "DELETE FROM coverage WHERE channel_id = ? AND hi >= ? AND lo <= ?",
        [channel_id, lo - 1, hi + 1],
    )
    db.execute("INSERT INTO coverage (channel_id, lo, hi) VALUES (?, ?, ?)", [channel_id, lo, hi])


def coverage(db: sqlite_utils.Database, channel: str) -> list[tuple[int, int]]:
    """The merged id ranges of ``channel`` already archived in full, lowest first."""
    return [
        (lo, hi)
        for lo, hi in db.execute(
            "SELECT c.lo, c.hi FROM coverage c JOIN channels ch ON ch.id = c.channel_id"
            " WHERE ch.name = ? ORDER BY c.lo",
            [channel],
        )
    ]
