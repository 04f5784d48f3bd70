"""Changing the schedule: add (or re-add), remove, pause and resume scheduled sources.

``chanarchive sources add|import|remove|pause|resume`` call these; a running
scheduler sees the change within a second (``updated_at`` moves). What a
source's row says is decided here — what re-adding a source replaces and
what it keeps — and written by :mod:`archive.store.sources`.
"""

from __future__ import annotations

import json
from typing import Any

import sqlite_utils

from archive.query.search import SearchQuery
from archive.source import parse_source
from archive.store.sources import delete_source, save_sources, set_source_paused
from crawler.options import GivenOptions

from .scheduled import Adaptive, ScheduledSource, get_source, source_host
from .schedules import Schedule
from .specs import SourceSpec, check_source


def add_source(
    db: sqlite_utils.Database,
    text: str,
    schedule: Schedule,
    *,
    adaptive: Adaptive | None = None,
    crawl: GivenOptions | None = None,
    time_limit: int | None = None,
    match: SearchQuery | None = None,
    clear_match: bool = False,
) -> tuple[ScheduledSource, bool]:
    """Schedule SOURCE, or update its schedule when it is already there; returns (source, created).

    Re-adding a source replaces its schedule and crawl options and keeps the
    rest (created_at, paused, its crawl history): a source is never listed twice.
    Its keyword alert's query is replaced by ``match``, forgotten with
    ``clear_match``, else kept.
    """
    check_source(text, schedule, adaptive=adaptive, time_limit=time_limit)
    parsed = parse_source(text)
    spec = SourceSpec(
        text, parsed.key, schedule, adaptive, crawl or GivenOptions(), time_limit, None,
        match, clear_match,
    )  # fmt: skip
    created = save_sources(db, [source_row(spec)], merge=merge_rows) == 1
    return get_source(db, parsed.key), created


def add_sources(db: sqlite_utils.Database, specs: list[SourceSpec]) -> tuple[int, int]:
    """Schedule (or update) every one of ``specs`` in one transaction: (added, updated).

    All or nothing: ``sources import`` checks every line first, then writes them here.
    """
    added = save_sources(db, [source_row(spec) for spec in specs], merge=merge_rows)
    return added, len(specs) - added


def source_row(spec: SourceSpec) -> dict[str, Any]:
    """The ``sources`` row a checked spec makes (``paused`` and ``notify_match`` only when the
    spec sets them)."""
    parsed = parse_source(spec.text)
    schedule, adaptive = spec.schedule, spec.adaptive
    row = {
        "key": parsed.key,
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
    }
    if spec.paused is not None:
        row["paused"] = int(spec.paused)
    if spec.match is not None or spec.clear_match:
        row["notify_match"] = spec.match.text if spec.match is not None else None
    return row


#: The columns of a source's schedule: when one changes, its planned next run goes.
SCHEDULE_COLUMNS = ("every_seconds", "cron", "jitter", "adaptive", "min_seconds", "max_seconds")


def merge_rows(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """What re-adding a source changes in its row ``old``: everything ``new`` says, and
    the adaptive interval learned, kept (brought within the new bounds) while the
    source stays adaptive, else forgotten."""
    values = dict(new)
    if any(old.get(name) != new.get(name) for name in SCHEDULE_COLUMNS):
        values["next_run_at"] = None  # planned on the old schedule: the new one plans again
    if new["adaptive"] and old["adaptive"] and old["interval_seconds"]:
        low, high = new["min_seconds"], new["max_seconds"]
        values["interval_seconds"] = min(max(old["interval_seconds"], low), high)
    else:
        values.update(interval_seconds=None, interval_reason=None, interval_changed_at=None)
    return values


def remove_source(db: sqlite_utils.Database, text: str) -> ScheduledSource:
    """Stop scheduling SOURCE, and notifying its changes (its archived crawls and posts stay)."""
    source = get_source(db, text)
    delete_source(db, source.key)
    return source


def set_paused(db: sqlite_utils.Database, text: str, paused: bool) -> ScheduledSource:
    """Pause or resume SOURCE; a paused source keeps its schedule and is not crawled."""
    source = get_source(db, text)
    set_source_paused(db, source.key, paused)
    return get_source(db, source.key)
