"""A new archive file a command archived nothing into: taken away again.

A crawl of a source that cannot be reached, or one the archive refused
before its first page was written, still makes the file: its schema, its
``crawls`` row and errors. When that file did not exist before the command,
nothing in it is worth keeping (the crawl's failure is said on the command
line), and an empty archive left behind would only be mistaken for one.
:func:`remove_unused` removes it with its side files, but only when it holds
nothing beyond that bookkeeping (:func:`unused`), so a file that another
process wrote into meanwhile is kept. An archive that existed before a
command is never given here.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

from .connection import _open_readonly, archive_files

#: What a command that archived nothing may have written: its own bookkeeping.
BOOKKEEPING = frozenset({"_chanarchive_migrations", "crawls", "crawl_errors", "host_backoff"})


def unused(path: str | os.PathLike[str]) -> bool:
    """Whether the archive at ``path`` holds nothing but :data:`BOOKKEEPING` (or nothing).

    Every other table (pages, posts, channels, media, sources ...) must be
    empty; the tables a virtual table keeps for itself (full-text search)
    follow their content and are not looked at. A file that cannot be read
    is not taken as unused.
    """
    try:
        conn = _open_readonly(Path(path))
    except sqlite3.Error:
        return False
    try:
        tables = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'").fetchall()
        virtual = [name for name, sql in tables if (sql or "").upper().startswith("CREATE VIRTUAL")]
        for name, _sql in tables:
            if (
                name in BOOKKEEPING
                or name.startswith("sqlite_")
                or any(name == v or name.startswith(f"{v}_") for v in virtual)
            ):
                continue
            quoted = name.replace('"', '""')
            if conn.execute(f'SELECT 1 FROM "{quoted}" LIMIT 1').fetchone() is not None:
                return False
        return True
    except sqlite3.Error:
        return False
    finally:
        conn.close()


def remove_unused(path: str | os.PathLike[str]) -> bool:
    """Remove the archive at ``path`` and its ``-wal``, ``-shm`` and ``-journal`` when it is
    :func:`unused`; whether it was removed. No connection to it may be open."""
    file = Path(path)
    if not file.is_file() or not unused(file):
        return False
    for part in archive_files(file):
        with contextlib.suppress(FileNotFoundError):
            part.unlink()
    return True
