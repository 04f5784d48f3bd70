"""Archived media files out again: as WARC records, and as files in a folder.

A file is named by its sha256 and an extension from a fixed table of content
types (``.bin`` for the rest), so nothing a crawled server said picks a file
name. In a WARC export each file is a ``response`` record under the URL it
was first fetched from; another URL that gave identical bytes is a
``revisit`` record pointing at it.
"""

from __future__ import annotations

import io
import os
import re
import sqlite3
import stat
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from warcio.statusandheaders import StatusAndHeaders

from ..errors import BadInput
from ..models import checked_headers, checked_ip_address
from ..store.media import media_file
from ..times import warc_date
from .digest import payload_digest
from .output import OutputFailed
from .records import archived_files
from .scope import ExportScope, has_media_tables, table_columns

_RECORD_NAMESPACE = uuid.UUID("9c2e61a4-1f7b-4a3e-8d51-6b0a2e4c7f93")
_SHA256 = re.compile(r"^[0-9a-f]{64}\Z")

#: The extension of a file by its content type; anything else is ``.bin``.
EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "image/svg+xml": ".svg",
    "image/avif": ".avif",
    "video/mp4": ".mp4",
    "video/webm": ".webm",
    "video/quicktime": ".mov",
    "audio/ogg": ".ogg",
    "audio/mpeg": ".mp3",
    "audio/mp4": ".m4a",
    "application/pdf": ".pdf",
    "application/zip": ".zip",
    "text/plain": ".txt",
}


def file_name(sha256: str, content_type: str | None) -> str:
    """``SHA256.ext``: the name a media file is written under."""
    if not _SHA256.match(sha256):
        raise ValueError(f"not a sha256: {sha256!r}")
    kind = (content_type or "").split(";")[0].strip().lower()
    return sha256 + EXTENSIONS.get(kind, ".bin")


def _scope_filters(scope: ExportScope) -> tuple[list[str], dict[str, Any]]:
    """Which files a WARC export of ``scope`` holds: the channel's, first seen in its window."""
    where, params = [], {}
    if scope.channel is not None:
        where.append(
            "f.sha256 IN (SELECT pm.sha256 FROM post_media pm JOIN posts p ON p.id = pm.post"
            " WHERE p.channel_id = (SELECT id FROM channels WHERE name = :channel))"
        )
        params["channel"] = scope.channel
    for name, test in (("since", ">="), ("until", "<"), ("as_of", "<=")):
        value = getattr(scope, name)
        if value is not None:
            where.append(f"f.first_seen {test} :{name}")
            params[name] = value
    return where, params


@dataclass
class MediaRecord:
    """One media URL of a WARC export: the file's first URL (a response) or another one."""

    url: str
    fetched_at: str
    sha256: str
    content_type: str | None
    size: int
    first: bool  # the file's own URL: its bytes go here
    ip_address: str | None = None  # the server's address it came from, when kept


def media_records(conn: sqlite3.Connection, scope: ExportScope) -> Iterator[MediaRecord]:
    """The media URLs of ``scope`` that fetched a file, each file's first URL first."""
    if not has_media_tables(conn):
        return
    where, params = _scope_filters(scope.normalized())
    address = "u.ip_address" if "ip_address" in table_columns(conn, "media_urls") else "NULL"
    sql = (
        "SELECT u.url, COALESCE(u.last_tried, f.first_seen), f.sha256, f.content_type, f.size,"
        f" u.url = f.url, {address} FROM media_files f JOIN media_urls u"
        " ON u.sha256 = f.sha256 AND u.status = 'ok'"
        + (" WHERE " + " AND ".join(where) if where else "")
        + " ORDER BY f.first_seen, f.sha256, u.url <> f.url, u.url"
    )
    for url, at, sha, kind, size, first, ip_address in conn.execute(sql, params):
        yield MediaRecord(url, at, sha, kind, size, bool(first), checked_ip_address(ip_address))


def media_record_id(url: str, sha256: str) -> str:
    """A stable ``<urn:uuid:…>`` for the record of one media URL."""
    name = url + "\n" + sha256
    return f"<urn:uuid:{uuid.uuid5(_RECORD_NAMESPACE, name)}>"


def _http_headers(content_type: str | None, size: int) -> StatusAndHeaders:
    kept = checked_headers([("Content-Type", content_type)]) if content_type else []
    headers = kept or [("Content-Type", "application/octet-stream")]
    headers.append(("Content-Length", str(size)))
    return StatusAndHeaders("200 OK", headers, protocol="HTTP/1.1")


def write_media_records(conn: sqlite3.Connection, writer: Any, scope: ExportScope) -> int:
    """Write the media files of ``scope`` with warcio's ``writer``; returns the records written.

    A file's URLs come one after the other, its own first, so only the
    current file's first record is remembered: memory stays constant.
    """
    count = 0
    current: str | None = None  # the sha256 of the file whose URLs are being written
    origin: MediaRecord | None = None  # its response record (None: its bytes are not kept)
    for item in media_records(conn, scope):
        provenance = {} if item.ip_address is None else {"WARC-IP-Address": item.ip_address}
        if item.sha256 != current or origin is None:
            current, origin = item.sha256, None
            body = file_bytes(conn, item.sha256)
            if body is None:
                continue
            origin = item
            record = writer.create_warc_record(
                item.url,
                "response",
                payload=io.BytesIO(body),
                length=len(body),
                http_headers=_http_headers(item.content_type, len(body)),
                warc_headers_dict={
                    "WARC-Record-ID": media_record_id(item.url, item.sha256),
                    "WARC-Date": warc_date(item.fetched_at),
                    **provenance,
                },
            )
        else:
            record = writer.create_revisit_record(
                item.url,
                digest=payload_digest(item.sha256),
                refers_to_uri=origin.url,
                refers_to_date=warc_date(origin.fetched_at),
                http_headers=_http_headers(item.content_type, item.size),
                warc_headers_dict={
                    "WARC-Record-ID": media_record_id(item.url, item.sha256),
                    "WARC-Date": warc_date(item.fetched_at),
                    "WARC-Refers-To": media_record_id(origin.url, origin.sha256),
                    **provenance,
                },
            )
        writer.write_record(record)
        count += 1
    return count


def file_bytes(conn: sqlite3.Connection, sha256: str) -> bytes | None:
    row = media_file(conn, sha256)
    return row[1] if row else None


def check_media_dir(folder: str | os.PathLike[str]) -> Path:
    """``--media-dir``: a folder (made if missing, its parent must exist), never a file."""
    path = Path(folder)
    if path.exists() and not path.is_dir():
        raise BadInput(f"--media-dir {path} is a file, not a folder")
    if not path.exists() and not path.parent.is_dir():
        raise BadInput(f"--media-dir {path}: folder {path.parent} does not exist")
    return path


class MediaWriteFailed(OutputFailed):
    """Writing the media files stopped part way: what was written is said."""

    def __init__(self, message: str, written: int, total: int) -> None:
        super().__init__(message)
        self.written = written
        self.total = total


def write_media_dir(
    conn: sqlite3.Connection, records: Iterable[dict[str, Any]], folder: str | os.PathLike[str]
) -> int:
    """Write the archived files of ``records``' media into ``folder`` as ``SHA256.ext``.

    A file already there under its name (and of its size) is left as it is
    (the name is its content); a new one is written to a temporary name and renamed, so a
    reader never sees half a file. Returns the number of files written.
    When one cannot be written (a full disk, a name taken by a folder, no
    permission), :class:`MediaWriteFailed` says which, and how many were
    written before it; no temporary file is left behind.
    """
    path = check_media_dir(folder)
    wanted: dict[str, tuple[Path, Any]] = {}
    for record in records:
        for item in archived_files(record):
            sha = item["sha256"]
            if sha not in wanted:
                wanted[sha] = (path / file_name(sha, item.get("content_type")), item.get("size"))
    written = 0

    def failed(target: Path, exc: OSError | str) -> MediaWriteFailed:
        reason = exc if isinstance(exc, str) else exc.strerror or str(exc)
        return MediaWriteFailed(
            f"cannot write the media file {target}: {reason}; {written} of"
            f" {len(wanted)} media files were written into {path} before it (each whole,"
            " named by its content)",
            written,
            len(wanted),
        )

    try:
        path.mkdir(exist_ok=True)
    except OSError as exc:
        raise failed(path, exc) from None
    for sha, (target, size) in wanted.items():
        try:
            there = os.lstat(target)
        except FileNotFoundError:
            there = None
        except OSError as exc:
            raise failed(target, exc) from None
        if there is not None:
            if not stat.S_ISREG(there.st_mode):
                raise failed(target, "something that is not a file is in its place")
            if size is None or there.st_size == size:
                continue  # already there: its name is its content
        body = file_bytes(conn, sha)
        if body is None:
            continue
        temp = None
        try:
            fd, temp = tempfile.mkstemp(dir=path, prefix=".partial-")
            with os.fdopen(fd, "wb") as out:
                out.write(body)
            os.chmod(temp, 0o644)  # mkstemp makes it private; it is an export like -o
            os.replace(temp, target)
        except OSError as exc:
            if temp is not None:
                Path(temp).unlink(missing_ok=True)
            raise failed(target, exc) from None
        except BaseException:
            if temp is not None:
                Path(temp).unlink(missing_ok=True)
            raise
        written += 1
    return written
