"""The scheduled sources: the rows of the archive's ``sources`` table as objects, and reading them.

The schedule lives in the archive file, so a copy of the archive carries it
and the scheduler can be stopped, upgraded and restarted without losing it.
A row is read into a :class:`ScheduledSource` here and nowhere else; its
crawl options come out checked (:class:`~crawler.options.GivenOptions`).
Writing the table is :mod:`archive.store.sources`' (see :mod:`.edit`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import sqlite_utils

from archive.errors import BadInput
from archive.source import parse_source
from crawler.options import GivenOptions

from .schedules import BadSchedule, Schedule, format_duration

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


def source_host(url: str) -> str:
    """The host part crawls are serialised on (``t.me``, ``127.0.0.1:8080``)."""
    return urlsplit(url).netloc.lower()


def source_from_row(row: dict[str, Any]) -> ScheduledSource:
    """A ``sources`` row (as a dict of its columns) as a :class:`ScheduledSource`."""
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


def iter_sources(db: sqlite_utils.Database) -> Iterator[ScheduledSource]:
    """Every scheduled source, by key, read one at a time (``sources export`` of many)."""
    cursor = db.execute("SELECT * FROM sources ORDER BY key")
    names = [d[0] for d in cursor.description]
    for row in cursor:
        yield source_from_row(dict(zip(names, row, strict=True)))


def _rows(db: sqlite_utils.Database, where: str = "", params: list | None = None) -> list[dict]:
    cursor = db.execute(f"SELECT * FROM sources {where} ORDER BY key", params or [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def all_sources(db: sqlite_utils.Database) -> list[ScheduledSource]:
    """Every scheduled source, by key."""
    return [source_from_row(row) for row in _rows(db)]


def sources_by_key(db: sqlite_utils.Database, keys: list[str]) -> dict[str, ScheduledSource]:
    """The scheduled sources among ``keys`` (canonical keys), by key; unknown keys are left out."""
    found: dict[str, ScheduledSource] = {}
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        for row in _rows(db, f"WHERE key IN ({marks})", chunk):
            found[row["key"]] = source_from_row(row)
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
    return source_from_row(rows[0])
