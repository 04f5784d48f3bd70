"""The one way the archive is written: a short ``BEGIN IMMEDIATE`` transaction.

Every writer in :mod:`archive.store` (the migrations included) writes inside
:func:`write_transaction`; it has a module of its own so that the migrations
use it without importing the opening of the file (:mod:`.connection`), which
runs them.
"""

from __future__ import annotations

import contextlib
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
            db.conn.execute("ROLLBACK TO nested_write")
            db.conn.execute("RELEASE nested_write")
            raise
        else:
            db.conn.execute("RELEASE nested_write")
        return
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise
    else:
        db.conn.execute("COMMIT")
