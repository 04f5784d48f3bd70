"""Captures kept, and stored bytes read back: page bodies (``bodies``) and media files,
as they were fetched."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import zlib

import sqlite_utils

from ..errors import ArchiveError
from ..models import Capture


def unpack(compression: str | None, stored: bytes, what: str = "body") -> bytes:
    """The bytes as fetched, from what was stored with ``compression`` (None or "zlib")."""
    if compression in (None, "", "none"):
        return bytes(stored)
    if compression == "zlib":
        return zlib.decompress(stored)
    raise ArchiveError(f"{what} is stored with unknown compression {compression!r}")


def read_body(conn: sqlite3.Connection, sha: str) -> bytes | None:
    """The page body whose sha256 is ``sha``, as fetched (None when it is not kept)."""
    row = conn.execute("SELECT body, compression FROM bodies WHERE sha256 = ?", [sha]).fetchone()
    if row is None:
        return None
    return unpack(row[1], row[0], f"body {sha}")


def pack_capture(capture: Capture) -> tuple[str, bytes]:
    """The body's sha256 and its zlib form: the slow part of keeping a capture, done
    before the write lock is taken."""
    return hashlib.sha256(capture.body).hexdigest(), zlib.compress(capture.body, 6)


def keep_capture(
    db: sqlite_utils.Database,
    crawl_id: int | None,
    channel_id: int | None,
    capture: Capture,
    packed: tuple[str, bytes],
    *,
    page_type: str | None,
    posts: int = 0,
) -> tuple[int, bool]:
    """A ``snapshots`` row for ``capture``, its body kept once by sha256 (inside the
    caller's transaction), with the capture's provenance (the server's address, the
    request as sent) when it has any. Returns the snapshot's id and whether the body was
    new."""
    sha, compressed = packed
    body_stored = (
        db.execute(
            "INSERT OR IGNORE INTO bodies (sha256, size, compression, body) VALUES (?, ?, ?, ?)",
            [sha, len(capture.body), "zlib", compressed],
        ).rowcount
        == 1
    )
    snapshot_id = db.execute(
        "INSERT INTO snapshots (crawl_id, channel_id, url, requested_url, fetched_at,"
        " http_status, content_sha256, content_type, headers, protocol, page_type, posts,"
        " ip_address, request_line, request_headers)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            crawl_id,
            channel_id,
            capture.url,
            capture.requested_url,
            capture.fetched_at,
            capture.status,
            sha,
            capture.header("Content-Type"),
            json.dumps([list(h) for h in capture.headers], ensure_ascii=False),
            capture.protocol,
            page_type,
            posts,
            capture.ip_address,
            capture.request_line,
            (
                json.dumps([list(h) for h in capture.request_headers], ensure_ascii=False)
                if capture.request_line
                else None
            ),
        ],
    ).lastrowid
    return snapshot_id, body_stored
