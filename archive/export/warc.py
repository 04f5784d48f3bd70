"""The raw captures as a WARC/1.1 file that web-archive tools read.

Each snapshot (one fetched page) becomes a ``response`` record: the HTTP
status line and headers as captured, then the body as stored. A snapshot
whose body is identical to an earlier one in the same file becomes a
``revisit`` record (profile *identical-payload-digest*) that names the
earlier capture's URI, date and record id instead of repeating the body.
A ``warcinfo`` record comes first. The archived media files follow the
pages, each a ``response`` record under its original URL (:mod:`.media`).

The stored body was already decoded by the crawler (gzip and chunking
undone), so the headers that describe the wire encoding no longer hold:
``Content-Encoding`` and ``Transfer-Encoding`` are kept as
``X-Archive-Orig-…`` headers and ``Content-Length`` is set to the stored
body's length. Payload and block digests are SHA-256 (base32), so a
revisit's digest is the archive's own ``content_sha256``. Record ids are
derived from the capture (URI, date, digest, snapshot id): exporting the
same captures twice gives the same ids.

Records are written one at a time with warcio, each gzip-compressed on its
own unless the caller asks for a plain file; memory stays constant.
"""

from __future__ import annotations

import io
import json
import sqlite3
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import IO, Any

from warcio.statusandheaders import StatusAndHeaders
from warcio.utils import Digester
from warcio.warcwriter import WARCWriter

from .. import __version__
from ..store.bodies import read_body
from ..times import warc_date
from .digest import payload_digest
from .media import write_media_records
from .scope import ExportScope

_RECORD_NAMESPACE = uuid.UUID("5b0d4f7e-3a51-4c59-9d8e-2a6c1f0e7b11")

#: Headers that describe the wire encoding the crawler already undid.
_WIRE_HEADERS = ("content-encoding", "transfer-encoding")


class _Sha256Writer(WARCWriter):
    """warcio's writer with SHA-256 digests (warcio's default is SHA-1)."""

    @staticmethod
    def _create_digester() -> Digester:
        return Digester("sha256")


@dataclass
class WarcStats:
    """What a WARC export wrote."""

    responses: int = 0
    revisits: int = 0
    missing_bodies: int = 0  # snapshots whose body row is gone (skipped)
    media: int = 0  # records of media files (responses and revisits)

    @property
    def records(self) -> int:
        return self.responses + self.revisits + self.media


def record_id(url: str, fetched_at: str, content_sha256: str, snapshot_id: int) -> str:
    """A stable ``<urn:uuid:…>`` for the record of one snapshot."""
    name = f"{url}\n{fetched_at}\n{content_sha256}\n{snapshot_id}"
    return f"<urn:uuid:{uuid.uuid5(_RECORD_NAMESPACE, name)}>"


def http_headers(
    status: int | None, protocol: str | None, headers_json: str | None, body_length: int
) -> StatusAndHeaders:
    """The captured status line and headers, corrected for the decoded body."""
    code = int(status or 200)
    try:
        reason = HTTPStatus(code).phrase
    except ValueError:
        reason = ""
    headers: list[tuple[str, str]] = []
    for name, value in json.loads(headers_json or "[]"):
        lname = str(name).lower()
        if lname == "content-length":
            continue
        if lname in _WIRE_HEADERS:
            headers.append((f"X-Archive-Orig-{name}", str(value)))
            continue
        headers.append((str(name), str(value)))
    headers.append(("Content-Length", str(body_length)))
    proto = protocol if protocol and protocol.upper().startswith("HTTP/") else "HTTP/1.1"
    return StatusAndHeaders(f"{code} {reason}".strip(), headers, protocol=proto)


def _filters(alias: str, scope: ExportScope) -> tuple[list[str], dict[str, Any]]:
    where, params = [], {}
    if scope.channel is not None:
        where.append(f"{alias}.channel_id = (SELECT id FROM channels WHERE name = :channel)")
        params["channel"] = scope.channel
    if scope.since is not None:
        where.append(f"{alias}.fetched_at >= :since")
        params["since"] = scope.since
    if scope.until is not None:
        where.append(f"{alias}.fetched_at < :until")
        params["until"] = scope.until
    if scope.as_of is not None:
        where.append(f"{alias}.fetched_at <= :as_of")
        params["as_of"] = scope.as_of
    return where, params


def snapshot_query(scope: ExportScope) -> tuple[str, dict[str, Any]]:
    """Snapshots in ``scope`` in capture order, each with the first earlier one of equal body."""
    scope = scope.normalized()
    outer, params = _filters("s", scope)
    inner, _ = _filters("f", scope)
    first = " AND ".join(["f.content_sha256 = s.content_sha256", *inner])
    sql = (
        "SELECT s.id, s.url, s.fetched_at, s.http_status, s.protocol, s.headers,"
        " s.content_sha256,"
        f" (SELECT f.id FROM snapshots f WHERE {first} ORDER BY f.fetched_at, f.id LIMIT 1)"
        " AS first_id"
        " FROM snapshots s"
        + (" WHERE " + " AND ".join(outer) if outer else "")
        + " ORDER BY s.fetched_at, s.id"
    )
    return sql, params


def write_warc(
    conn: sqlite3.Connection,
    out: IO[bytes],
    scope: ExportScope | None = None,
    *,
    gzip: bool = True,
    filename: str | None = None,
    software: str = f"chanarchive/{__version__} (warcio)",
    progress: Callable[[int], None] | None = None,
) -> WarcStats:
    """Write the snapshots of ``scope`` (channel, since / until / as-of on ``fetched_at``) as WARC/1.1."""
    scope = (scope or ExportScope()).normalized()
    writer = _Sha256Writer(out, gzip=gzip, warc_version="1.1")
    info = {
        "software": software,
        "format": "WARC File Format 1.1",
        "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
        "description": "Raw page captures exported from a chanarchive archive",
        "chanarchive-scope": json.dumps(
            {k: v for k, v in vars(scope).items() if v not in (None, False)}, sort_keys=True
        ),
    }
    writer.write_record(writer.create_warcinfo_record(filename, info))
    stats = WarcStats()
    sql, params = snapshot_query(scope)
    cursor = conn.execute(sql, params)
    lookup = conn.cursor()
    try:
        for sid, url, fetched_at, status, protocol, headers, sha, first_id in cursor:
            this_id = record_id(url, fetched_at, sha, sid)
            if first_id is not None and first_id != sid:
                first_url, first_at = lookup.execute(
                    "SELECT url, fetched_at FROM snapshots WHERE id = ?", [first_id]
                ).fetchone()
                size = conn.execute("SELECT size FROM bodies WHERE sha256 = ?", [sha]).fetchone()
                record = writer.create_revisit_record(
                    url,
                    digest=payload_digest(sha),
                    refers_to_uri=first_url,
                    refers_to_date=warc_date(first_at),
                    http_headers=http_headers(status, protocol, headers, size[0] if size else 0),
                    warc_headers_dict={
                        "WARC-Record-ID": this_id,
                        "WARC-Date": warc_date(fetched_at),
                        "WARC-Refers-To": record_id(first_url, first_at, sha, first_id),
                    },
                )
                stats.revisits += 1
            else:
                body = read_body(conn, sha)
                if body is None:
                    stats.missing_bodies += 1
                    continue
                record = writer.create_warc_record(
                    url,
                    "response",
                    payload=io.BytesIO(body),
                    length=len(body),
                    http_headers=http_headers(status, protocol, headers, len(body)),
                    warc_headers_dict={
                        "WARC-Record-ID": this_id,
                        "WARC-Date": warc_date(fetched_at),
                    },
                )
                stats.responses += 1
            writer.write_record(record)
            if progress is not None and stats.records % 100 == 0:
                progress(stats.records)
    finally:
        cursor.close()
        lookup.close()
    stats.media = write_media_records(conn, writer, scope)
    if progress is not None:
        progress(stats.records)
    return stats
