"""Opening the archive: read-write for the one writer, read-only for everything else.

The archive is one SQLite file in WAL mode. :func:`open_archive` opens it
for writing (creating and migrating it when asked); writers use short
``BEGIN IMMEDIATE`` transactions (:mod:`.transaction`), and a busy
timeout lets a second process wait for the lock instead of failing at
once. :func:`connect_readonly` opens it with ``mode=ro`` for the commands
that only read (query, search, history, export, serve); they read text that
is not UTF-8 with U+FFFD in place of its bad bytes (:func:`decoded`).
"""

from __future__ import annotations

import os
import sqlite3
import stat
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

from ..errors import ArchiveError, ArchiveUnwritable
from .faults import refusal
from .fts import register_functions
from .migrations import MIGRATIONS_TABLE, migrate

BUSY_TIMEOUT_MS = 30_000


def connect(path: str | os.PathLike[str]) -> sqlite3.Connection:
    """A writable connection in autocommit mode: transactions are always explicit."""
    conn = sqlite3.connect(
        str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
    )
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    register_functions(conn)  # the archive's triggers call them
    return conn


#: The files SQLite keeps beside a database, by suffix.
SIDE_SUFFIXES = ("-wal", "-shm", "-journal")


def archive_files(path: str | os.PathLike[str]) -> list[Path]:
    """The archive file and the side files SQLite keeps beside it (existing or not)."""
    path = Path(path)
    return [path, *(Path(f"{path}{suffix}") for suffix in SIDE_SUFFIXES)]


def check_archive_file(path: str | os.PathLike[str], *, create: bool, write: bool) -> bool:
    """Whether ``path`` may be used as an archive; True when it is new (absent or empty).

    A command writes only into a new file or a chanarchive archive: a missing
    file (when ``create``), an empty file, or an SQLite file with nothing in
    its schema and no mark of another application (``application_id`` and
    ``user_version`` both 0) is new; an SQLite file with anything in its
    schema but no ``_chanarchive_migrations``, or one another application
    has marked as its own, is someone else's database and is refused, as is
    anything that is not a regular file or not SQLite. The decision is made
    from a read-only (immutable) look, before anything is written: a refused
    file is left byte for byte, and no ``-wal`` or ``-shm`` appears beside it. With ``write``, a file (or folder) that cannot
    be written is refused too, before anything is attempted. Raises
    :class:`ArchiveError` with a one-line reason; reads the file only.
    """
    path = Path(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise ArchiveError(f"cannot open archive {path}: {exc.strerror or exc}") from None
    if info is None:
        if not create:
            raise ArchiveError(f"no archive at {path}")
        folder = path.parent
        if not folder.is_dir():
            raise ArchiveError(f"cannot create archive {path}: folder {folder} does not exist")
        if write and not os.access(folder, os.W_OK | os.X_OK):
            raise ArchiveError(f"cannot create archive {path}: folder {folder} is not writable")
        return True
    if stat.S_ISDIR(info.st_mode):
        raise ArchiveError(f"{path} is a folder, not an archive file")
    if not stat.S_ISREG(info.st_mode):
        raise ArchiveError(f"{path} is not a regular file, so not an archive")
    if write:
        if not os.access(path, os.W_OK):
            raise ArchiveError(f"archive {path} is read-only: this command writes to it")
        folder = path.parent
        side_ok = all(p.exists() and os.access(p, os.W_OK) for p in archive_files(path)[1:3])
        if not side_ok and not os.access(folder, os.W_OK | os.X_OK):
            raise ArchiveError(
                f"archive {path} cannot be written: its folder {folder} is read-only"
                " (SQLite keeps its -wal and -shm files there)"
            )
    # SQLite reads the file itself: a plain open() and close() here would drop
    # the POSIX locks of this process's own connections to it (SQLite's FAQ).
    found = _schema(path)
    if MIGRATIONS_TABLE in found.names:
        return False
    if found.names:
        raise ArchiveError(
            f"{path} is an SQLite database but not a chanarchive archive: refusing to touch it"
        )
    if found.application_id or found.user_version:
        # Empty, but another application has made it its own: not ours to fill.
        marks = [
            f"{name} {value}"
            for name, value in (
                ("application_id", found.application_id),
                ("user_version", found.user_version),
            )
            if value
        ]
        raise ArchiveError(
            f"{path} is an SQLite database of another application ({', '.join(marks)}),"
            " not a chanarchive archive: refusing to touch it"
        )
    return True


@dataclass(frozen=True)
class _Schema:
    """What an SQLite file says about itself before anything is written to it."""

    names: frozenset[str]  # every name in its schema (tables, indexes, views, triggers)
    application_id: int
    user_version: int


def _schema(path: Path) -> _Schema:
    """The schema names and header marks of the SQLite file ``path``, read without writing."""
    conn = None
    # With no -wal beside it there is no WAL content to miss, and an immutable
    # read leaves no side file behind.
    immutable = not Path(f"{path}-wal").exists()
    try:
        uri = _readonly_uri(path) + ("&immutable=1" if immutable else "")
        conn = sqlite3.connect(uri, uri=True, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        names = frozenset(row[0] for row in conn.execute("SELECT name FROM sqlite_master"))
        application_id = conn.execute("PRAGMA application_id").fetchone()[0]
        user_version = conn.execute("PRAGMA user_version").fetchone()[0]
        return _Schema(names, application_id, user_version)
    except sqlite3.DatabaseError as exc:
        if _write_refused(exc):  # even a look needs room for the WAL index (-shm)
            raise ArchiveUnwritable(refusal(exc, path)) from exc
        detail = "not SQLite, so not an archive" if "not a database" in str(exc) else ""
        raise ArchiveError(
            f"cannot open archive {path}: {exc}" + (f" ({detail})" if detail else "")
        ) from exc
    finally:
        if conn is not None:
            conn.close()


def _readonly_uri(path: Path) -> str:
    return "file:" + urllib.parse.quote(str(path.resolve())) + "?mode=ro"


#: SQLite's page size for new archives (existing ones keep theirs).
PAGE_SIZE = int(os.environ.get("CHANARCHIVE_PAGE_SIZE", "8192"))


def open_archive(path: str | os.PathLike[str], *, create: bool = True) -> sqlite_utils.Database:
    """Open for writing (and if needed create and migrate) the archive at ``path``.

    Raises :class:`ArchiveError` with a one-line reason when the file is
    missing (and ``create`` is false), is not a chanarchive archive (see
    :func:`check_archive_file`: another SQLite database is never touched),
    is read-only, or cannot be opened; :class:`ArchiveUnwritable` when
    making or migrating it is refused a write (a full disk, an I/O error).
    """
    path = Path(path)
    check_archive_file(path, create=create, write=True)
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
            if _write_refused(exc):  # e.g. a full disk while a new archive is made
                raise ArchiveUnwritable(refusal(exc, path)) from exc
            raise ArchiveError(f"cannot open archive {path}: {exc}") from exc
        except sqlite3.DatabaseError as exc:
            if conn is not None:
                conn.close()
            raise ArchiveError(f"cannot open archive {path}: {exc}") from exc


#: SQLite's names of the errors that refuse a write whatever is written (full, I/O, read-only).
_REFUSALS = ("SQLITE_FULL", "SQLITE_IOERR", "SQLITE_READONLY")


def _write_refused(exc: sqlite3.Error) -> bool:
    return str(getattr(exc, "sqlite_errorname", "")).startswith(_REFUSALS)


def _prepare(conn: sqlite3.Connection, path: Path) -> sqlite_utils.Database:
    if conn.execute("PRAGMA page_count").fetchone()[0] == 0:
        # A new archive: larger pages pack its rows of a few KB (post versions) tighter.
        conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
    mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    if mode.lower() != "wal":
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode.lower() != "wal":
            raise ArchiveError(f"cannot switch {path} to WAL mode (got {mode})")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    db = sqlite_utils.Database(conn)
    migrate(db)
    return db


def connect_readonly(path: str | os.PathLike[str]) -> sqlite3.Connection:
    """A read-only connection to the archive at ``path``; nothing through it can change the file.

    SQLite shares the WAL index (``-shm``) with writers, so a crawl may run
    meanwhile and the reader sees each committed page. Nothing is created or
    migrated: an archive written by an older chanarchive is read as it is.
    Raises :class:`ArchiveError` when the file is missing or is not an archive.
    """
    file = Path(path)
    if check_archive_file(file, create=False, write=False):
        raise ArchiveError(f"{path} is empty: not a chanarchive archive (crawl something first)")
    try:
        return _open_readonly(file)
    except sqlite3.OperationalError as exc:
        # In a folder this user cannot write, SQLite cannot make the WAL index
        # (-shm) a reader needs. With no WAL content to miss, the file alone is
        # the whole archive: read it as an immutable file.
        wal = Path(f"{file}-wal")
        if wal.exists() and wal.stat().st_size > 0:
            raise ArchiveError(f"cannot open archive {path}: {exc}") from exc
        try:
            return _open_readonly(file, immutable=True)
        except sqlite3.DatabaseError:
            raise ArchiveError(f"cannot open archive {path}: {exc}") from exc
    except sqlite3.DatabaseError as exc:
        raise ArchiveError(f"cannot open archive {path}: {exc}") from exc


def decoded(data: bytes) -> str:
    """Text as a reader gets it: UTF-8, a byte that is not read as U+FFFD.

    SQLite keeps whatever bytes a TEXT column was given; a shared archive may
    hold some that are not UTF-8, and one such value must not stop a reader.
    """
    return data.decode("utf-8", "replace")


def _open_readonly(file: Path, *, immutable: bool = False) -> sqlite3.Connection:
    uri = _readonly_uri(file) + ("&immutable=1" if immutable else "")
    conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    conn.text_factory = decoded
    register_functions(conn)  # so that a refused write says "readonly", not "no such function"
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
    except BaseException:
        conn.close()
        raise
    return conn
