"""A write the archive itself refused, told from a write an item's values made fail.

SQLite and the file system refuse a write for reasons that are the
archive's, not the row's: a full disk (``SQLITE_FULL``, or a file past its
size limit, which SQLite reports as a disk I/O error), a read-only file or
folder, an I/O error, a damaged file, a lock held past the busy timeout.
Then nothing written afterwards can succeed either, and whoever writes
stops (a crawl) or waits and tries again (the ingester), saying why in one
line: :func:`refusal`. A constraint or a value SQLite cannot bind is the
item's fault alone (:func:`archive_fault` is false), and the next item may
well be written.
"""

from __future__ import annotations

import os
import sqlite3

from ..errors import ArchiveUnwritable

#: SQLite errors that say the item, not the archive, is at fault.
ITEM_FAULTS = (sqlite3.IntegrityError, sqlite3.DataError, sqlite3.ProgrammingError)

#: How a refused write starts its one line (and a crawl's reason).
CANNOT_WRITE = "the archive cannot be written"


def archive_fault(exc: BaseException) -> bool:
    """Whether ``exc`` is the archive failing (locked, full, read-only, I/O, damaged)."""
    if isinstance(exc, (OSError, ArchiveUnwritable)):
        return True
    return isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, ITEM_FAULTS)


def refusal(exc: BaseException, path: str | os.PathLike[str]) -> str:
    """The one line that says why and where a write was refused, e.g.
    ``the archive cannot be written: database or disk is full (/data/archive.db)``."""
    if isinstance(exc, ArchiveUnwritable):
        return str(exc)
    if isinstance(exc, OSError):
        detail = exc.strerror or str(exc) or type(exc).__name__
    else:
        detail = str(exc) or type(exc).__name__
    return f"{CANNOT_WRITE}: {detail} ({os.fspath(path)})"


def unwritable(exc: BaseException, path: str | os.PathLike[str]) -> ArchiveUnwritable:
    """:class:`~archive.errors.ArchiveUnwritable` saying :func:`refusal` (raise it ``from exc``)."""
    return exc if isinstance(exc, ArchiveUnwritable) else ArchiveUnwritable(refusal(exc, path))


def restart_log(db) -> bool:
    """After a refused write: copy the write-ahead log into the archive file and have the
    next writes reuse the log from its start, so that the few writes closing a crawl need
    no more room than the log already holds. Best effort (it needs the archive file to
    take the log's pages); whether the log restarted."""
    try:
        busy, _frames, _copied = db.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()
    except sqlite3.Error:
        return False
    return not busy
