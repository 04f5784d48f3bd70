"""Stored bytes read back: page bodies (``bodies``) and media files, as they were fetched."""

from __future__ import annotations

import sqlite3
import zlib

from ..errors import ArchiveError


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
