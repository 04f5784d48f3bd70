"""Opening the archive: read-write for the one writer, read-only for everything else.

The archive is one SQLite file in WAL mode. :func:`open_archive` opens it
for writing (creating and migrating it when asked); writers use short
``BEGIN IMMEDIATE`` transactions (:func:`write_transaction`), and a busy
timeout lets a second process wait for the lock instead of failing at
once. :func:`connect_readonly` opens it with ``mode=ro`` for the commands
that only read (query, search, history, export, serve).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import sqlite_utils

from ..errors import ArchiveError

BUSY_TIMEOUT_MS = 30_000


def connect(path: str | os.PathLike[str]) -> sqlite3.Connection:
    """A writable connection in autocommit mode: transactions are always explicit."""
    conn = sqlite3.connect(
        str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
    )
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    return conn


def open_archive(path: str | os.PathLike[str], *, create: bool = True) -> sqlite_utils.Database:
    """Open (and if needed create and migrate) the archive at ``path``.

    Raises :class:`ArchiveError` with a one-line reason when the file is
    missing (and ``create`` is false), is not SQLite, or cannot be opened.
    """
    path = Path(path)
    if not path.exists():
        if not create:
            raise ArchiveError(f"no archive at {path}")
        if path.parent and not path.parent.exists():
            raise ArchiveError(f"cannot create archive {path}: folder {path.parent} does not exist")
    elif path.is_dir():
        raise ArchiveError(f"{path} is a folder, not an archive file")
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    pause = 0.05
    while True:
        conn = None
        try:
            conn = connect(path)
            return _prepare(conn, path)
        except sqlite3.OperationalError as exc:
            if conn is not None:
                conn.close()
            # Two processes creating or migrating one file at once can meet in
            # a lock SQLite refuses to wait for (it would deadlock): try again.
            if "locked" in str(exc) and time.monotonic() < deadline:
                time.sleep(pause)
                pause = min(pause * 2, 1.0)
                continue
            raise ArchiveError(f"cannot open archive {path}: {exc}") from exc
        except sqlite3.DatabaseError as exc:
            if conn is not None:
                conn.close()
            raise ArchiveError(f"cannot open archive {path}: {exc}") from exc


def _prepare(conn: sqlite3.Connection, path: Path) -> sqlite_utils.Database:
    mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    if mode.lower() != "wal":
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode.lower() != "wal":
            raise ArchiveError(f"cannot switch {path} to WAL mode (got {mode})")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    db = sqlite_utils.Database(conn)
    from .migrations import migrate  # the migrations write through write_transaction below

    migrate(db)
    return db


@contextlib.contextmanager
def write_transaction(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """``BEGIN IMMEDIATE`` … ``COMMIT``; rolled back on any exception.

    IMMEDIATE takes the write lock up front, so a busy archive makes us wait
    (busy timeout) rather than fail half-way through.
    """
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise
    else:
        db.conn.execute("COMMIT")


def connect_readonly(path: str | os.PathLike[str]) -> sqlite3.Connection:
    """A read-only connection to the archive at ``path``; nothing through it can change the file.

    SQLite shares the WAL index (``-shm``) with writers, so a crawl may run
    meanwhile and the reader sees each committed page. Raises
    :class:`ArchiveError` when the file is missing or is not an archive.
    """
    file = Path(path)
    if not file.exists():
        raise ArchiveError(f"no archive at {path}")
    if file.is_dir():
        raise ArchiveError(f"{path} is a folder, not an archive file")
    uri = "file:" + urllib.parse.quote(str(file.resolve())) + "?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    except sqlite3.DatabaseError as exc:
        raise ArchiveError(f"cannot open archive {path}: {exc}") from exc
    if "posts" not in tables:
        conn.close()
        raise ArchiveError(f"{path} is not a chanarchive archive (it has no posts table)")
    return conn
