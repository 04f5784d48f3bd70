"""When scheduled sources are due: a source's first run, and a quick guess that some source is.

The running scheduler plans each source's next run (APScheduler's job
store) and mirrors it into ``sources.next_run_at``, to the second
(:func:`planned_time`). Before a source has a job, its first run follows
from its last crawl (:func:`first_run_time`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlite_utils

from archive.times import to_datetime, utcnow

from .scheduled import ScheduledSource
from .schedules import make_trigger


def planned_time(when: datetime | None) -> str | None:
    """A planned run as ``sources.next_run_at`` keeps it (ISO, UTC, to the second); None: none."""
    return when.astimezone(UTC).isoformat(timespec="seconds") if when else None


def any_due(db: sqlite_utils.Database, now: str | None = None) -> bool:
    """Whether some active source is probably due: its planned run is past, or not planned yet.

    A cheap guess (the scheduler's job store knows for sure) that lets the
    scheduler start a crawl process early, before it has read its jobs.
    ``now``: an archive time (default: now).
    """
    row = db.execute(
        "SELECT 1 FROM sources WHERE NOT paused AND (next_run_at IS NULL OR next_run_at <= ?)"
        " LIMIT 1",
        [now or utcnow()],
    ).fetchone()
    return row is not None


def first_run_time(
    db: sqlite_utils.Database, source: ScheduledSource, now: datetime | None = None
) -> datetime | None:
    """When a source the scheduler has no job for yet runs first.

    Interval sources run one interval after their last crawl, or at once when
    they were never crawled (or not for longer than that); cron sources run at
    their next time.
    """
    now = now or datetime.now(UTC)
    if source.paused:
        return None
    if source.every:
        last = to_datetime(
            db.execute(
                "SELECT MAX(started_at) FROM crawls WHERE source = ?", [source.key]
            ).fetchone()[0]
        )
        if last:
            return max(last + timedelta(seconds=source.every), now)
        return now
    trigger = make_trigger(source.schedule)
    return trigger.get_next_fire_time(None, now.astimezone(trigger.timezone))
