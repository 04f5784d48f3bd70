"""``sources list`` at scale: a page of sources, filtered by state, chosen in SQL.

Ten thousand sources are no reason to read ten thousand sources' crawl
histories: the state filter and the page (``--limit`` / ``--offset``, by
key) are one query over the ``sources`` table, the ``crawls`` rows of each
source reached through their ``(source, started_at)`` index; the health of
only the sources on the page is then worked out
(:func:`scheduler.registry.source_status`).

States (a source can be in several):

- ``active`` / ``paused``: whether it is crawled on its schedule;
- ``failing``: its last finished run failed (one consecutive failure or more);
- ``due``: active, and its next run is now or past (as the running
  scheduler planned it; before any scheduler ran, one interval after its
  last crawl, or now when it was never crawled).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlite_utils

from .registry import SourceStatus, source_from_row, source_status

STATES = ("active", "paused", "failing", "due")

_LAST_FINISHED = (
    "(SELECT c.status FROM crawls c WHERE c.source = s.key AND c.status != 'running'"
    " ORDER BY c.started_at DESC, c.id DESC LIMIT 1)"
)
# The next run when the scheduler has planned none: one interval after the last crawl
# (the adaptive interval when there is one), now when never crawled; cron: unknown.
_UNPLANNED_DUE = (
    "(CASE WHEN s.cron IS NOT NULL AND NOT s.adaptive THEN 0"
    " ELSE COALESCE(julianday((SELECT MAX(c.started_at) FROM crawls c WHERE c.source = s.key))"
    " + COALESCE(CASE WHEN s.adaptive THEN s.interval_seconds END, s.every_seconds) / 86400.0,"
    " 0) <= julianday(:now) END)"
)
_FILTERS = {
    "active": "NOT s.paused",
    "paused": "s.paused",
    "failing": f"{_LAST_FINISHED} = 'failed'",
    "due": (
        "NOT s.paused AND (CASE WHEN s.next_run_at IS NOT NULL"
        f" THEN julianday(s.next_run_at) <= julianday(:now) ELSE {_UNPLANNED_DUE} END)"
    ),
}


@dataclass
class SourcePage:
    """One page of ``sources list``: the sources on it with their health, and how many matched."""

    statuses: list[SourceStatus]
    total: int  # sources matching the filter, on every page
    offset: int

    @property
    def more(self) -> bool:
        return self.offset + len(self.statuses) < self.total


def list_page(
    db: sqlite_utils.Database,
    *,
    state: str | None = None,
    limit: int | None = None,
    offset: int = 0,
    now: datetime | None = None,
) -> SourcePage:
    """The sources in ``state`` (any when None), by key, ``limit`` of them from ``offset``."""
    if state is not None and state not in _FILTERS:
        raise ValueError(f"unknown state {state!r}: one of {', '.join(STATES)}")
    now = now or datetime.now(UTC)
    params = {"now": now.astimezone(UTC).isoformat(timespec="microseconds")}
    where = f"WHERE {_FILTERS[state]}" if state else ""
    total = db.execute(f"SELECT COUNT(*) FROM sources s {where}", params).fetchone()[0]
    page = f"SELECT s.* FROM sources s {where} ORDER BY s.key"
    if limit is not None:
        page += " LIMIT :limit OFFSET :offset"
        params.update(limit=limit, offset=offset)
    elif offset:
        page += " LIMIT -1 OFFSET :offset"
        params.update(offset=offset)
    cursor = db.execute(page, params)
    names = [d[0] for d in cursor.description]
    sources = [source_from_row(dict(zip(names, row, strict=True))) for row in cursor.fetchall()]
    return SourcePage([source_status(db, s, now) for s in sources], total, offset)
