"""Coverage: the ranges of Telegram message ids the archive has seen in full, merged.

A crawl is incremental from it: pages whose ids are covered are not fetched
again, and deletions are looked for only inside a page's own range.
"""

from __future__ import annotations

import sqlite_utils


def add_coverage(db: sqlite_utils.Database, channel_id: int, lo: int, hi: int) -> None:
    rows = db.execute(
        "SELECT lo, hi FROM coverage WHERE channel_id = ? AND hi >= ? AND lo <= ?",
        [channel_id, lo - 1, hi + 1],
    ).fetchall()
    for old_lo, old_hi in rows:
        lo, hi = min(lo, old_lo), max(hi, old_hi)
    db.execute(
        "DELETE FROM coverage WHERE channel_id = ? AND hi >= ? AND lo <= ?",
        [channel_id, lo - 1, hi + 1],
    )
    db.execute("INSERT INTO coverage (channel_id, lo, hi) VALUES (?, ?, ?)", [channel_id, lo, hi])


def coverage(db: sqlite_utils.Database, channel: str) -> list[tuple[int, int]]:
    """The merged id ranges of ``channel`` already archived in full, lowest first."""
    return [
        (lo, hi)
        for lo, hi in db.execute(
            "SELECT c.lo, c.hi FROM coverage c JOIN channels ch ON ch.id = c.channel_id"
            " WHERE ch.name = ? ORDER BY c.lo",
            [channel],
        )
    ]
