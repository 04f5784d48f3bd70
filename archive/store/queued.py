"""Crawls fed through a queue: each job begins one crawl, each delivery is written once.

A distributed crawl's pages reach the archive through a queue that may hand
the same thing over twice (a writer killed after its commit but before it
acknowledged). These rows make that harmless: ``queued_crawls`` names the
crawl row of each job token, ``queued_deliveries`` the requests of a running
crawl already written. Both are written in the caller's transaction, next to
the pages themselves.
"""

from __future__ import annotations

import json
from typing import Any

import sqlite_utils

from ..errors import BadRecord
from ..models import RUNNING
from ..times import utcnow
from .crawls import finish_crawl
from .transaction import write_transaction


def begin_queued_crawl(
    db: sqlite_utils.Database,
    token: str,
    source: str,
    *,
    queue: str,
    trigger: str = "manual",
    options: dict[str, Any] | None = None,
) -> tuple[int, bool]:
    """The crawl row of job ``token``, begun now unless it was already: (crawl id, new).

    The row's ``worker`` names the queue (``queue@…``), not a process: a
    local crawl that looks for crawls left running by dead processes leaves
    it alone, and the ingester finishes it. A token already naming a crawl
    of another source or queue is :class:`~archive.errors.BadRecord`: a job
    handed over again is the same job.
    """
    with write_transaction(db):
        row = db.execute(
            "SELECT q.crawl_id, q.queue, c.source FROM queued_crawls q"
            " JOIN crawls c ON c.id = q.crawl_id WHERE q.token = ?",
            [token],
        ).fetchone()
        if row is not None:
            if (row[1], row[2]) != (queue, source):
                raise BadRecord(
                    f"job {token} names crawl {row[0]} of {row[2]} on queue {row[1]},"
                    f" not of {source} on {queue}"[:300]
                )
            return row[0], False
        crawl_id = db.execute(
            "INSERT INTO crawls (source, started_at, status, trigger, options, worker)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [
                source,
                utcnow(),
                RUNNING,
                trigger,
                json.dumps(options or {}, sort_keys=True),
                f"queue@{queue}",
            ],
        ).lastrowid
        db.execute(
            "INSERT INTO queued_crawls (token, crawl_id, queue) VALUES (?, ?, ?)",
            [token, crawl_id, queue],
        )
        return crawl_id, True


def delivery_batch(db: sqlite_utils.Database):
    """One transaction for a batch of deliveries: committed whole, before any is acknowledged.

    Inside it, each delivery is written in :func:`one_delivery`, so a delivery
    that cannot be written is rolled back alone and the rest still commit.
    """
    return write_transaction(db)


def one_delivery(db: sqlite_utils.Database):
    """A savepoint for one delivery inside :func:`delivery_batch`."""
    return write_transaction(db)


def finish_queued_crawl(db: sqlite_utils.Database, crawl_id: int, **how: Any) -> dict[str, Any]:
    """End a queued crawl's row (see :func:`~.crawls.finish_crawl`) and forget its deliveries,
    in one transaction; returns the finished row."""
    with write_transaction(db):
        row = finish_crawl(db, crawl_id, **how)
        forget_deliveries(db, crawl_id)
    return row


def claim_delivery(db: sqlite_utils.Database, crawl_id: int, request_key: str) -> bool:
    """True the first time a request's delivery is written for its crawl; call in its transaction."""
    cursor = db.execute(
        "INSERT OR IGNORE INTO queued_deliveries (crawl_id, request_key) VALUES (?, ?)",
        [crawl_id, request_key],
    )
    return cursor.rowcount == 1


def forget_deliveries(db: sqlite_utils.Database, crawl_id: int) -> None:
    """A finished crawl takes no more deliveries: its keys are no longer needed."""
    db.execute("DELETE FROM queued_deliveries WHERE crawl_id = ?", [crawl_id])


def crawl_status(db: sqlite_utils.Database, crawl_id: int) -> str | None:
    row = db.execute("SELECT status FROM crawls WHERE id = ?", [crawl_id]).fetchone()
    return row[0] if row else None


def queued_crawl_status(db: sqlite_utils.Database, crawl_id: int, queue: str) -> str | None:
    """The status of crawl ``crawl_id`` if it is a crawl of ``queue``, else None."""
    row = db.execute(
        "SELECT c.status FROM queued_crawls q JOIN crawls c ON c.id = q.crawl_id"
        " WHERE q.crawl_id = ? AND q.queue = ?",
        [crawl_id, queue],
    ).fetchone()
    return row[0] if row else None


def token_known(db: sqlite_utils.Database, token: str) -> bool:
    """Whether job ``token`` began a crawl (of any queue)."""
    return db.execute("SELECT 1 FROM queued_crawls WHERE token = ?", [token]).fetchone() is not None


def running_queued_crawls(db: sqlite_utils.Database, queue: str) -> list[tuple[str, int]]:
    """(token, crawl id) of this queue's crawls still running."""
    return [
        (token, crawl_id)
        for token, crawl_id in db.execute(
            "SELECT q.token, q.crawl_id FROM queued_crawls q JOIN crawls c ON c.id = q.crawl_id"
            " WHERE q.queue = ? AND c.status = ? ORDER BY q.crawl_id",
            [queue, RUNNING],
        )
    ]


def unannounced_crawls(db: sqlite_utils.Database, queue: str) -> list[tuple[str, int]]:
    """(token, crawl id) of this queue's finished crawls not yet announced."""
    return [
        (token, crawl_id)
        for token, crawl_id in db.execute(
            "SELECT q.token, q.crawl_id FROM queued_crawls q JOIN crawls c ON c.id = q.crawl_id"
            " WHERE q.queue = ? AND c.status != ? AND q.announced = 0 ORDER BY q.crawl_id",
            [queue, RUNNING],
        )
    ]


def mark_announced(db: sqlite_utils.Database, token: str) -> None:
    with write_transaction(db):
        db.execute("UPDATE queued_crawls SET announced = 1 WHERE token = ?", [token])
