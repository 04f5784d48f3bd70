"""``/-/capture/ID``: a capture as it was fetched, shown safely, with what it is said around it.

Every page a crawl fetched is a capture (``snapshots``: a channel page, a
post page, a deletion check's embed), its body kept once by SHA-256
(``bodies``). Its page (:func:`capture_data`, ``/-/capture/ID``, and its
``.json``) says what it is: the URL, when it was fetched, the HTTP status,
its content type and size, the crawl and channel it belongs to, the
deletion check it answered, and the captures of the same URL before and
after it. The stored page itself is shown below, cleaned
(:func:`cleaned_capture`, ``/-/capture/ID/view``: :mod:`.sanitise`, under
:data:`.sanitise.CAPTURE_CSP`), in an ``<iframe sandbox>``; its pictures
come from the archive's media files when the archive holds them. A capture
that is not a web page (JSON, a picture, anything but HTML) is offered as
a download of its bytes as fetched (:func:`raw_capture`,
``/-/capture/ID/raw``), as is every capture.

Bodies are read bounded: :data:`MAX_SHOWN` bytes are cleaned and shown,
:data:`MAX_RAW` downloaded, whatever a (shared, maybe hostile) archive
says their size is. The stored bytes are unpacked here as
:func:`archive.store.bodies.unpack` would, but never past the bound.
"""

from __future__ import annotations

import json
import sqlite3
import zlib
from typing import Any

from ...extract.encoding import decode_html
from ...store import connect_readonly
from . import values
from .paths import capture_path, channel_path, post_path, safe_href
from .sanitise import Cleaned, clean_page, plain_text_page

#: Bytes of a page cleaned and shown (past it: a download only).
MAX_SHOWN = 8 * 1024 * 1024
#: Bytes a capture's download gives at most.
MAX_RAW = 64 * 1024 * 1024
#: Content types shown as a page; any other capture is a download.
PAGE_TYPES = ("text/html", "application/xhtml+xml")
#: Media URLs of one page looked up in the archive (a page naming more gets the rest blank).
MAX_MEDIA_URLS = 5000
#: The largest stored header list read (JSON), and how many headers are shown.
MAX_HEADERS_JSON = 64 * 1024
MAX_HEADERS = 100


def view_path(snapshot: int, database: str | None = None) -> str:
    """The cleaned page of a capture (what its page shows in a sandboxed frame)."""
    return capture_path(snapshot, database, form="view")


def raw_path(snapshot: int, database: str | None = None) -> str:
    """A capture's bytes as fetched, as a download."""
    return capture_path(snapshot, database, form="raw")


def media_type(content_type: Any) -> str | None:
    """The bare type of a stored content type (``text/html``), or None."""
    if not isinstance(content_type, str) or len(content_type) > 300:
        return None
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind or None


def looks_like_page(start: bytes) -> bool:
    """Whether a body of no declared type starts as a web page does."""
    head = start.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<!--", b"<meta"))


def stored_body(conn: sqlite3.Connection, sha: Any, limit: int) -> tuple[bytes, bool] | None:
    """The body with SHA-256 ``sha`` as fetched, read to ``limit`` bytes at most, and whether
    that is all of it (None when the archive does not hold it or cannot unpack it)."""
    if not isinstance(sha, str):
        return None
    row = conn.execute(
        "SELECT compression, length(body) FROM bodies WHERE sha256 = ?", [sha]
    ).fetchone()
    if row is None or not isinstance(row[1], int):
        return None
    compression, length = row
    take = min(length, limit + 1)
    blob = conn.execute(
        "SELECT substr(body, 1, ?) FROM bodies WHERE sha256 = ?", [take, sha]
    ).fetchone()[0]
    blob = blob.encode("utf-8", "replace") if isinstance(blob, str) else bytes(blob or b"")
    if compression in (None, "", "none"):
        return blob[:limit], length <= limit
    if compression != "zlib":
        return None
    inflate = zlib.decompressobj()
    try:
        out = inflate.decompress(blob, limit + 1)
    except zlib.error:
        return None
    whole = len(out) <= limit and inflate.eof
    return out[:limit], whole


def _headers(value: Any) -> list[list[str]]:
    if not isinstance(value, str) or len(value) > MAX_HEADERS_JSON:
        return []
    try:
        found = json.loads(value)
    except (ValueError, RecursionError):
        return []
    if not isinstance(found, list):
        return []
    return [
        [values.text(pair[0], 100), values.text(pair[1], 500)]
        for pair in found[:MAX_HEADERS]
        if isinstance(pair, list) and len(pair) == 2
    ]


def _neighbour(
    conn: sqlite3.Connection, url: Any, at: Any, sid: int, database: str | None, *, newer: bool
) -> dict[str, Any] | None:
    if not isinstance(url, str) or not isinstance(at, str):
        return None
    sql = (
        "SELECT id, fetched_at FROM snapshots WHERE url = :url AND"
        " (fetched_at > :at OR (fetched_at = :at AND id > :id)) ORDER BY fetched_at, id LIMIT 1"
        if newer
        else "SELECT id, fetched_at FROM snapshots WHERE url = :url AND"
        " (fetched_at < :at OR (fetched_at = :at AND id < :id))"
        " ORDER BY fetched_at DESC, id DESC LIMIT 1"
    )
    row = conn.execute(sql, {"url": url, "at": at, "id": sid}).fetchone()
    if row is None or values.count(row[0]) is None:
        return None
    return {
        "id": row[0],
        "fetched_at": values.iso(row[1]),
        "href": capture_path(row[0], database),
    }


def _check(conn: sqlite3.Connection, sid: int, crawl: Any) -> dict[str, Any] | None:
    """The deletion check this capture answered (an embed), if any."""
    names = {r[1] for r in conn.execute("PRAGMA table_info(deletion_checks)")}
    if "snapshot" not in names:
        return None
    where = (
        "c.crawl_id = :crawl AND c.snapshot = :sid" if crawl is not None else "c.snapshot = :sid"
    )
    row = conn.execute(
        "SELECT c.outcome, c.reason, c.checked_at, ch.name, p.post_id FROM deletion_checks c"
        " JOIN posts p ON p.id = c.post JOIN channels ch ON ch.id = p.channel_id"
        f" WHERE {where} LIMIT 1",
        {"crawl": crawl, "sid": sid},
    ).fetchone()
    if row is None:
        return None
    outcome, reason, at, channel, post_id = row
    channel, post_id = values.exact(channel), values.exact(post_id)
    return {
        "outcome": values.text(outcome, 20),
        "reason": values.optional(reason, 500),
        "checked_at": values.iso(at),
        "post": values.text(f"{channel}/{post_id}", 300),
        "post_href": post_path(channel, post_id),
    }


def capture_data(
    conn: sqlite3.Connection, sid: int, database: str | None = None, *, post_id: str | None = None
) -> dict[str, Any] | None:
    """Everything ``/-/capture/ID`` says of capture ``sid`` (None: there is none).

    ``database``: the archive's name, for links (when more than one is
    served); ``post_id``: a post of the page to mark in it.
    """
    row = conn.execute(
        "SELECT s.id, s.crawl_id, ch.name, s.url, s.requested_url, s.fetched_at, s.http_status,"
        " substr(s.content_type, 1, 300), s.page_type, s.posts, s.content_sha256, b.size,"
        " CASE WHEN length(s.headers) <= :h THEN s.headers END, b.sha256 IS NOT NULL"
        " FROM snapshots s LEFT JOIN channels ch ON ch.id = s.channel_id"
        " LEFT JOIN bodies b ON b.sha256 = s.content_sha256 WHERE s.id = :id",
        {"id": sid, "h": MAX_HEADERS_JSON},
    ).fetchone()
    if row is None:
        return None
    (_, crawl, channel, url, requested, at, status, ctype, page_type, posts, sha, size,
     headers, kept) = row  # fmt: skip
    kind = media_type(ctype)
    if kind is None and kept:
        start = stored_body(conn, sha, 512)
        shown = start is not None and looks_like_page(start[0])
    else:
        shown = kind in PAGE_TYPES
    too_large = (values.count(size) or 0) > MAX_SHOWN
    channel_name = values.exact(channel) if channel is not None else None
    marked = values.text(post_id, 100) if post_id else None
    view = view_path(sid, database)
    return {
        "capture": {
            "id": sid,
            "url": values.optional(url, 2000),
            "href": safe_href(url),
            "requested_url": values.optional(requested, 2000) if requested != url else None,
            "fetched_at": values.iso(at),
            "http_status": values.count(status),
            "content_type": values.optional(ctype, 300),
            "page_type": values.optional(page_type, 20),
            "posts": values.count(posts),
            "sha256": values.sha256(sha),
            "size": values.count(size),
            "kept": bool(kept),
            "crawl_id": values.count(crawl),
            "channel": values.text(channel_name, 300) if channel_name is not None else None,
            "channel_href": channel_path(channel_name) if channel_name is not None else None,
            "headers": _headers(headers),
        },
        "shown": bool(kept and shown and not too_large),
        "too_large": bool(kept and shown and too_large),
        "view_href": view + (f"#post-{marked}" if marked else ""),
        "raw_href": raw_path(sid, database) if kept else None,
        "marked_post": marked,
        "before": _neighbour(conn, url, at, sid, database, newer=False),
        "after": _neighbour(conn, url, at, sid, database, newer=True),
        "captures_of_url": conn.execute(
            "SELECT COUNT(*) FROM snapshots WHERE url = ?", [url]
        ).fetchone()[0]
        if isinstance(url, str)
        else 1,
        "check": _check(conn, sid, crawl),
    }


def archived_files(conn: sqlite3.Connection, urls: set[str]) -> dict[str, str]:
    """The archive's media file of each URL it holds one for: {url: sha256}."""
    tables = {
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'"
            " AND name IN ('media_urls', 'post_media', 'media_files')"
        )
    }
    if "media_files" not in tables:
        return {}
    wanted = sorted(urls)[:MAX_MEDIA_URLS]
    found: dict[str, str] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        queries = []
        if "media_urls" in tables:
            queries.append(
                f"SELECT url, sha256 FROM media_urls WHERE url IN ({marks}) AND sha256 IS NOT NULL"
            )
        if "post_media" in tables:
            queries.append(
                f"SELECT url, sha256 FROM post_media WHERE url IN ({marks}) AND sha256 IS NOT NULL"
            )
        for sql in queries:
            for url, sha in conn.execute(
                f"SELECT x.url, x.sha256 FROM ({sql}) x JOIN media_files f ON f.sha256 = x.sha256",
                chunk,
            ):
                sha = values.sha256(sha)
                if sha is not None and isinstance(url, str):
                    found.setdefault(url, sha)
    return found


def _note(*lines: str) -> Cleaned:
    return Cleaned(plain_text_page(lines))


def cleaned_capture(path: str, sid: int) -> Cleaned | None:
    """Capture ``sid`` of the archive at ``path`` as a document safe to show (None: no such
    capture). Reads on a read-only connection of its own (a page may be megabytes)."""
    conn = connect_readonly(path)
    try:
        row = conn.execute(
            "SELECT url, substr(content_type, 1, 300), content_sha256 FROM snapshots WHERE id = ?",
            [sid],
        ).fetchone()
        if row is None:
            return None
        url, ctype, sha = row
        found = stored_body(conn, sha, MAX_SHOWN)
        if found is None:
            return _note("The body of this capture is not in the archive.")
        body, whole = found
        kind = media_type(ctype)
        if kind not in PAGE_TYPES and not (kind is None and looks_like_page(body[:512])):
            return _note(f"This capture is not a web page ({kind or 'no type'}): download it.")
        if not whole:
            return _note("This page is too large to be shown here: download it.")
        text = decode_html(body, ctype if isinstance(ctype, str) else None).text
        base = url if isinstance(url, str) else ""
        return clean_page(text, base, lambda urls: archived_files(conn, urls))
    finally:
        conn.close()


def raw_capture(path: str, sid: int) -> tuple[bytes, str] | None:
    """Capture ``sid``'s bytes as fetched (to :data:`MAX_RAW`) and a file name for them."""
    conn = connect_readonly(path)
    try:
        row = conn.execute(
            "SELECT substr(content_type, 1, 300), content_sha256 FROM snapshots WHERE id = ?",
            [sid],
        ).fetchone()
        if row is None:
            return None
        found = stored_body(conn, row[1], MAX_RAW)
        if found is None:
            return None
        kind = media_type(row[0]) or ""
        ending = {"text/html": "html", "application/xhtml+xml": "xhtml", "application/json": "json",
                  "text/plain": "txt", "application/xml": "xml", "text/xml": "xml"}.get(kind, "bin")  # fmt: skip
        return found[0], f"capture-{sid}.{ending}"
    finally:
        conn.close()
