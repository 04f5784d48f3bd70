"""The checks of an archive file: is what it keeps still what was fetched?

:func:`check_archive` runs, in order, through a read-only connection:

1. SQLite's own check of the file (``PRAGMA integrity_check``; with a
   sample, the faster ``quick_check``, which skips comparing the indexes
   with their tables);
2. every page body (``bodies``) unpacked and hashed again: its SHA-256 must
   be the one it is kept under, its size the one recorded; and every
   capture (``snapshots``) must still have its body;
3. every media file (``media_files`` with its bytes in ``media_bodies``)
   likewise, and every post's media item that names a file must find it;
4. every post version must name a capture (``post_versions.snapshot``)
   that exists, and every post's current version must exist;
5. every confirmed deletion (``post_deletions``) must have its evidence:
   the deletion check made at that moment, whose kept answer is the post's
   own embed saying "Post not found", or the post's own page answering
   404 / 410 at that moment (a web post); and a post marked deleted must
   have its deletion event.

With ``sample=N``, steps 2, 3 and 5 take N bodies, N media files and N
deletions at random (the rest are quick queries and run in full).

What this proves: the bytes kept are the bytes whose hash was taken when
they were fetched, the rows that tie posts to captures hold together, and
each deletion rests on an answer that says so. What it cannot prove: that
the hash was taken of what the server really sent (a capture is only as
trustworthy as the machine that made it), or that someone who rewrote a
body did not also rewrite its hash and every row naming it — only a copy
kept elsewhere (an exported WACZ, its ``datapackage-digest.json`` kept
apart) can show that.
"""

from __future__ import annotations

import hashlib
import sqlite3
import zlib
from collections.abc import Iterator
from typing import Any

from ..errors import ArchiveError
from ..extract.embed import is_embed_of, read_embed
from ..models import CHECK_DELETED, PAGE_GONE
from ..store.bodies import unpack
from .report import PROGRESS_EVERY, Problem, Progress, Report

#: The answers of a web post's own page that make it deleted.
GONE_STATUSES = (404, 410)


def check_archive(
    conn: sqlite3.Connection,
    report: Report,
    *,
    sample: int | None = None,
    progress: Progress | None = None,
) -> Iterator[Problem]:
    """The problems of the archive behind ``conn`` (read-only), as they are found.

    What was checked is counted in ``report``, and each problem too.
    ``sample``: check that many bodies, media files and deletions, taken at
    random, and SQLite's quick check instead of its full one.
    """
    if sample is not None:
        report.sampled = f"at most {sample:,} each of the page bodies, media files and deletions"
    checks = (_sqlite, _bodies, _captures, _media, _versions, _deletions)
    for check in checks:
        try:
            yield from check(conn, report, sample, progress)
        except (sqlite3.DatabaseError, ArchiveError) as exc:
            # A file too damaged to read on: say so, and go on with what can still be read.
            yield report.found(Problem("archive", f"cannot read on ({check.__name__[1:]}): {exc}"))


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _sqlite(conn, report: Report, sample, progress) -> Iterator[Problem]:
    if progress is not None:
        progress("SQLite integrity", 0, 1)
    pragma = "quick_check" if sample is not None else "integrity_check"
    rows = [str(row[0]) for row in conn.execute(f"PRAGMA {pragma}")]
    report.did(f"SQLite's {pragma}")
    if rows != ["ok"]:
        for row in rows:
            yield report.found(Problem("SQLite", row))


def _keys(conn, table: str, key: str, sample: int | None) -> tuple[int, Iterator[Any]]:
    """How many rows of ``table`` to check, and their keys (``sample`` of them at random)."""
    total = conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
    if sample is None:
        return total, (row[0] for row in conn.execute(f"SELECT {key} FROM {table}"))
    keys = [
        row[0]
        for row in conn.execute(f"SELECT {key} FROM {table} ORDER BY random() LIMIT ?", [sample])
    ]
    return len(keys), iter(keys)


def _hash_problem(what: str, key: Any, stored: Any, compression: Any, size: Any) -> str | None:
    """Why the kept bytes of ``key`` are not the bytes it names (None: they are)."""
    if not isinstance(stored, bytes):
        return "its bytes are missing" if stored is None else "its bytes are not a blob"
    try:
        data = unpack(compression, stored, what)
    except (zlib.error, ArchiveError) as exc:
        return f"its bytes cannot be unpacked ({exc})"
    actual = hashlib.sha256(data).hexdigest()
    if actual != key:
        return (
            f"its bytes hash to {actual}, not to the SHA-256 it is kept under (damaged or altered)"
        )
    if size is not None and size != len(data):
        return f"{len(data):,} bytes, where the archive records {size}"
    return None


def _bodies(conn, report: Report, sample, progress) -> Iterator[Problem]:
    total, keys = _keys(conn, "bodies", "rowid", sample)
    for done, rowid in enumerate(keys, 1):
        row = conn.execute(
            "SELECT sha256, size, compression, body FROM bodies WHERE rowid = ?", [rowid]
        ).fetchone()
        if row is None:
            continue
        sha, size, compression, stored = row
        problem = _hash_problem(f"body {sha}", sha, stored, compression, size)
        report.count("page bodies")
        if problem is not None:
            yield report.found(Problem(f"page body {sha}{_captured_as(conn, sha)}", problem))
        if progress is not None and (done % PROGRESS_EVERY == 0 or done == total):
            progress("page bodies", done, total)


def _captured_as(conn, sha: str) -> str:
    """`` (URL, fetched T, and N more captures)``: where a body was captured."""
    row = conn.execute(
        "SELECT url, fetched_at, (SELECT COUNT(*) FROM snapshots WHERE content_sha256 = ?)"
        " FROM snapshots WHERE content_sha256 = ? ORDER BY fetched_at LIMIT 1",
        [sha, sha],
    ).fetchone()
    if row is None:
        return " (no capture names it)"
    url, fetched_at, count = row
    more = f", and {count - 1:,} more capture{'s' if count > 2 else ''}" if count > 1 else ""
    return f" ({url}, fetched {fetched_at}{more})"


def _captures(conn, report: Report, sample, progress) -> Iterator[Problem]:
    if progress is not None:
        progress("captures", 0, 1)
    report.count("captures", conn.execute("SELECT COUNT(*) FROM snapshots").fetchone()[0])
    rows = conn.execute(
        "SELECT s.id, s.url, s.fetched_at, s.content_sha256 FROM snapshots s"
        " WHERE NOT EXISTS (SELECT 1 FROM bodies b WHERE b.sha256 = s.content_sha256)"
        " ORDER BY s.id"
    )
    for sid, url, fetched_at, sha in rows:
        yield report.found(
            Problem(
                f"capture {sid} ({url}, fetched {fetched_at})",
                f"its body {sha} is not in the archive",
            )
        )


def _media(conn, report: Report, sample, progress) -> Iterator[Problem]:
    if not {"media_files", "media_bodies"} <= _tables(conn):
        return  # an archive from before media files were kept
    total, keys = _keys(conn, "media_files", "sha256", sample)
    for done, sha in enumerate(keys, 1):
        row = conn.execute(
            "SELECT f.size, f.compression, b.body, f.url, f.content_type FROM media_files f"
            " LEFT JOIN media_bodies b ON b.sha256 = f.sha256 WHERE f.sha256 = ?",
            [sha],
        ).fetchone()
        if row is None:
            continue
        size, compression, stored, url, content_type = row
        problem = _hash_problem(f"media file {sha}", sha, stored, compression, size)
        report.count("media files")
        if problem is not None:
            kind = f"{content_type}, " if content_type else ""
            yield report.found(Problem(f"media file {sha} ({kind}{url})", problem))
        if progress is not None and (done % PROGRESS_EVERY == 0 or done == total):
            progress("media files", done, total)
    if "post_media" in _tables(conn):
        rows = conn.execute(
            "SELECT ch.name, p.post_id, pm.version, pm.slot, pm.sha256 FROM post_media pm"
            " JOIN posts p ON p.id = pm.post JOIN channels ch ON ch.id = p.channel_id"
            " WHERE pm.sha256 IS NOT NULL AND NOT EXISTS"
            " (SELECT 1 FROM media_files f WHERE f.sha256 = pm.sha256)"
        )
        for channel, post_id, version, slot, sha in rows:
            yield report.found(
                Problem(
                    f"post {channel}/{post_id} version {version}",
                    f"its media item {slot} names file {sha}, which the archive does not hold",
                )
            )


def _versions(conn, report: Report, sample, progress) -> Iterator[Problem]:
    if progress is not None:
        progress("post versions", 0, 1)
    report.count("post versions", conn.execute("SELECT COUNT(*) FROM post_versions").fetchone()[0])
    rows = conn.execute(
        "SELECT v.post, ch.name, p.post_id, v.version, v.snapshot FROM post_versions v"
        " LEFT JOIN posts p ON p.id = v.post LEFT JOIN channels ch ON ch.id = p.channel_id"
        " WHERE v.snapshot IS NULL"
        " OR NOT EXISTS (SELECT 1 FROM snapshots s WHERE s.id = v.snapshot)"
        " ORDER BY v.post, v.version"
    )
    for post, channel, post_id, version, snapshot in rows:
        what = (
            "names no capture"
            if snapshot is None
            else f"names capture {snapshot}, which the archive does not hold"
        )
        yield report.found(Problem(_post_name(post, channel, post_id, version), what))
    rows = conn.execute(
        "SELECT p.id, ch.name, p.post_id, p.current_version FROM posts p"
        " LEFT JOIN channels ch ON ch.id = p.channel_id WHERE NOT EXISTS"
        " (SELECT 1 FROM post_versions v WHERE v.post = p.id AND v.version = p.current_version)"
    )
    for post, channel, post_id, current in rows:
        yield report.found(
            Problem(
                _post_name(post, channel, post_id),
                f"its current version ({current}) is not in the archive",
            )
        )


def _post_name(post: int, channel: Any, post_id: Any, version: int | None = None) -> str:
    name = f"post {channel}/{post_id}" if channel is not None else f"post row {post}"
    return name + (f" version {version}" if version is not None else "")


def _deletions(conn, report: Report, sample, progress) -> Iterator[Problem]:
    tables = _tables(conn)
    if "post_deletions" not in tables:
        return
    rows = conn.execute(
        "SELECT p.id, ch.name, p.post_id, p.deleted_at FROM posts p"
        " JOIN channels ch ON ch.id = p.channel_id WHERE p.deleted_at IS NOT NULL"
        " AND NOT EXISTS (SELECT 1 FROM post_deletions d WHERE d.post = p.id"
        " AND d.deleted_at = p.deleted_at)"
    )
    for post, channel, post_id, deleted_at in rows:
        yield report.found(
            Problem(
                _post_name(post, channel, post_id),
                f"marked deleted at {deleted_at}, with no deletion event for it",
            )
        )
    total, keys = _keys(conn, "post_deletions", "rowid", sample)
    checks = "deletion_checks" in tables
    for done, rowid in enumerate(keys, 1):
        row = conn.execute(
            "SELECT p.id, p.channel_id, ch.name, p.post_id, d.deleted_at FROM post_deletions d"
            " JOIN posts p ON p.id = d.post JOIN channels ch ON ch.id = p.channel_id"
            " WHERE d.rowid = ?",
            [rowid],
        ).fetchone()
        if row is None:
            continue
        report.count("deletions")
        post, channel_id, channel, post_id, deleted_at = row
        problem = _deletion_problem(conn, checks, post, channel_id, channel, post_id, deleted_at)
        if problem is not None:
            yield report.found(
                Problem(f"post {channel}/{post_id} deleted at {deleted_at}", problem)
            )
        if progress is not None and (done % PROGRESS_EVERY == 0 or done == total):
            progress("deletions", done, total)


def _deletion_problem(
    conn, checks: bool, post: int, channel_id: int, channel: str, post_id: str, deleted_at: str
) -> str | None:
    """Why the deletion of ``post`` at ``deleted_at`` is not borne out (None: it is)."""
    gone = conn.execute(
        "SELECT id FROM snapshots WHERE channel_id = ? AND page_type = ? AND fetched_at = ?"
        f" AND http_status IN ({', '.join('?' for _ in GONE_STATUSES)}) LIMIT 1",
        [channel_id, PAGE_GONE, deleted_at, *GONE_STATUSES],
    ).fetchone()
    if gone is not None:
        return None  # a web post whose own page answered 404 / 410 then
    check = (
        conn.execute(
            "SELECT id, snapshot FROM deletion_checks WHERE post = ? AND outcome = ?"
            " AND checked_at = ? ORDER BY snapshot IS NULL, id LIMIT 1",
            [post, CHECK_DELETED, deleted_at],
        ).fetchone()
        if checks
        else None
    )
    if check is None:
        return "no evidence kept: no deletion check, no gone page at that moment"
    check_id, snapshot = check
    if snapshot is None:
        return (
            f"no evidence kept: deletion check {check_id} kept no answer"
            " (made before chanarchive kept them, or fed without one)"
        )
    answer = conn.execute(
        "SELECT s.url, s.http_status, b.body, b.compression FROM snapshots s"
        " LEFT JOIN bodies b ON b.sha256 = s.content_sha256 WHERE s.id = ?",
        [snapshot],
    ).fetchone()
    if answer is None:
        return f"its evidence, capture {snapshot}, is not in the archive"
    url, status, stored, compression = answer
    if not isinstance(url, str) or not is_embed_of(url, channel, post_id):
        return f"its evidence, capture {snapshot} ({url}), is not the post's own embed"
    if not isinstance(stored, bytes):
        return f"the body of its evidence, capture {snapshot}, is not in the archive"
    try:
        body = unpack(compression, stored, f"capture {snapshot}")
    except (zlib.error, ArchiveError) as exc:
        return f"the body of its evidence, capture {snapshot}, cannot be unpacked ({exc})"
    said = read_embed(status if isinstance(status, int) else 0, body, channel, post_id)
    if said.outcome != CHECK_DELETED:
        return f'its evidence, capture {snapshot} ({url}), does not say "Post not found": {said.reason}'
    return None
