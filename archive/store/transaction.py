"""The one way the archive is written: a short ``BEGIN IMMEDIATE`` transaction.

Every writer in :mod:`archive.store` (the migrations included) writes inside
:func:`write_transaction`; it has a module of its own so that the migrations
use it without importing the opening of the file (:mod:`.connection`), which
runs them.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator

import sqlite_utils


@contextlib.contextmanager
def write_transaction(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """``BEGIN IMMEDIATE`` … ``COMMIT``; rolled back on any exception.

    IMMEDIATE takes the write lock up front, so a busy archive makes us wait
    (busy timeout) rather than fail half-way through. Inside a transaction
    already open (a writer that puts several steps in one transaction, as
    the ingester does), it is a savepoint: rolled back alone on an exception,
    committed with the outer transaction.
    """
    if db.conn.in_transaction:
        db.conn.execute("SAVEPOINT nested_write")
        try:
            yield db
        except BaseException:
            # A full disk or an I/O error makes SQLite roll the whole transaction back:
            # then there is no savepoint left, and the error to raise is that one.
            if db.conn.in_transaction:
                db.conn.execute("ROLLBACK TO nested_write")
                db.conn.execute("RELEASE nested_write")
            raise
        else:
            db.conn.execute("RELEASE nested_write")
        return
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException as exc:
        if db.conn.in_transaction:
            try:
                db.conn.execute("ROLLBACK")
            except sqlite3.Error:
                raise exc from None  # the write's own error says why, not the rollback's
        raise
    else:
        try:
            db.conn.execute("COMMIT")
        except BaseException:
            if db.conn.in_transaction:  # a commit refused: nothing of it stays pending
                with contextlib.suppress(sqlite3.Error):
                    db.conn.execute("ROLLBACK")
            raise


def abandon_transaction(db: sqlite_utils.Database) -> None:
    """Roll back whatever transaction a refused write left open (a full disk, an I/O error),
    so that the connection can write again once the archive takes writes; a rollback the
    archive refuses too is left to SQLite, which gives such a transaction up itself."""
    if db.conn.in_transaction:
        with contextlib.suppress(sqlite3.Error):
            db.conn.execute("ROLLBACK")
