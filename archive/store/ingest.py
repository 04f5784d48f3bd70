"""The archive's write path: one fetched page in, its rows written, in one transaction.

:func:`ingest_page` is the one function that turns a fetched page into
archive rows: it stores the raw capture (once per distinct body), the
channel, every post and a new version when a post's content changed, view
counts, deletions, and the crawl's running counts. A Telegram post that
its listing no longer shows is only *missing* here: its deletion is
confirmed apart (:mod:`.deletions`). It runs in one short
``BEGIN IMMEDIATE`` transaction per page, so a killed crawl loses at most
the page in flight and never leaves half a page. It takes plain data
(:class:`~archive.models.Capture`, :class:`~archive.models.Page`), so a
separate ingester process can call it with items from a queue.

Each post on a page has one of four outcomes: it is **new**; it **completes
an excerpt** (the full text of a post first seen as a listing card, written
into that version); it has **changed** (a new version); or it is
**unchanged** (only when and where it was seen, and its views, are updated).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass, field, replace

import sqlite_utils

from .. import clean
from ..clean import Learned
from ..clean.options import ExtractOptions
from ..clean.profiles import load_options
from ..extract.values import crawled_from
from ..models import (
    ERROR_INGEST,
    ERROR_PARSE,
    KIND_TELEGRAM,
    PAGE_GONE,
    PAGE_LISTING,
    Capture,
    ChannelInfo,
    Page,
    Post,
    post_number,
)
from ..source import origin_of
from .bodies import keep_capture, pack_capture
from .boilerplate import learned_for, observe_and_relearn
from .coverage import add_coverage
from .crawls import insert_errors
from .deletions import delete_posts, mark_missing
from .listings import record_listing
from .reactions import record_reactions
from .transaction import write_transaction


@dataclass
class PageResult:
    """What one page changed in the archive."""

    snapshot_id: int
    channel_id: int | None
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    deleted: int = 0
    #: Posts of the page's range that the page no longer shows: missing, to be checked.
    missing: int = 0
    #: Telegram: the id range whose absent posts were taken as missing (None: none judged).
    judged: tuple[int, int] | None = None
    body_stored: bool = False
    #: Why some of the page was not written (a foreign channel, a post that failed).
    refused: list[str] = field(default_factory=list)
    #: None of the page's posts was written: it names no channel it may write (none,
    #: another origin's, another kind's). Its capture is kept; a crawl plans nothing from
    #: it (no media, no deletion checks, no next page).
    refused_page: bool = False


def ingest_page(
    db: sqlite_utils.Database,
    crawl_id: int | None,
    capture: Capture,
    page: Page | None,
    *,
    options: ExtractOptions | None = None,
    start: bool = False,
) -> PageResult:
    """Write one fetched page into the archive, atomically.

    ``page`` is None when the body could not be parsed: the capture is still
    kept. What the crawl knows beyond the page: ``options``, the extraction
    options it was read with (their learning thresholds apply here; None:
    the defaults), and ``start``, that the walk proved no message of the
    channel older than the page shows (its lowest id; an empty page: its
    ``before``), so the page covers every id down to 1 (a Telegram page). A channel's posts are written only from pages of its own origin
    (the host it is crawled from; t.me and its aliases are one): a page from
    elsewhere claiming it is kept as a capture, its posts refused. A post
    that cannot be written is refused alone; the rest of the page is kept.
    The page's parse errors and the refusals are recorded with the crawl.
    Returns what changed.
    """
    packed = pack_capture(capture)  # outside the lock: the slow part
    now = capture.fetched_at
    with write_transaction(db):
        refused: list[str] = []
        channel_id = None
        if page is not None and page.channel is not None:
            channel_id = _owned_channel(db, page, capture.url, now, refused)
        if crawl_id is not None and channel_id is not None:
            db.execute(
                "UPDATE crawls SET channel_id = ? WHERE id = ? AND channel_id IS NULL",
                [channel_id, crawl_id],
            )
        snapshot_id, body_stored = keep_capture(
            db, crawl_id, channel_id, capture, packed,
            page_type=page.page_type if page else None, posts=len(page.posts) if page else 0,
        )  # fmt: skip
        result = PageResult(
            snapshot_id=snapshot_id, channel_id=channel_id, body_stored=body_stored, refused=refused,
            refused_page=page is not None and page.channel is not None and channel_id is None,
        )  # fmt: skip
        if page is not None and channel_id is not None:
            if page.page_type == PAGE_GONE:
                result.deleted += _mark_gone(db, channel_id, page, now)
            else:
                options = options or _default_options()
                learned = learned_for(db, channel_id, options)
                observed: list[tuple[int, str]] = []
                for post in page.posts:
                    _ingest_post_alone(
                        db, channel_id, crawl_id, snapshot_id, post, now, result,
                        learned=learned, observed=observed, page=page,
                    )  # fmt: skip
                if page.page_type == PAGE_LISTING:
                    record_listing(db, channel_id, page, now)
                if result.new:
                    db.execute(
                        "UPDATE channels SET posts_count = posts_count + ? WHERE id = ?",
                        [result.new, channel_id],
                    )
                observe_and_relearn(db, channel_id, page.kind, observed, options, now)
                # Deletions and coverage need the whole page: a message that could
                # not be read must not count as gone, nor its range as seen.
                whole = not page.errors and not result.refused
                if page.kind == KIND_TELEGRAM and (start or not page.throttled) and whole:
                    covered = page.covered_range(start=start)
                    if covered is not None:
                        result.judged = page.judged_range(start=start)
                        if result.judged is not None:
                            result.missing += _mark_missing_in_range(
                                db, channel_id, page, result.judged, now
                            )
                        add_coverage(db, channel_id, *covered)
        if crawl_id is not None:
            if page is not None and page.errors:
                insert_errors(db, crawl_id, capture.url, ERROR_PARSE, page.errors)
            if result.refused:
                insert_errors(db, crawl_id, capture.url, ERROR_INGEST, result.refused)
            db.execute(
                "UPDATE crawls SET pages = pages + 1, posts_new = posts_new + ?,"
                " posts_changed = posts_changed + ?, posts_unchanged = posts_unchanged + ?,"
                " posts_deleted = posts_deleted + ? WHERE id = ?",
                [result.new, result.changed, result.unchanged, result.deleted, crawl_id],
            )
    return result


def _owned_channel(
    db: sqlite_utils.Database, page: Page, url: str, now: str, refused: list[str]
) -> int | None:
    """The page's channel, created or updated, if the page (fetched from ``url``) may write
    it; else None (refused)."""
    info = page.channel
    refusal = channel_refusal(db, info.name, info.kind, url)
    if refusal is not None:
        refused.append(refusal)
        return None
    return _upsert_channel(db, info, origin_of(url), now, crawled_from(info.kind, info.name, url))


def channel_refusal(db: sqlite_utils.Database, name: str, kind: str, url: str) -> str | None:
    """Why a page fetched from ``url`` may not write channel ``name`` (of ``kind``), or None.

    A channel's posts are written only from pages of its own origin (the host
    it is archived from; t.me and its aliases are one), and a channel keeps its
    kind. The crawl asks this too, so a page that will be refused leads nowhere.
    """
    row = db.execute("SELECT kind, origin FROM channels WHERE name = ?", [name]).fetchone()
    if row is None:
        return None
    owned_kind, owner = row
    if owned_kind != kind:
        return f"the page claims {owned_kind} channel {name!r} as a {kind} page: not written"
    origin = origin_of(url)
    if owner is not None and owner != origin:
        return (
            f"the page from {origin or 'nowhere'} claims channel {name!r},"
            f" which is archived from {owner}: not written"
        )
    return None


def _upsert_channel(
    db: sqlite_utils.Database, info: ChannelInfo, origin: str, now: str, source_url: str | None
) -> int:
    """The channel row, made or brought up to date; ``source_url`` is where it was really
    fetched from (what the page says of itself is not asked)."""
    row = db.execute("SELECT id FROM channels WHERE name = ?", [info.name]).fetchone()
    fields = {
        "title": info.title,
        "description": info.description,
        "subscribers": info.subscribers,
        "image": info.image,
        "source_url": source_url,
    }
    present = {k: v for k, v in fields.items() if v is not None}
    if row is None:
        cursor = db.execute(
            "INSERT INTO channels (name, kind, first_seen, title, description, subscribers,"
            " image, source_url, origin) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [info.name, info.kind, now, *fields.values(), origin],
        )
        return cursor.lastrowid
    present.setdefault("origin", origin)  # an archive from before origins were kept adopts it
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
        # a placeholder ("open Telegram to view") is no content: older archives lack it
        "media": [m.get("type") for m in post.media if m.get("type") != "unsupported"],
        "forwarded_from": (post.forwarded_from or {}).get("url")
        or (post.forwarded_from or {}).get("name"),
        "reply_to": post.reply_to,
        "service": post.service,
    }
    blob = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass
class _Current:
    """A post as the archive holds it, with the fingerprint of its current version."""

    pk: int
    version: int
    deleted_at: str | None
    views: int | None
    last_crawl: int | None
    sha: str | None
    excerpt: bool


def _current(db: sqlite_utils.Database, channel_id: int, post_id: str) -> _Current | None:
    row = db.execute(
        "SELECT p.id, p.current_version, p.deleted_at, p.views, p.last_crawl,"
        " v.content_sha256, v.excerpt"
        " FROM posts p LEFT JOIN post_versions v ON v.post = p.id AND v.version = p.current_version"
        " WHERE p.channel_id = ? AND p.post_id = ?",
        [channel_id, post_id],
    ).fetchone()
    return None if row is None else _Current(*row[:6], excerpt=bool(row[6]))


def _ingest_post_alone(
    db: sqlite_utils.Database,
    channel_id: int,
    crawl_id: int | None,
    snapshot_id: int,
    post: Post,
    now: str,
    result: PageResult,
    *,
    learned: Learned | None,
    observed: list[tuple[int, str]],
    page: Page,
) -> None:
    """:func:`_ingest_post` in a savepoint: a post that cannot be written is refused alone.

    A page writes only its own channel's posts: a post of another is refused (the
    last line behind extraction's check, for pages that come from elsewhere).
    """
    if post.channel != page.channel.name:
        result.refused.append(
            f"post {post.channel}/{post.post_id} is not channel {page.channel.name}'s: not written"
        )
        return
    if page.kind == KIND_TELEGRAM:  # its HTML is in the stored page
        post = replace(post, html=None)
    counts = (result.new, result.changed, result.unchanged, len(observed))
    db.execute("SAVEPOINT post")
    try:
        _ingest_post(
            db, channel_id, crawl_id, snapshot_id, post, now, result,
            learned=learned, observed=observed,
        )  # fmt: skip
    except (sqlite3.DataError, sqlite3.IntegrityError, OverflowError, ValueError) as exc:
        db.execute("ROLLBACK TO post")
        result.new, result.changed, result.unchanged = counts[:3]
        del observed[counts[3] :]
        result.refused.append(f"post {post.post_id[:40]!r} could not be written: {exc}")
    finally:
        db.execute("RELEASE post")


def _ingest_post(
    db: sqlite_utils.Database,
    channel_id: int,
    crawl_id: int | None,
    snapshot_id: int,
    post: Post,
    now: str,
    result: PageResult,
    *,
    learned: Learned | None = None,
    observed: list[tuple[int, str]] | None = None,
) -> None:
    fingerprint = version_fingerprint(post)
    # Clean text: the raw text minus the rules (done at extraction when post.text is
    # set) minus the channel's learned boilerplate. The raw text is never altered.
    base = post.text if post.text is not None else clean.clean_text(post.raw_text).text
    clean_text = clean.apply_learned(base, learned).text
    learns = observed is not None and not post.excerpt and not post.service
    current = _current(db, channel_id, post.post_id)
    if current is None:
        post_pk = _new_post(
            db, channel_id, crawl_id, snapshot_id, post, clean_text, fingerprint, now
        )
        if learns:
            observed.append((post_pk, post.raw_text))
        result.new += 1
        return

    # A listing card of a post held in full says nothing of its content: it
    # neither counts nor marks the post seen by this crawl (its page will).
    card_only = post.excerpt and not current.excerpt
    if fingerprint == current.sha or card_only:
        outcome = "unchanged"
    elif current.excerpt and not post.excerpt:
        _complete_excerpt(db, current, post, clean_text, fingerprint, snapshot_id)
        outcome = "unchanged"
    else:
        _new_version(db, current, post, clean_text, fingerprint, snapshot_id, now)
        outcome = "changed"
    if learns and current.excerpt and not post.excerpt:
        observed.append((current.pk, post.raw_text))  # its first full text: learning counts it
    _seen(db, current, crawl_id, post, now, card_only=card_only)
    if current.deleted_at is not None:  # it came back
        db.execute(
            "UPDATE post_deletions SET restored_at = ? WHERE post = ? AND restored_at IS NULL",
            [now, current.pk],
        )
        outcome = "changed"
    seen_this_crawl = crawl_id is not None and current.last_crawl == crawl_id
    if (not seen_this_crawl and not (card_only and outcome == "unchanged")) or outcome == "changed":
        setattr(result, outcome, getattr(result, outcome) + 1)


def _new_post(
    db: sqlite_utils.Database,
    channel_id: int,
    crawl_id: int | None,
    snapshot_id: int,
    post: Post,
    clean_text: str,
    fingerprint: str,
    now: str,
) -> int:
    """Outcome *new*: the post and its first version."""
    post_num = post_number(post.post_id)
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
    record_reactions(db, post_pk, now, post.reactions)
    return post_pk


def _complete_excerpt(
    db: sqlite_utils.Database,
    current: _Current,
    post: Post,
    clean_text: str,
    fingerprint: str,
    snapshot_id: int,
) -> None:
    """Outcome *completing an excerpt*: the full text of a post first seen as a card, in place."""
    _update_version(db, current.pk, current.version, post, clean_text, fingerprint, snapshot_id)
    db.execute(
        "UPDATE posts SET title = ?, text = ? WHERE id = ?", [post.title, clean_text, current.pk]
    )


def _new_version(
    db: sqlite_utils.Database,
    current: _Current,
    post: Post,
    clean_text: str,
    fingerprint: str,
    snapshot_id: int,
    now: str,
) -> None:
    """Outcome *changed*: the captured content differs, so a new version becomes current."""
    version = current.version + 1
    _insert_version(db, current.pk, version, post, clean_text, fingerprint, snapshot_id, now)
    db.execute(
        "UPDATE posts SET current_version = ?, title = ?, text = ?, edited = 1 WHERE id = ?",
        [version, post.title, clean_text, current.pk],
    )


def _seen(
    db: sqlite_utils.Database,
    current: _Current,
    crawl_id: int | None,
    post: Post,
    now: str,
    *,
    card_only: bool,
) -> None:
    """Every outcome but *new*: when and where the post was seen, and its views."""
    db.execute(
        "UPDATE posts SET last_seen = ?, last_crawl = ?, deleted_at = NULL,"
        " missing_since = NULL, published_at = COALESCE(published_at, ?), url = COALESCE(url, ?),"
        " edited = MAX(edited, ?) WHERE id = ?",
        [
            now,
            current.last_crawl if card_only else crawl_id,
            post.published_at,
            post.url,
            int(post.edited),
            current.pk,
        ],
    )
    if post.views is not None and post.views != current.views:
        _insert_views(db, current.pk, now, post.views)
        db.execute("UPDATE posts SET views = ? WHERE id = ?", [post.views, current.pk])
    record_reactions(db, current.pk, now, post.reactions)


_DEFAULT_OPTIONS: list[ExtractOptions] = []


def _default_options() -> ExtractOptions:
    """The extraction options without a profile (read once)."""
    if not _DEFAULT_OPTIONS:
        _DEFAULT_OPTIONS.append(load_options(None))
    return _DEFAULT_OPTIONS[0]


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


def _mark_missing_in_range(
    db: sqlite_utils.Database, channel_id: int, page: Page, covered: tuple[int, int], now: str
) -> int:
    """Posts of the page's range it no longer shows are missing, not deleted: their own
    embed decides (:mod:`.deletions`). Returns how many newly went missing."""
    present = [n for p in page.posts if (n := post_number(p.post_id)) is not None]
    marks = ", ".join("?" for _ in present)
    gone = [
        row[0]
        for row in db.execute(
            "SELECT id FROM posts WHERE channel_id = ? AND deleted_at IS NULL"
            f" AND post_num BETWEEN ? AND ? AND post_num NOT IN ({marks})",
            [channel_id, covered[0], covered[1], *present],
        )
    ]
    return mark_missing(db, gone, now)


def _mark_gone(db: sqlite_utils.Database, channel_id: int, page: Page, now: str) -> int:
    """A web post's own page answered 404/410: the post it carried is deleted (confirmed)."""
    gone = []
    for post in page.posts:
        row = db.execute(
            "SELECT id FROM posts WHERE channel_id = ? AND post_id = ? AND deleted_at IS NULL",
            [channel_id, post.post_id],
        ).fetchone()
        if row is not None:
            gone.append(row[0])
    return delete_posts(db, gone, now)
