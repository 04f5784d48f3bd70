"""Media files: fetched once, kept once by sha256, linked to the post versions that show them.

The tables (migration ``0012_media``):

- ``media_files``: each distinct file, by sha256, with its content type and
  size; its bytes in ``media_bodies``, kept as fetched unless zlib saves more
  than :data:`COMPRESS_GAIN` of them (pictures are compressed already, mostly).
- ``media_urls``: every URL tried, ``ok`` (never fetched again) or ``failed``
  with its reason, tried again by later crawls up to :data:`MAX_ATTEMPTS` times
  (a URL a crawl did not try, its host having failed too often, keeps its
  reason, ``not tried: ...``, and uses up no try).
- ``post_media``: each post version's media item (a *slot*: ``"0"``,
  ``"0/thumb"``, ``"preview"``) with the URL it had and, once it arrives, its
  file. Telegram's CDN URLs are signed and change between fetches, so whether a
  post's file is archived is asked by slot, not by URL.

The crawl asks :func:`known_media` what it need not fetch and writes each
result through :func:`ingest_media`; files it fetched but the archive refused
to store are kept as such (:func:`keep_not_stored`), and fetched again.
"""

from __future__ import annotations

import hashlib
import sqlite3
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field

import sqlite_utils

from ..models import ERROR_INGEST, MediaFetch, MediaRef
from ..times import utcnow
from .bodies import unpack
from .crawls import insert_errors
from .transaction import write_transaction

#: A failed URL (or a post's media slot) is tried at most this many times.
MAX_ATTEMPTS = 3
#: zlib is kept only when it saves more than this share of the body.
COMPRESS_GAIN = 0.10
#: Content types not worth trying to compress: large, and compressed formats already.
#: Pictures are tried: most JPEGs gain nothing, but some (and many PNGs) shrink by a
#: fifth or more (docs/media.md), and a picture is small enough to try.
_PRECOMPRESSED = ("video/", "audio/")


@dataclass
class MediaKnown:
    """What the archive already holds of some posts' media, for a crawl to skip."""

    #: (post_id, slot) whose file is archived (on any version of the post).
    linked: set[tuple[str, str]] = field(default_factory=set)
    #: (post_id, slot) that failed :data:`MAX_ATTEMPTS` times: not tried again.
    given_up: set[tuple[str, str]] = field(default_factory=set)
    #: URLs fetched OK already (their file is archived).
    fetched: set[str] = field(default_factory=set)
    #: URLs that failed :data:`MAX_ATTEMPTS` times.
    failed: set[str] = field(default_factory=set)


def pack_body(body: bytes, content_type: str | None) -> tuple[str | None, bytes]:
    """(compression, stored bytes) for a file body: zlib only when it pays."""
    kind = (content_type or "").split(";")[0].strip().lower()
    if not body or kind.startswith(_PRECOMPRESSED):
        return None, body
    packed = zlib.compress(body, 6)
    if len(packed) < len(body) * (1 - COMPRESS_GAIN):
        return "zlib", packed
    return None, body


def unpack_body(compression: str | None, stored: bytes) -> bytes:
    """The file's bytes as fetched, from what ``media_files.body`` holds."""
    return unpack(compression, stored, "a media file")


def known_media(
    db: sqlite_utils.Database, channel: str, post_ids: list[str], urls: list[str]
) -> MediaKnown:
    """What of ``channel``'s ``post_ids`` and of ``urls`` needs no fetch."""
    known = MediaKnown()
    for start in range(0, len(post_ids), 500):
        chunk = post_ids[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        rows = db.execute(
            "SELECT p.post_id, pm.slot, MAX(pm.sha256 IS NOT NULL), MAX(pm.attempts)"
            " FROM post_media pm JOIN posts p ON p.id = pm.post"
            " JOIN channels ch ON ch.id = p.channel_id"
            f" WHERE ch.name = ? AND p.post_id IN ({marks}) GROUP BY p.post_id, pm.slot",
            [channel, *chunk],
        )
        for post_id, slot, has_file, attempts in rows:
            if has_file:
                known.linked.add((post_id, slot))
            elif (attempts or 0) >= MAX_ATTEMPTS:
                known.given_up.add((post_id, slot))
    for start in range(0, len(urls), 500):
        chunk = urls[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        for url, status, attempts in db.execute(
            f"SELECT url, status, attempts FROM media_urls WHERE url IN ({marks})", chunk
        ):
            if status == "ok":
                known.fetched.add(url)
            elif attempts >= MAX_ATTEMPTS:
                known.failed.add(url)
    return known


def ingest_media(
    db: sqlite_utils.Database,
    url: str,
    refs: list[MediaRef],
    fetch: MediaFetch | None = None,
    *,
    crawl_id: int | None = None,
) -> str | None:
    """Keep what fetching ``url`` gave (``fetch``; None: only link) and link it to ``refs``.

    Returns the file's sha256 when ``url`` is archived. A ref is linked to its
    post's current version; a post of another channel than the crawl's (or of
    any, before the crawl archived a page of its channel) is left alone (a
    page decides no other channel's posts), and the crawl says so.
    """
    now = utcnow()
    # Hashing and compressing a file are the slow part: done before the write lock is taken.
    packed = _pack(fetch) if fetch is not None and fetch.ok else None
    with write_transaction(db):
        if fetch is not None:
            _keep_fetch(db, fetch, packed, now)
        row = db.execute("SELECT sha256 FROM media_urls WHERE url = ?", [url]).fetchone()
        sha256 = row[0] if row else None
        failed = fetch is not None and not fetch.ok
        reason = fetch.reason if failed else None
        tries = int(failed and fetch.tried)  # a URL not tried uses up none of its tries
        crawl_channel = _crawl_channel(db, crawl_id)
        foreign = []
        for ref in refs:
            if crawl_id is not None and ref.channel != crawl_channel:
                foreign.append(f"{ref.channel}/{ref.post_id}")
                continue
            post = db.execute(
                "SELECT p.id, p.current_version FROM posts p"
                " JOIN channels ch ON ch.id = p.channel_id WHERE ch.name = ? AND p.post_id = ?",
                [ref.channel, ref.post_id],
            ).fetchone()
            if post is None or post[1] is None:
                continue
            db.execute(
                "INSERT INTO post_media (post, version, slot, url, sha256, attempts, reason)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (post, version, slot) DO UPDATE SET url = excluded.url,"
                " sha256 = COALESCE(post_media.sha256, excluded.sha256),"
                " attempts = post_media.attempts + excluded.attempts,"
                " reason = COALESCE(excluded.reason, post_media.reason)",
                [post[0], post[1], ref.slot, url, sha256, tries, reason],
            )
        if foreign and crawl_id is not None:
            insert_errors(
                db, crawl_id, url, ERROR_INGEST,
                [f"media of post {', '.join(foreign[:5])}, not of this crawl's channel:"
                 " not linked"],
            )  # fmt: skip
        if fetch is not None and crawl_id is not None:
            counter = "media_failed" if failed else "media_archived"
            db.execute(f"UPDATE crawls SET {counter} = {counter} + 1 WHERE id = ?", [crawl_id])
        if sha256 is not None:
            # Versions that showed this URL before its file arrived get it now.
            db.execute(
                "UPDATE post_media SET sha256 = ? WHERE url = ? AND sha256 IS NULL", [sha256, url]
            )
    return sha256


def keep_not_stored(db: sqlite_utils.Database, urls: Iterable[str], reason: str) -> None:
    """Media URLs a crawl asked for and the archive did not store, because it refused a write
    (a full disk ...): fetched and refused, or never fetched as the crawl stopped. Each is
    kept as failed with ``reason`` and no try counted, so that the next crawl fetches it
    again; a URL archived already is left as it is. One transaction; it may be refused
    too, and then nothing says they were fetched, which has the same effect."""
    now = utcnow()
    with write_transaction(db):
        for url in dict.fromkeys(urls):
            db.execute(
                "INSERT INTO media_urls (url, status, reason, attempts, first_tried, last_tried)"
                " VALUES (?, 'failed', ?, 0, ?, ?)"
                " ON CONFLICT (url) DO UPDATE SET reason = excluded.reason,"
                " last_tried = excluded.last_tried WHERE media_urls.status != 'ok'",
                [url, reason[:2000], now, now],
            )


def _crawl_channel(db: sqlite_utils.Database, crawl_id: int | None) -> str | None:
    """The name of the channel crawl ``crawl_id`` archives (None: no crawl, or none yet)."""
    if crawl_id is None:
        return None
    row = db.execute(
        "SELECT ch.name FROM crawls c JOIN channels ch ON ch.id = c.channel_id WHERE c.id = ?",
        [crawl_id],
    ).fetchone()
    return row[0] if row else None


def _pack(fetch: MediaFetch) -> tuple[str, str | None, bytes]:
    """(sha256, compression, stored bytes) of a fetched file."""
    return (hashlib.sha256(fetch.body).hexdigest(), *pack_body(fetch.body, fetch.content_type))


def _keep_fetch(
    db: sqlite_utils.Database,
    fetch: MediaFetch,
    packed: tuple[str, str | None, bytes] | None,
    now: str,
) -> None:
    if packed is None:
        db.execute(
            "INSERT INTO media_urls (url, status, http_status, reason, attempts, first_tried,"
            " last_tried) VALUES (?, 'failed', ?, ?, ?, ?, ?)"
            " ON CONFLICT (url) DO UPDATE SET attempts = media_urls.attempts + excluded.attempts,"
            " last_tried = excluded.last_tried,"
            " http_status = CASE WHEN media_urls.status = 'ok' THEN media_urls.http_status"
            " ELSE excluded.http_status END,"
            " reason = CASE WHEN media_urls.status = 'ok' THEN media_urls.reason"
            " ELSE excluded.reason END",
            [fetch.url, fetch.http_status, fetch.reason, int(fetch.tried), fetch.fetched_at, now],
        )
        return
    sha256, compression, stored = packed
    added = db.execute(
        "INSERT OR IGNORE INTO media_files (sha256, content_type, size, first_seen, url,"
        " compression, stored_size) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            sha256,
            fetch.content_type,
            len(fetch.body),
            fetch.fetched_at,
            fetch.url,
            compression,
            len(stored),
        ],
    ).rowcount
    if added:
        db.execute("INSERT INTO media_bodies (sha256, body) VALUES (?, ?)", [sha256, stored])
    db.execute(
        "INSERT INTO media_urls (url, sha256, status, http_status, reason, attempts,"
        " first_tried, last_tried, ip_address) VALUES (?, ?, 'ok', ?, NULL, 1, ?, ?, ?)"
        " ON CONFLICT (url) DO UPDATE SET sha256 = excluded.sha256, status = 'ok',"
        " http_status = excluded.http_status, reason = NULL,"
        " attempts = media_urls.attempts + 1, last_tried = excluded.last_tried,"
        " ip_address = excluded.ip_address",
        [fetch.url, sha256, fetch.http_status, fetch.fetched_at, now, fetch.ip_address],
    )


def media_file(db, sha256: str) -> tuple[str | None, bytes] | None:
    """(content type, bytes) of the archived file ``sha256``, or None (also on old archives).

    ``db``: an sqlite3 connection or sqlite_utils database, read-only is enough.
    """
    try:
        row = db.execute(
            "SELECT f.content_type, f.compression, b.body FROM media_files f"
            " JOIN media_bodies b ON b.sha256 = f.sha256 WHERE f.sha256 = ?",
            [sha256],
        ).fetchone()
    except sqlite3.OperationalError as exc:  # an archive from before media were kept
        if "no such table" in str(exc):
            return None
        raise
    if row is None:
        return None
    return row[0], unpack_body(row[1], row[2])
