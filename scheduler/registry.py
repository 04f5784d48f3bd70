"""The scheduled sources: the ``sources`` table of the archive, and each source's health.

The schedule lives in the archive file, so a copy of the archive carries it
and the scheduler can be stopped, upgraded and restarted without losing it.
``chanarchive sources add|list|remove|pause|resume`` call these functions; the
scheduler service reads the table and keeps its jobs in step with it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import sqlite_utils

from archive.errors import BadInput
from archive.source import parse_source
from archive.store import write_transaction
from archive.times import utcnow
from crawler.options import GivenOptions

from .schedules import BadSchedule, Schedule, format_duration, make_trigger

#: Adaptive bounds when ``--min`` / ``--max`` are not given, and the start interval.
DEFAULT_MIN = 10 * 60
DEFAULT_MAX = 86400
DEFAULT_START = 3600


class UnknownSource(BadInput):
    """A SOURCE that has no schedule in this archive."""


@dataclass(frozen=True)
class Adaptive:
    """Bounds for an interval that follows the channel's posting rate."""

    min_seconds: int = DEFAULT_MIN
    max_seconds: int = DEFAULT_MAX

    def __post_init__(self) -> None:
        if self.min_seconds < 1:
            raise BadSchedule("--min must be at least 1s")
        if self.min_seconds > self.max_seconds:
            raise BadSchedule(
                f"--min {format_duration(self.min_seconds)} is longer than "
                f"--max {format_duration(self.max_seconds)}"
            )

    def start(self) -> int:
        """The interval an adaptive source starts from when none is given."""
        return min(max(DEFAULT_START, self.min_seconds), self.max_seconds)


@dataclass
class ScheduledSource:
    """One row of the ``sources`` table."""

    key: str
    kind: str
    url: str
    host: str
    schedule: Schedule
    paused: bool = False
    adaptive: Adaptive | None = None
    interval_seconds: int | None = None  # the adaptive interval in force
    interval_reason: str | None = None
    interval_changed_at: str | None = None
    crawl: GivenOptions = field(default_factory=GivenOptions)
    time_limit: int | None = None
    next_run_at: str | None = None
    created_at: str | None = None
    updated_at: str | None = None

    @property
    def every(self) -> int | None:
        """The interval in force: the adaptive one when there is one, else the schedule's."""
        if self.adaptive and self.interval_seconds:
            return self.interval_seconds
        return self.schedule.every

    def describe_schedule(self) -> str:
        if self.adaptive:
            bounds = (
                f"{format_duration(self.adaptive.min_seconds)}.."
                f"{format_duration(self.adaptive.max_seconds)}"
            )
            text = f"every {format_duration(self.every)} (adaptive {bounds})"
            return text + (
                f" ±{format_duration(self.schedule.jitter)}" if self.schedule.jitter else ""
            )
        return self.schedule.describe()


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
            "next_run": self.next_run,
            "last_run": self.last_run,
            "last_status": self.last_status,
            "last_reason": self.last_reason,
            "last_success": self.last_success,
            "consecutive_failures": self.failures,
            "runs": self.runs,
            "time_limit": src.time_limit,
            "crawl_options": src.crawl.listing(),
        }


def source_host(url: str) -> str:
    """The host part crawls are serialised on (``t.me``, ``127.0.0.1:8080``)."""
    return urlsplit(url).netloc.lower()


def _row_to_source(row: dict[str, Any]) -> ScheduledSource:
    options = json.loads(row.get("options") or "{}")
    adaptive = (
        Adaptive(row["min_seconds"] or DEFAULT_MIN, row["max_seconds"] or DEFAULT_MAX)
        if row.get("adaptive")
        else None
    )
    return ScheduledSource(
        key=row["key"],
        kind=row["kind"],
        url=row["url"],
        host=row["host"],
        schedule=Schedule(every=row["every_seconds"], cron=row["cron"], jitter=row["jitter"] or 0),
        paused=bool(row["paused"]),
        adaptive=adaptive,
        interval_seconds=row["interval_seconds"],
        interval_reason=row["interval_reason"],
        interval_changed_at=row["interval_changed_at"],
        crawl=GivenOptions.check(options),
        time_limit=row["time_limit"],
        next_run_at=row["next_run_at"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def source_from_row(row: dict[str, Any]) -> ScheduledSource:
    """A ``sources`` row (as a dict of its columns) as a :class:`ScheduledSource`."""
    return _row_to_source(row)


def iter_sources(db: sqlite_utils.Database) -> Iterator[ScheduledSource]:
    """Every scheduled source, by key, read one at a time (``sources export`` of many)."""
    cursor = db.execute("SELECT * FROM sources ORDER BY key")
    names = [d[0] for d in cursor.description]
    for row in cursor:
        yield _row_to_source(dict(zip(names, row, strict=True)))


def _rows(db: sqlite_utils.Database, where: str = "", params: list | None = None) -> list[dict]:
    cursor = db.execute(f"SELECT * FROM sources {where} ORDER BY key", params or [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def all_sources(db: sqlite_utils.Database) -> list[ScheduledSource]:
    """Every scheduled source, by key."""
    return [_row_to_source(row) for row in _rows(db)]


def sources_by_key(db: sqlite_utils.Database, keys: list[str]) -> dict[str, ScheduledSource]:
    """The scheduled sources among ``keys`` (canonical keys), by key; unknown keys are left out."""
    found: dict[str, ScheduledSource] = {}
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        for row in _rows(db, f"WHERE key IN ({marks})", chunk):
            found[row["key"]] = _row_to_source(row)
    return found


def source_key(text: str) -> str:
    """The canonical key of a SOURCE argument (``t.me/Foo`` → ``@foo``)."""
    return parse_source(text).key


def get_source(db: sqlite_utils.Database, text: str) -> ScheduledSource:
    """The scheduled source named by ``text`` (any SOURCE spelling), or :class:`UnknownSource`."""
    key = source_key(text)
    rows = _rows(db, "WHERE key = ?", [key])
    if not rows:
        raise UnknownSource(f"no scheduled source {key} in this archive (see `sources list`)")
    return _row_to_source(rows[0])


def check_source(
    text: str,
    schedule: Schedule,
    *,
    adaptive: Adaptive | None = None,
    time_limit: int | None = None,
) -> None:
    """Raise :class:`BadInput` when SOURCE and its schedule cannot be added (nothing written)."""
    parse_source(text)
    if adaptive is not None and schedule.cron:
        raise BadSchedule("--adaptive needs an interval (--every), not --cron")
    if time_limit is not None and time_limit < 1:
        raise BadSchedule("--time-limit must be at least 1s")


@dataclass(frozen=True)
class SourceSpec:
    """Everything a source is scheduled with, checked (see :func:`scheduler.specs.make_spec`)."""

    text: str  # the SOURCE as given
    key: str  # its canonical key
    schedule: Schedule
    adaptive: Adaptive | None = None
    crawl: GivenOptions = field(default_factory=GivenOptions)
    time_limit: int | None = None
    paused: bool | None = None  # None: a new source is active, an old one keeps its state


def add_source(
    db: sqlite_utils.Database,
    text: str,
    schedule: Schedule,
    *,
    adaptive: Adaptive | None = None,
    crawl: GivenOptions | None = None,
    time_limit: int | None = None,
) -> tuple[ScheduledSource, bool]:
    """Schedule SOURCE, or update its schedule when it is already there; returns (source, created).

    Re-adding a source replaces its schedule and crawl options and keeps the
    rest (created_at, paused, its crawl history): a source is never listed twice.
    """
    check_source(text, schedule, adaptive=adaptive, time_limit=time_limit)
    parsed = parse_source(text)
    spec = SourceSpec(
        text, parsed.key, schedule, adaptive, crawl or GivenOptions(), time_limit, None
    )
    with write_transaction(db):
        created = _upsert(db, spec, utcnow())
    return get_source(db, parsed.key), created


def add_sources(db: sqlite_utils.Database, specs: list[SourceSpec]) -> tuple[int, int]:
    """Schedule (or update) every one of ``specs`` in one transaction: (added, updated).

    All or nothing: ``sources import`` checks every line first, then writes them here.
    """
    added = 0
    now = utcnow()
    with write_transaction(db):
        for spec in specs:
            added += _upsert(db, spec, now)
    return added, len(specs) - added


def _upsert(db: sqlite_utils.Database, spec: SourceSpec, now: str) -> bool:
    """Insert or update one source (inside the caller's transaction); True when it is new."""
    parsed = parse_source(spec.text)
    schedule, adaptive = spec.schedule, spec.adaptive
    values = {
        "kind": parsed.kind,
        "url": parsed.url,
        "host": source_host(parsed.url),
        "every_seconds": schedule.every,
        "cron": schedule.cron,
        "jitter": schedule.jitter,
        "adaptive": int(adaptive is not None),
        "min_seconds": adaptive.min_seconds if adaptive else None,
        "max_seconds": adaptive.max_seconds if adaptive else None,
        "options": json.dumps(spec.crawl, sort_keys=True),
        "time_limit": spec.time_limit,
        "updated_at": now,
    }
    if spec.paused is not None:
        values["paused"] = int(spec.paused)
    existing = _rows(db, "WHERE key = ?", [parsed.key])
    if existing:
        old = existing[0]
        if adaptive is not None and old["adaptive"] and old["interval_seconds"]:
            # Keep the learned interval, brought within the new bounds.
            learned = min(max(old["interval_seconds"], adaptive.min_seconds), adaptive.max_seconds)
            values["interval_seconds"] = learned
        else:
            values["interval_seconds"] = None
            values["interval_reason"] = None
            values["interval_changed_at"] = None
        assignments = ", ".join(f"{k} = ?" for k in values)
        db.execute(
            f"UPDATE sources SET {assignments} WHERE key = ?", [*values.values(), parsed.key]
        )
        return False
    values.setdefault("paused", 0)
    values.update(key=parsed.key, created_at=now)
    columns = ", ".join(values)
    marks = ", ".join("?" for _ in values)
    db.execute(f"INSERT INTO sources ({columns}) VALUES ({marks})", list(values.values()))
    return True


def remove_source(db: sqlite_utils.Database, text: str) -> ScheduledSource:
    """Stop scheduling SOURCE, and notifying its changes (its archived crawls and posts stay)."""
    source = get_source(db, text)
    with write_transaction(db):
        db.execute("DELETE FROM sources WHERE key = ?", [source.key])
        db.execute("DELETE FROM notify_targets WHERE source = ?", [source.key])
    return source


def set_paused(db: sqlite_utils.Database, text: str, paused: bool) -> ScheduledSource:
    """Pause or resume SOURCE; a paused source keeps its schedule and is not crawled."""
    source = get_source(db, text)
    with write_transaction(db):
        db.execute(
            "UPDATE sources SET paused = ?, updated_at = ? WHERE key = ?",
            [int(paused), utcnow(), source.key],
        )
    return get_source(db, source.key)


def set_interval(
    db: sqlite_utils.Database, key: str, seconds: int, reason: str, *, changed: bool
) -> None:
    """Record the adaptive interval chosen for ``key`` and why (``changed``: it moved)."""
    with write_transaction(db):
        db.execute(
            "UPDATE sources SET interval_seconds = ?, interval_reason = ?,"
            " interval_changed_at = CASE WHEN ? THEN ? ELSE interval_changed_at END"
            " WHERE key = ?",
            [seconds, reason, int(changed), utcnow(), key],
        )


def set_next_runs(db: sqlite_utils.Database, next_runs: dict[str, str | None]) -> None:
    """Mirror the scheduler's planned next run of each source into the table."""
    if not next_runs:
        return
    with write_transaction(db):
        for key, when in next_runs.items():
            db.execute(
                "UPDATE sources SET next_run_at = ? WHERE key = ? AND next_run_at IS NOT ?",
                [when, key, when],
            )


def any_due(db: sqlite_utils.Database, now: datetime | None = None) -> bool:
    """Whether some active source is probably due: its planned run is past, or not planned yet.

    A cheap guess (the scheduler's job store knows for sure) that lets the
    scheduler start a crawl process early, before it has read its jobs.
    """
    when = (now or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds")
    row = db.execute(
        "SELECT 1 FROM sources WHERE NOT paused AND (next_run_at IS NULL OR next_run_at <= ?)"
        " LIMIT 1",
        [when],
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
        last = db.execute(
            "SELECT MAX(started_at) FROM crawls WHERE source = ?", [source.key]
        ).fetchone()[0]
        if last:
            due = datetime.fromisoformat(last) + timedelta(seconds=source.every)
            return max(due, now)
        return now
    trigger = make_trigger(source.schedule)
    return trigger.get_next_fire_time(None, now.astimezone(trigger.timezone))


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
        first = first_run_time(db, source, now)
        next_run = first.astimezone(UTC).isoformat(timespec="seconds") if first else None
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


def list_sources(db: sqlite_utils.Database, now: datetime | None = None) -> list[SourceStatus]:
    """Every scheduled source with its health, by key."""
    return [source_status(db, source, now) for source in all_sources(db)]
