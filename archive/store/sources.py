"""The ``sources`` table: the periodic crawls the scheduler runs, one row per source key.

The scheduler decides what a row says (a source's schedule and crawl
options, the adaptive interval it learned, the run it plans next); these
functions write it, each in one transaction, and stamp the time of the
write. Removing a source removes where its changes were announced
(``notify_targets``) with it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import sqlite_utils

from ..times import utcnow
from .transaction import write_transaction

#: ``merge(old, row)``: the columns an update of an existing source changes.
Merge = Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]]


def save_sources(db: sqlite_utils.Database, rows: Iterable[dict[str, Any]], *, merge: Merge) -> int:
    """Write ``rows`` (``sources`` rows by column, ``key`` in each) in one transaction.

    A key not in the table is inserted as given (a column left out takes its
    default: a new source is active); a key already there has its row
    updated with ``merge(old_row, row)``, the caller's choice of what an
    update keeps. ``created_at`` (new rows) and ``updated_at`` are stamped
    now. All or nothing; returns how many rows were new.
    """
    now = utcnow()
    added = 0
    with write_transaction(db):
        for row in rows:
            old = _source_row(db, row["key"])
            if old is None:
                values = {**row, "created_at": now, "updated_at": now}
                columns = ", ".join(values)
                marks = ", ".join("?" for _ in values)
                db.execute(
                    f"INSERT INTO sources ({columns}) VALUES ({marks})", list(values.values())
                )
                added += 1
            else:
                values = {**merge(old, row), "updated_at": now}
                values.pop("key", None)
                assignments = ", ".join(f"{k} = ?" for k in values)
                db.execute(
                    f"UPDATE sources SET {assignments} WHERE key = ?",
                    [*values.values(), row["key"]],
                )
    return added


def _source_row(db: sqlite_utils.Database, key: str) -> dict[str, Any] | None:
    cursor = db.execute("SELECT * FROM sources WHERE key = ?", [key])
    names = [d[0] for d in cursor.description]
    row = cursor.fetchone()
    return dict(zip(names, row, strict=True)) if row else None


def delete_source(db: sqlite_utils.Database, key: str) -> None:
    """Remove source ``key`` and its notification targets (its crawls and posts stay)."""
    with write_transaction(db):
        db.execute("DELETE FROM sources WHERE key = ?", [key])
        db.execute("DELETE FROM notify_targets WHERE source = ?", [key])


def set_source_paused(db: sqlite_utils.Database, key: str, paused: bool) -> None:
    """Pause or resume source ``key`` (``updated_at`` moves: a running scheduler looks again)."""
    with write_transaction(db):
        db.execute(
            "UPDATE sources SET paused = ?, updated_at = ? WHERE key = ?",
            [int(paused), utcnow(), key],
        )


def set_interval(
    db: sqlite_utils.Database, key: str, seconds: int, reason: str, *, changed: bool
) -> None:
    """Record the adaptive interval of ``key`` and why; ``changed``: it moved (stamped now)."""
    with write_transaction(db):
        db.execute(
            "UPDATE sources SET interval_seconds = ?, interval_reason = ?,"
            " interval_changed_at = CASE WHEN ? THEN ? ELSE interval_changed_at END"
            " WHERE key = ?",
            [seconds, reason, int(changed), utcnow(), key],
        )


def set_next_runs(db: sqlite_utils.Database, next_runs: Mapping[str, str | None]) -> None:
    """Record each source's next planned run (key -> time, None when paused); unchanged ones stay."""
    if not next_runs:
        return
    with write_transaction(db):
        for key, when in next_runs.items():
            db.execute(
                "UPDATE sources SET next_run_at = ? WHERE key = ? AND next_run_at IS NOT ?",
                [when, key, when],
            )
