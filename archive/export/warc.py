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

Provenance: the ``warcinfo`` record names the software, its version and
the export's scope; each record carries the server's address it came from
(``WARC-IP-Address``), and a capture whose request was kept is followed by
a ``request`` record (``WARC-Concurrent-To`` its response) holding the
request line and headers as they were sent. Captures made before
chanarchive kept these simply lack them. Values read back from the archive
are checked again here (a shared archive may hold anything): an address
that is not one, a request line that is not one, or a header that would
break its record is left out.

Records are written one at a time with warcio, each gzip-compressed on its
own unless the caller asks for a plain file; memory stays constant.
"""

from __future__ import annotations

import io
import json
import re
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
from ..models import checked_headers, checked_ip_address, checked_request_line
from ..store.bodies import read_body
from ..times import warc_date
from .digest import payload_digest
from .media import write_media_records
from .scope import ExportScope, table_columns

_RECORD_NAMESPACE = uuid.UUID("5b0d4f7e-3a51-4c59-9d8e-2a6c1f0e7b11")

#: Headers that describe the wire encoding the crawler already undid.
_WIRE_HEADERS = ("content-encoding", "transfer-encoding")
#: The protocol of a status line: HTTP/1.0, HTTP/1.1, HTTP/2 …
_PROTOCOL = re.compile(r"^HTTP/[0-9](?:\.[0-9])?\Z", re.IGNORECASE | re.ASCII)


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
    requests: int = 0  # request records, beside the captures whose request was kept

    @property
    def records(self) -> int:
        """The captures written (pages and media files; their request records aside)."""
        return self.responses + self.revisits + self.media


@dataclass(frozen=True)
class WrittenCapture:
    """A page capture the export wrote (a response or a revisit record), as a WACZ lists it."""

    snapshot_id: int
    url: str
    warc_date: str
    page_type: str | None
    channel_id: int | None
    http_status: int | None


def record_id(url: str, fetched_at: str, content_sha256: str, snapshot_id: int) -> str:
    """A stable ``<urn:uuid:…>`` for the record of one snapshot."""
    name = f"{url}\n{fetched_at}\n{content_sha256}\n{snapshot_id}"
    return f"<urn:uuid:{uuid.uuid5(_RECORD_NAMESPACE, name)}>"


def request_record_id(response_id: str) -> str:
    """A stable ``<urn:uuid:…>`` for the request record beside the record ``response_id``."""
    return f"<urn:uuid:{uuid.uuid5(_RECORD_NAMESPACE, 'request ' + response_id)}>"


def stored_headers(headers_json: Any) -> list[tuple[str, str]]:
    """Headers kept as a JSON list of [name, value], those a record can carry (see
    :func:`~archive.models.checked_headers`); none when the text is not such a list."""
    if not isinstance(headers_json, str | bytes):
        return []
    try:
        return checked_headers(json.loads(headers_json))
    except ValueError:
        return []


def http_headers(
    status: int | None, protocol: str | None, headers_json: str | None, body_length: int
) -> StatusAndHeaders:
    """The captured status line and headers, corrected for the decoded body."""
    code = status if isinstance(status, int) and 100 <= status <= 999 else 200
    try:
        reason = HTTPStatus(code).phrase
    except ValueError:
        reason = ""
    headers: list[tuple[str, str]] = []
    for name, value in stored_headers(headers_json):
        lname = name.lower()
        if lname == "content-length":
            continue
        if lname in _WIRE_HEADERS:
            headers.append((f"X-Archive-Orig-{name}", value))
            continue
        headers.append((name, value))
    headers.append(("Content-Length", str(body_length)))
    proto = protocol if isinstance(protocol, str) and _PROTOCOL.match(protocol) else "HTTP/1.1"
    return StatusAndHeaders(f"{code} {reason}".strip(), headers, protocol=proto)


def request_headers(request_line: Any, headers_json: Any) -> StatusAndHeaders | None:
    """The request as it was sent (its line and headers), or None when none was kept."""
    line = checked_request_line(request_line)
    if line is None:
        return None
    return StatusAndHeaders(line, stored_headers(headers_json), is_http_request=True)


def warcinfo(scope: ExportScope, software: str, description: str) -> dict[str, str]:
    """The fields of an export's ``warcinfo`` record: what made it, and what it covers."""
    return {
        "software": software,
        "format": "WARC File Format 1.1",
        "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
        "description": description,
        "chanarchive-version": __version__,
        "chanarchive-scope": json.dumps(
            {k: v for k, v in vars(scope).items() if v not in (None, False)}, sort_keys=True
        ),
    }


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


#: The provenance columns of ``snapshots`` (migration 0018); an older archive lacks them.
_PROVENANCE = ("ip_address", "request_line", "request_headers")


def snapshot_query(
    scope: ExportScope, columns: set[str] | None = None
) -> tuple[str, dict[str, Any]]:
    """Snapshots in ``scope`` in capture order, each with the first earlier one of equal body.

    ``columns``: those ``snapshots`` has (None: all of today's), so that an
    archive from before a column was added reads as NULL in its place.
    """
    scope = scope.normalized()
    outer, params = _filters("s", scope)
    inner, _ = _filters("f", scope)
    first = " AND ".join(["f.content_sha256 = s.content_sha256", *inner])
    provenance = ", ".join(
        f"s.{name}" if columns is None or name in columns else f"NULL AS {name}"
        for name in _PROVENANCE
    )
    sql = (
        "SELECT s.id, s.url, s.fetched_at, s.http_status, s.protocol, s.headers,"
        " s.content_sha256,"
        f" (SELECT f.id FROM snapshots f WHERE {first} ORDER BY f.fetched_at, f.id LIMIT 1)"
        f" AS first_id, s.page_type, s.channel_id, {provenance}"
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
    description: str = "Raw page captures exported from a chanarchive archive",
    progress: Callable[[int], None] | None = None,
    on_capture: Callable[[WrittenCapture], None] | None = None,
) -> WarcStats:
    """Write the snapshots of ``scope`` (channel, since / until / as-of on ``fetched_at``)
    and its media files as WARC/1.1; ``on_capture`` hears of each page capture written."""
    scope = (scope or ExportScope()).normalized()
    writer = _Sha256Writer(out, gzip=gzip, warc_version="1.1")
    writer.write_record(
        writer.create_warcinfo_record(filename, warcinfo(scope, software, description))
    )
    stats = WarcStats()
    sql, params = snapshot_query(scope, table_columns(conn, "snapshots"))
    cursor = conn.execute(sql, params)
    lookup = conn.cursor()
    try:
        for row in cursor:
            (sid, url, fetched_at, status, protocol, headers, sha, first_id, page_type,
             channel_id, ip_address, request_line, request_json) = row  # fmt: skip
            this_id = record_id(url, fetched_at, sha, sid)
            extra = {"WARC-Record-ID": this_id, "WARC-Date": warc_date(fetched_at)}
            address = checked_ip_address(ip_address)
            if address is not None:
                extra["WARC-IP-Address"] = address
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
                        **extra,
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
                    warc_headers_dict=extra,
                )
                stats.responses += 1
            writer.write_record(record)
            request = request_headers(request_line, request_json)
            if request is not None:
                writer.write_record(
                    writer.create_warc_record(
                        url,
                        "request",
                        http_headers=request,
                        warc_headers_dict={
                            **extra,
                            "WARC-Record-ID": request_record_id(this_id),
                            "WARC-Concurrent-To": this_id,
                        },
                    )
                )
                stats.requests += 1
            if on_capture is not None:
                on_capture(
                    WrittenCapture(
                        sid, url, extra["WARC-Date"], page_type, channel_id,
                        status if isinstance(status, int) else None,
                    )
                )  # fmt: skip
            if progress is not None and stats.records % 100 == 0:
                progress(stats.records)
    finally:
        cursor.close()
        lookup.close()
    stats.media = write_media_records(conn, writer, scope)
    if progress is not None:
        progress(stats.records)
    return stats
