"""``sources list``: each source's health, and a page of sources filtered by state, chosen in SQL.

A source's health is its last run, its last success and its consecutive
failures, read from its ``crawls`` rows (:func:`source_status`).

Ten thousand sources are no reason to read ten thousand sources' crawl
histories: the state filter and the page (``--limit`` / ``--offset``, by
key) are one query over the ``sources`` table, the ``crawls`` rows of each
source reached through their ``(source, started_at)`` index; the health of
only the sources on the page is then worked out.

States (a source can be in several):

- ``active`` / ``paused``: whether it is crawled on its schedule;
- ``failing``: its last finished run failed (one consecutive failure or more);
- ``due``: active, and its next run is now or past (as the running
  scheduler planned it; before any scheduler ran, one interval after its
  last crawl, or now when it was never crawled).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import sqlite_utils

from archive.times import to_datetime, utcnow

from .due import first_run_time, planned_time
from .scheduled import ScheduledSource, source_from_row

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
class SourceStatus:
    """A source with its health, as ``sources list`` shows it."""

    source: ScheduledSource
    next_run: str | None  # ISO time, or None when paused
    last_run: str | None  # when the last crawl started
    last_status: str | None  # running / ok / partial / failed
    last_reason: str | None
    last_success: str | None  # when the last ok/partial crawl started
    failures: int  # consecutive failed crawls, newest first
    runs: int  # crawls of this source so far

    def record(self) -> dict[str, Any]:
        """A JSON-ready dict (``sources list --format json``)."""
        src = self.source
        return {
            "source": src.key,
            "kind": src.kind,
            "host": src.host,
            "schedule": src.describe_schedule(),
            "every_seconds": src.every,
            "cron": src.schedule.cron,
            "jitter": src.schedule.jitter,
            "adaptive": asdict(src.adaptive) if src.adaptive else None,
            "interval_reason": src.interval_reason,
            "interval_changed_at": src.interval_changed_at,
            "paused": src.paused,
            "problem": src.problem,
            "next_run": self.next_run,
            "last_run": self.last_run,
            "last_status": self.last_status,
            "last_reason": self.last_reason,
            "last_success": self.last_success,
            "consecutive_failures": self.failures,
            "runs": self.runs,
            "time_limit": src.time_limit,
            "crawl_options": src.crawl.listing(),
            "match": src.match.text if src.match else None,
        }


def source_status(
    db: sqlite_utils.Database, source: ScheduledSource, now: datetime | None = None
) -> SourceStatus:
    """``source`` with its last run, last success and consecutive failures."""
    recent = db.execute(
        "SELECT started_at, status, reason FROM crawls WHERE source = ?"
        " ORDER BY started_at DESC, id DESC LIMIT 200",
        [source.key],
    )  # read lazily: the count of consecutive failures usually stops at the first row
    last = None
    failures = 0
    for row in recent:
        last = last or row
        started, status, _reason = row
        if status == "running" and failures == 0:
            continue  # the run going on now says nothing yet
        if status != "failed":
            break
        failures += 1
    recent.close()
    runs = db.execute("SELECT COUNT(*) FROM crawls WHERE source = ?", [source.key]).fetchone()[0]
    last_success = db.execute(
        "SELECT MAX(started_at) FROM crawls WHERE source = ? AND status IN ('ok', 'partial')",
        [source.key],
    ).fetchone()[0]
    if source.paused:
        next_run = None
    elif source.next_run_at:
        next_run = source.next_run_at
    else:
        next_run = planned_time(first_run_time(db, source, now))
    last = last or (None, None, None)
    return SourceStatus(
        source=source,
        next_run=next_run,
        last_run=last[0],
        last_status=last[1],
        last_reason=last[2],
        last_success=last_success,
        failures=failures,
        runs=runs,
    )


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
    now: str | None = None,
) -> SourcePage:
    """The sources in ``state`` (any when None), by key, ``limit`` of them from ``offset``.

    ``now``: the archive time the ``due`` state and the next runs are judged at (default: now).
    """
    if state is not None and state not in _FILTERS:
        raise ValueError(f"unknown state {state!r}: one of {', '.join(STATES)}")
    now = now or utcnow()
    params: dict[str, Any] = {"now": now}
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
    when = to_datetime(now)
    return SourcePage([source_status(db, s, when) for s in sources], total, offset)
