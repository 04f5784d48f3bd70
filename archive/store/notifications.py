"""Where a source's changes are announced (``notify_targets``), and every message sent (``notifications``).

Each target keeps a watermark, ``notified_until``: every change event up
to it has been told. Only a message that went out moves it on, and only
from where it stood when the message was composed; a failed message is
recorded and counted, and its events go out with the next one. The
scheduler decides whom to tell and what; these functions write it, each
in one transaction.
"""

from __future__ import annotations

from collections.abc import Mapping

import sqlite_utils

from ..times import utcnow
from .transaction import write_transaction

#: ``notifications.status``: the message went out, or it did not.
SENT, FAILED = "sent", "failed"


def set_notify_targets(db: sqlite_utils.Database, source: str, targets: Mapping[str, str]) -> None:
    """Make ``targets`` (apprise URL -> its masked form) the targets of ``source``.

    A new target starts from now (changes before it was added are not
    sent); a kept one keeps its watermark; the others are dropped.
    """
    urls = list(targets)
    now = utcnow()
    with write_transaction(db):
        db.execute(
            f"DELETE FROM notify_targets WHERE source = ? AND url NOT IN ({', '.join('?' * len(urls))})",
            [source, *urls],
        )
        for url, shown in targets.items():
            db.execute(
                "INSERT OR IGNORE INTO notify_targets (source, url, shown, added_at, notified_until)"
                " VALUES (?, ?, ?, ?, ?)",
                [source, url, shown, now, now],
            )


def record_notification(
    db: sqlite_utils.Database,
    *,
    source: str,
    url: str,
    shown: str,
    attempted_at: str,
    after: str,
    until: str,
    changes: int,
    title: str,
    body: str,
    error: str | None,
) -> None:
    """Record one message to target ``url`` of ``source``, telling the events in (after, until].

    Sent (``error`` None): the watermark moves from ``after`` to ``until``
    and the failures are forgotten. Failed: the watermark stays, the
    failure is counted and its reason kept.
    """
    with write_transaction(db):
        db.execute(
            "INSERT INTO notifications (source, target, attempted_at, status, changes, after,"
            " until, title, body, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                source, shown, attempted_at, FAILED if error else SENT, changes, after, until,
                title, body, error,
            ],
        )  # fmt: skip
        if error:
            db.execute(
                "UPDATE notify_targets SET last_attempt_at = ?, failures = failures + 1,"
                " last_error = ? WHERE source = ? AND url = ?",
                [attempted_at, error, source, url],
            )
        else:
            db.execute(
                "UPDATE notify_targets SET notified_until = ?, last_attempt_at = ?,"
                " last_sent_at = ?, failures = 0, last_error = NULL"
                " WHERE source = ? AND url = ? AND notified_until = ?",
                [until, attempted_at, attempted_at, source, url, after],
            )


def move_watermark(
    db: sqlite_utils.Database, source: str, url: str, *, after: str, until: str
) -> None:
    """Nothing to tell target ``url`` of ``source`` in (after, until]: its watermark moves on."""
    with write_transaction(db):
        db.execute(
            "UPDATE notify_targets SET notified_until = ?"
            " WHERE source = ? AND url = ? AND notified_until = ?",
            [until, source, url, after],
        )
