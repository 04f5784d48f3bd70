"""Proof helpers for data safety: "refused means unchanged", and an archive that is whole."""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

SIDE_FILES = ("", "-wal", "-journal")


def file_bytes(path: Path) -> dict[str, str | None]:
    """SHA-256 of a file and of the side files SQLite keeps beside it (None when absent).

    An empty ``-wal`` counts as absent: it holds nothing, and a read-only
    SQLite connection to a WAL archive may leave one behind.
    """
    state: dict[str, str | None] = {}
    for suffix in SIDE_FILES:
        file = Path(f"{path}{suffix}")
        data = file.read_bytes() if file.exists() else None
        if suffix and not data:
            data = None
        state[suffix or "file"] = hashlib.sha256(data).hexdigest() if data is not None else None
    return state


@contextlib.contextmanager
def unchanged(*paths: Path) -> Iterator[None]:
    """Assert that every path (and its -wal and -journal) is byte for byte the same afterwards.

    SQLite's own ``-shm`` index is left out: a reader may create it.
    """
    before = {path: file_bytes(path) for path in paths}
    yield
    for path in paths:
        assert file_bytes(path) == before[path], f"{path} changed"


def integrity(path: Path) -> str:
    """``PRAGMA integrity_check`` of the SQLite file at ``path`` (``ok`` when whole)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return "; ".join(row[0] for row in conn.execute("PRAGMA integrity_check"))
    finally:
        conn.close()
