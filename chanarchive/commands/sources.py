"""``chanarchive sources``: manage the periodic crawls kept in the archive."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import click
import sqlite_utils

from archive.store import connect_readonly
from scheduler.notify import check_urls, set_targets, targets
from scheduler.registry import (
    DEFAULT_MAX,
    DEFAULT_MIN,
    Adaptive,
    CrawlSettings,
    SourceStatus,
    add_source,
    check_source,
    list_sources,
    remove_source,
    set_paused,
    source_key,
)
from scheduler.schedules import format_duration, parse_duration, parse_schedule

from ..clitools import BadUsage, crawl_options, db_path, open_db, output_format, translate_errors
from ..tables import render_table


@click.group()
def sources():
    """Manage periodic crawls: which sources, how often, paused or not.

    The schedule lives in the archive file; `chanarchive scheduler run` crawls
    each source when it is due.

    Example:

        chanarchive sources add @durov --every 30m

        chanarchive sources list
    """


@sources.command("add")
@click.argument("source")
@click.option("--every", metavar="DURATION", help="Crawl every DURATION: 45s, 30m, 2h, 1d, 1h30m.")
@click.option("--cron", metavar="EXPR", help="Crawl on a crontab schedule, e.g. '*/15 * * * *'.")
@click.option("--jitter", metavar="S", help="Delay each run by up to S (seconds, or 30s, 5m).")
@click.option(
    "--adaptive",
    is_flag=True,
    help="Let the interval follow how often the channel posts (within --min/--max).",
)
@click.option(
    "--min",
    "min_",
    metavar="DURATION",
    help=f"Adaptive: the shortest interval [default: {format_duration(DEFAULT_MIN)}].",
)
@click.option(
    "--max",
    "max_",
    metavar="DURATION",
    help=f"Adaptive: the longest interval [default: {format_duration(DEFAULT_MAX)}].",
)
@click.option(
    "--time-limit",
    metavar="DURATION",
    help="Stop a run that takes longer [default: the scheduler's --time-limit].",
)
@click.option(
    "--notify",
    "notify",
    multiple=True,
    metavar="URL",
    help="After each run, tell this apprise URL what changed (repeatable; "
    "e.g. json://host/path, mailto://…, ntfy://topic).",
)
@click.option(
    "--no-notify", is_flag=True, help="Stop the notifications of this source (see --notify)."
)
@crawl_options(depth_default=None, scope="for every run of this source")
@click.pass_context
@translate_errors
def add(ctx, source, every, cron, jitter, adaptive, min_, max_, time_limit, notify, no_notify,
        max_pages, depth, follow, profile, settings):  # fmt: skip
    """Schedule SOURCE (or change its schedule: a source is never listed twice).

    Give exactly one of --every or --cron. With --adaptive the interval
    follows the channel's posting rate, between --min and --max; --every is
    where it starts. With --notify, each run ends with one message to each
    URL naming what changed since it was last told: new posts, edits with
    their removed and added words, deletions. A message that fails is sent
    with the next run's changes; it never fails the crawl. Adding a source
    again with --notify replaces its URLs; without it, they stay.

    Example:

        chanarchive sources add @durov --every 30m --jitter 60

        chanarchive sources add t.me/telegram --cron "0 */6 * * *"

        chanarchive sources add @busy_channel --adaptive --min 10m --max 1d

        chanarchive sources add @durov --every 1h --notify ntfy://ntfy.example/t
    """
    if notify and no_notify:
        raise BadUsage("give --notify URL or --no-notify, not both")
    bounds = None
    if adaptive:
        bounds = Adaptive(
            _seconds(min_, DEFAULT_MIN, "--min"), _seconds(max_, DEFAULT_MAX, "--max")
        )
        if every is None and cron is None:
            every = str(bounds.start())
    elif min_ is not None or max_ is not None:
        raise BadUsage("--min and --max bound an --adaptive interval: add --adaptive")
    schedule = parse_schedule(every, cron, jitter)
    limit = parse_duration(time_limit, what="time limit") if time_limit is not None else None
    crawl = CrawlSettings(
        settings=settings, max_pages=max_pages, depth=depth, follow=follow, profile=profile
    )
    check_source(source, schedule, adaptive=bounds, time_limit=limit)  # before the file is touched
    urls = check_urls(notify)
    db = open_db(ctx, create=True)
    scheduled, created = add_source(
        db, source, schedule, adaptive=bounds, crawl=crawl, time_limit=limit
    )
    if urls or no_notify:
        set_targets(db, scheduled.key, urls)
    told = [t.shown for t in targets(db, scheduled.key)]
    db.close()
    verb = "scheduled" if created else "updated"
    state = " (paused)" if scheduled.paused else ""
    click.echo(f"{verb} {scheduled.key}: {scheduled.describe_schedule()}{state}")
    if told:
        click.echo(f"changes go to: {', '.join(told)}")


def _seconds(value: str | None, default: int, what: str) -> int:
    return default if value is None else parse_duration(value, what=what)


def _ago(when: str | None, now: datetime) -> str:
    if not when:
        return "-"
    delta = (now - datetime.fromisoformat(when)).total_seconds()
    if abs(delta) < 1:
        return "now"
    text = format_duration(abs(delta))
    # Two units at most: "1d2h", not "1d2h3m4s".
    units = [u for u in ("d", "h", "m", "s") if u in text]
    if len(units) > 2:
        text = text[: text.index(units[1]) + 1]
    return f"{text} ago" if delta > 0 else f"in {text}"


#: Sources are URLs: a table cell shows this much of one before cutting it.
SOURCE_WIDTH = 120


def _table(rows: list[SourceStatus], told: dict[str, list]) -> str:
    now = datetime.now(UTC)
    header = [
        "SOURCE",
        "SCHEDULE",
        "NEXT RUN",
        "LAST RUN",
        "STATUS",
        "LAST SUCCESS",
        "FAILS",
        "STATE",
    ]
    lines = []
    notes = []
    for row in rows:
        src = row.source
        next_run = "-" if src.paused else _ago(row.next_run, now)
        if next_run.endswith(" ago"):
            next_run = "due"
        lines.append(
            [
                src.key,
                src.describe_schedule(),
                next_run,
                _ago(row.last_run, now),
                row.last_status or "never run",
                _ago(row.last_success, now),
                row.failures,
                "paused" if src.paused else "active",
            ]
        )
        if src.adaptive and src.interval_reason:
            notes.append(f"{src.key}: {src.interval_reason}")
        if row.last_status == "failed" and row.last_reason:
            notes.append(f"{src.key} failed: {row.last_reason}")
        for target in told.get(src.key, []):
            if target.failures:
                notes.append(
                    f"{src.key}: notifications to {target.shown} failing "
                    f"({target.failures}x, kept for the next run): {target.last_error}"
                )
    out = render_table(header, lines, cell_width=SOURCE_WIDTH, rule=False).rstrip("\n")
    return "\n".join([out, "", *notes]) if notes else out


@sources.command("list")
@output_format("table", "json", default="table")
@click.pass_context
@translate_errors
def list_(ctx, fmt):
    """List the scheduled sources with their health.

    Each source: its schedule, next run, last run and its status, last
    success, consecutive failures, paused or not; adaptive sources say why
    their interval is what it is, and failing notifications why they fail.
    json adds each source's notification targets (their secrets masked).

    Example:

        chanarchive sources list

        chanarchive sources list --format json
    """
    conn = connect_readonly(db_path(ctx))  # listing never writes, not even a migration
    try:
        db = sqlite_utils.Database(conn)
        rows = list_sources(db) if "sources" in db.table_names() else []
        told = {row.source.key: targets(db, row.source.key) for row in rows}
    finally:
        conn.close()
    if fmt == "json":
        records = [{**r.record(), "notify": [t.record() for t in told[r.source.key]]} for r in rows]
        click.echo(json.dumps(records, ensure_ascii=False, indent=2))
    elif rows:
        click.echo(_table(rows, told))
    else:
        click.echo(
            "no scheduled sources (add one with `chanarchive sources add SOURCE --every 1h`)"
        )


@sources.command("remove")
@click.argument("source")
@click.pass_context
@translate_errors
def remove(ctx, source):
    """Stop crawling SOURCE periodically; what was archived stays.

    Example:

        chanarchive sources remove @durov
    """
    source_key(source)  # a bad SOURCE is refused before the file is opened
    db = open_db(ctx)
    removed = remove_source(db, source)
    db.close()
    click.echo(f"removed {removed.key} from the schedule (its archive stays)")


@sources.command("pause")
@click.argument("source")
@click.pass_context
@translate_errors
def pause(ctx, source):
    """Pause SOURCE: it keeps its schedule but is not crawled until resumed.

    Example:

        chanarchive sources pause @durov
    """
    source_key(source)  # a bad SOURCE is refused before the file is opened
    db = open_db(ctx)
    paused = set_paused(db, source, True)
    db.close()
    click.echo(f"paused {paused.key}")


@sources.command("resume")
@click.argument("source")
@click.pass_context
@translate_errors
def resume(ctx, source):
    """Resume a paused SOURCE: it is crawled again on its schedule.

    Example:

        chanarchive sources resume @durov
    """
    source_key(source)  # a bad SOURCE is refused before the file is opened
    db = open_db(ctx)
    resumed = set_paused(db, source, False)
    db.close()
    click.echo(f"resumed {resumed.key}: {resumed.describe_schedule()}")
