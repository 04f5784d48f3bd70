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
from archive.query.search import SearchQuery, parse_query
from archive.source import parse_source
from crawler.options import GivenOptions

from .schedules import MAX_INTERVAL, BadSchedule, Schedule, format_duration, stored_schedule

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
    #: Keyword alerts: its notifications tell only of the new and edited posts matching this.
    match: SearchQuery | None = None
    next_run_at: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    #: Why the stored row cannot be used (a shared archive may hold anything): the source is
    #: never crawled until it is added again. None: the row is sound.
    problem: str | None = None

    @property
    def every(self) -> int | None:
        """The interval in force: the adaptive one when there is one, else the schedule's."""
        if self.adaptive and self.interval_seconds:
            return self.interval_seconds
        return self.schedule.every

    def describe_schedule(self) -> str:
        if self.problem:
            return "not scheduled: " + self.problem
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
    """A ``sources`` row (as a dict of its columns) as a :class:`ScheduledSource`, checked.

    The row is data from a file people share: its key is parsed again (the
    URL, kind and host come from it, not from their columns), its schedule
    and bounds checked as ``sources add`` checks them, and its crawl options
    as :class:`~crawler.options.GivenOptions` (politeness settings only), its
    keyword alert's query as ``search`` reads one (:func:`parse_query`). A
    row that fails is returned paused, with :attr:`ScheduledSource.problem`
    saying why: it is listed, never crawled.
    """
    try:
        return _checked_row(row)
    except (BadInput, ValueError, TypeError, KeyError) as exc:
        key = row.get("key")
        return ScheduledSource(
            key=key if isinstance(key, str) else repr(key),
            kind="",
            url="",
            host="",
            schedule=Schedule(every=None),
            paused=True,
            problem=f"its stored row is refused: {exc}"[:300],
        )


def _checked_row(row: dict[str, Any]) -> ScheduledSource:
    if not isinstance(row["key"], str):
        raise BadInput(f"a key that is not text: {row['key']!r}")
    parsed = parse_source(row["key"])
    if parsed.key != row["key"]:
        raise BadInput(f"the key {row['key']!r} is not in its canonical form {parsed.key!r}")
    options = json.loads(_text(row.get("options")) or "{}")
    adaptive = (
        Adaptive(
            _whole(row["min_seconds"] or DEFAULT_MIN), _whole(row["max_seconds"] or DEFAULT_MAX)
        )
        if row.get("adaptive")
        else None
    )
    schedule = stored_schedule(row["every_seconds"], row["cron"], row["jitter"] or 0)
    interval = row["interval_seconds"]
    if interval is not None and (_whole(interval) < 1 or interval > MAX_INTERVAL):
        raise BadSchedule(f"an adaptive interval of {interval!r} seconds")
    limit = row["time_limit"]
    if limit is not None and _whole(limit) < 1:
        raise BadSchedule(f"a time limit of {limit!r} seconds")
    return ScheduledSource(
        key=parsed.key,
        kind=parsed.kind,
        url=parsed.url,
        host=source_host(parsed.url),
        schedule=schedule,
        paused=bool(row["paused"]),
        adaptive=adaptive,
        interval_seconds=interval,
        interval_reason=_text(row["interval_reason"]),
        interval_changed_at=_text(row["interval_changed_at"]),
        crawl=GivenOptions.check(options),
        time_limit=limit,
        match=_match(row.get("notify_match")),
        next_run_at=_text(row["next_run_at"]),
        created_at=_text(row["created_at"]),
        updated_at=_text(row["updated_at"]),
    )


def _whole(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadSchedule(f"{value!r} is not a whole number of seconds")
    return value


def _match(value: Any) -> SearchQuery | None:
    return None if value is None else parse_query(value, option="its --match")


def _text(value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise BadInput(f"{value!r} is not text")
    return value


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
