"""Hosts that asked to be left alone (429, ``Retry-After``, Telegram throttling), kept in the archive.

One crawl's backoff of a host holds for every crawl of that host: the crawl
that met it writes the time until which the host rests (``host_backoff``),
other crawls and the scheduler read it. Both functions take a plain
``sqlite3`` connection and run one statement each (autocommit).
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

from ..times import to_datetime, to_stamp


def backoff_left(
    conn: sqlite3.Connection, host: str, now: datetime | None = None
) -> tuple[float, str] | None:
    """Seconds left of ``host``'s backoff and why; None when it is not backed off."""
    row = conn.execute("SELECT until, reason FROM host_backoff WHERE host = ?", [host]).fetchone()
    until = to_datetime(row[0]) if row is not None else None
    if until is None:
        return None
    left = (until - (now or datetime.now(UTC))).total_seconds()
    return (left, row[1] or "") if left > 0 else None


def record_backoff(
    conn: sqlite3.Connection, host: str, seconds: float, reason: str, now: datetime | None = None
) -> None:
    """Back ``host`` off for ``seconds`` from now, unless a longer backoff is already kept."""
    now = now or datetime.now(UTC)
    until = to_stamp(now + timedelta(seconds=seconds))
    conn.execute(
        "INSERT INTO host_backoff (host, until, reason, updated_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (host) DO UPDATE SET until = excluded.until,"
        " reason = excluded.reason, updated_at = excluded.updated_at"
        " WHERE excluded.until > host_backoff.until",
        [host, until, reason, to_stamp(now)],
    )
