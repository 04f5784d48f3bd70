"""``chanarchive sources``: manage the periodic crawls kept in the archive."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import sqlite_utils

from archive import times
from archive.export.output import OutputFailed, atomic_output, check_target
from archive.store import connect_readonly
from scheduler.notify.targets import check_urls, set_targets, targets
from scheduler.sources.edit import add_source, add_sources, remove_source, set_paused
from scheduler.sources.files import FORMATS, read_sources, write_sources
from scheduler.sources.listing import STATES, SourcePage, SourceStatus, list_page
from scheduler.sources.scheduled import DEFAULT_MAX, DEFAULT_MIN, iter_sources, source_key
from scheduler.sources.schedules import format_duration
from scheduler.sources.specs import Options, make_spec, specs_from_lines

from ..clitools import (
    BadUsage,
    WorkFailed,
    crawl_flags,
    db_path,
    open_db,
    output_format,
    translate_errors,
)
from ..tables import render_table
from .discover import discover_command
from .export import check_csv_flags, csv_flags


@click.group()
def sources():
    """Manage periodic crawls: which sources, how often, paused or not.

    The schedule lives in the archive file; `chanarchive scheduler run` crawls
    each source when it is due.

    Example:

        chanarchive sources add @durov --every 30m

        chanarchive sources import channels.txt --every 1h

        chanarchive sources list --state failing
    """


def schedule_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The schedule options, the same on ``sources add`` and ``sources import``."""
    options = [
        click.option(
            "--every", metavar="DURATION", help="Crawl every DURATION: 45s, 30m, 2h, 1d, 1h30m."
        ),
        click.option(
            "--cron", metavar="EXPR", help="Crawl on a crontab schedule, e.g. '*/15 * * * *'."
        ),
        click.option(
            "--jitter", metavar="S", help="Delay each run by up to S (seconds, or 30s, 5m)."
        ),
        click.option(
            "--adaptive",
            is_flag=True,
            help="Let the interval follow how often the channel posts (within --min/--max).",
        ),
        click.option(
            "--min",
            "min_",
            metavar="DURATION",
            help=f"Adaptive: the shortest interval [default: {format_duration(DEFAULT_MIN)}].",
        ),
        click.option(
            "--max",
            "max_",
            metavar="DURATION",
            help=f"Adaptive: the longest interval [default: {format_duration(DEFAULT_MAX)}].",
        ),
        click.option(
            "--time-limit",
            metavar="DURATION",
            help="Stop a run that takes longer [default: the scheduler's --time-limit].",
        ),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _options(every, cron, jitter, adaptive, min_, max_, time_limit, crawl) -> Options:
    return Options(
        every=every,
        cron=cron,
        jitter=jitter,
        adaptive=adaptive,
        min=min_,
        max=max_,
        time_limit=time_limit,
        crawl=crawl,
    )


@sources.command("add")
@click.argument("source")
@schedule_options
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
@click.option(
    "--match",
    metavar="QUERY",
    help="Notify only of new and edited posts holding every word of QUERY "
    '(as `search` reads it: Chinese included, "quoted text" one term).',
)
@click.option("--no-match", is_flag=True, help="Notify of every change again (forget --match).")
@crawl_flags(scheduled=True, scope="for every run of this source")
@click.pass_context
@translate_errors
def add(ctx, source, every, cron, jitter, adaptive, min_, max_, time_limit, notify, no_notify,
        match, no_match, options):  # fmt: skip
    """Schedule SOURCE (or change its schedule: a source is never listed twice).

    Give exactly one of --every or --cron. With --adaptive the interval
    follows the channel's posting rate, between --min and --max; --every is
    where it starts. With --notify, each run ends with one message to each
    URL naming what changed since it was last told: new posts, edits with
    their removed and added words, deletions. A message that fails is sent
    with the next run's changes; it never fails the crawl. Adding a source
    again with --notify replaces its URLs; without it, they stay. With
    --match, the messages tell only of the new and edited posts whose text
    holds every word of QUERY (the syntax of `search`), naming the words
    found; --no-match tells of every change again, and without either the
    query stays.

    Example:

        chanarchive sources add @durov --every 30m --jitter 60

        chanarchive sources add t.me/telegram --cron "0 */6 * * *"

        chanarchive sources add @busy_channel --adaptive --min 10m --max 1d

        chanarchive sources add @durov --every 1h --notify ntfy://ntfy.example/t

        chanarchive sources add @news --every 1h --notify json://h/hook --match 地铁

        chanarchive sources add @durov --every 6h --media all --deletion-checks 200
    """
    if notify and no_notify:
        raise BadUsage("give --notify URL or --no-notify, not both")
    given = _options(every, cron, jitter, adaptive, min_, max_, time_limit, options)
    given.match, given.no_match = match, no_match
    spec = make_spec(source, given)  # checked before the file is touched
    urls = check_urls(notify)
    db = open_db(ctx, create=True)
    scheduled, created = add_source(
        db, source, spec.schedule, adaptive=spec.adaptive, crawl=spec.crawl,
        time_limit=spec.time_limit, match=spec.match, clear_match=spec.clear_match,
    )  # fmt: skip
    if urls or no_notify:
        set_targets(db, scheduled.key, urls)
    told = [t.shown for t in targets(db, scheduled.key)]
    db.close()
    verb = "scheduled" if created else "updated"
    state = " (paused)" if scheduled.paused else ""
    click.echo(f"{verb} {scheduled.key}: {scheduled.describe_schedule()}{state}")
    if told:
        click.echo(f"changes go to: {', '.join(told)}")
    if scheduled.match:
        waits = "" if told else " (once it has a --notify URL)"
        click.echo(
            f"changes told: only new and edited posts matching {scheduled.match.text}{waits}"
        )


@sources.command("import")
@click.argument("file", metavar="FILE")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["auto", *FORMATS]),
    default="auto",
    show_default=True,
    help="The file's format (auto: from its name, else its first lines).",
)
@schedule_options
@crawl_flags(scheduled=True, scope="for every run of these sources")
@click.pass_context
@translate_errors
def import_(ctx, file, fmt, every, cron, jitter, adaptive, min_, max_, time_limit, options):
    """Schedule every source in FILE (one a line, CSV or OPML; - reads stdin).

    A text file has one SOURCE a line; blank lines and # comments are
    skipped. A CSV file needs a header row with a 'source' column; its other
    columns (every, cron, jitter, adaptive, min, max, time_limit, paused,
    match, max_pages, depth, follow, profile, since, media, media_max_size,
    deletion_checks, settings) are each line's own, over
    the options given here. In an OPML file each outline's link is a source.
    Every line is checked first: one bad line is reported with its number
    and nothing is imported. Importing again updates the sources already
    scheduled (`sources export` writes a file this reads back).

    Example:

        chanarchive sources import channels.txt --every 1h --jitter 5m

        chanarchive sources import backup.csv

        chanarchive sources import feeds.opml --adaptive
    """
    name = "stdin" if file == "-" else file
    data = _read_input(file)
    lines = read_sources(name, data, fmt)
    defaults = _options(every, cron, jitter, adaptive, min_, max_, time_limit, options)
    plan = specs_from_lines(name, lines, defaults)  # every line checked before the file is touched
    db = open_db(ctx, create=True)
    added, updated = add_sources(db, plan.specs)
    db.close()
    merged = f"; {plan.merged} repeated lines merged" if plan.merged else ""
    click.echo(
        f"imported {len(plan.specs):,} sources from {name}: {added:,} new, {updated:,} updated"
        f"{merged}"
    )


def _read_input(file: str) -> bytes:
    if file == "-":
        return sys.stdin.buffer.read()
    path = Path(file)
    if not path.exists():
        raise BadUsage(f"no file {file}")
    if path.is_dir():
        raise BadUsage(f"{file} is a folder: give a file of sources")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise BadUsage(f"cannot read {file}: {exc.strerror}") from exc


@sources.command("export")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="csv",
    show_default=True,
    help="csv keeps every schedule and option; txt is one source a line; opml for feed readers.",
)
@click.option("-o", "--output", metavar="PATH", help="Write to PATH (default: stdout).")
@csv_flags("csv")
@click.pass_context
@translate_errors
def export_(ctx, fmt, output, raw_csv, excel):
    """Write the scheduled sources out, in a format `sources import` reads back.

    The csv format keeps each source's schedule, crawl options and paused
    state: importing it into another archive (or this one) restores them.
    Its cells are made safe for spreadsheets (a cell a spreadsheet would
    run as a formula gets an apostrophe in front, which `sources import`
    takes off again); --raw-csv writes them exactly, --excel adds a UTF-8
    byte-order mark for Excel. Notification targets (--notify URLs) are
    never written: their URLs may hold passwords or tokens. Those left out
    are named on stderr, masked, to be added again with `sources add`.

    Example:

        chanarchive sources export -o sources.csv

        chanarchive --db other.db sources import sources.csv

        chanarchive sources export --format txt
    """
    archive = db_path(ctx)
    check_csv_flags(fmt, raw_csv, excel)
    if output is not None:
        _check_output(Path(output), Path(archive))
    conn = connect_readonly(archive)  # exporting never writes the archive
    try:
        db = sqlite_utils.Database(conn)
        found = list(iter_sources(db)) if "sources" in db.table_names() else []
        left_out = [(source.key, t.shown) for source in found for t in targets(db, source.key)]
        pieces = write_sources(found, fmt, raw=raw_csv, excel=excel)
        if output is None:
            for piece in pieces:
                click.echo(piece, nl=False)
        else:
            with atomic_output(output) as out:
                out.writelines(pieces)
    except OutputFailed as exc:
        raise WorkFailed(str(exc)) from None
    finally:
        conn.close()
    if left_out:
        named = ", ".join(f"{key} {shown}" for key, shown in left_out)
        noun = "target" if len(left_out) == 1 else "targets"
        click.echo(
            f"{len(left_out)} notification {noun} not exported: {named} (URLs may hold"
            " passwords or tokens; add them again with `sources add SOURCE --notify URL`)",
            err=True,
        )


def _check_output(path: Path, archive: Path) -> None:
    """Never write the list over the archive, its side files, or another archive."""
    if path.is_dir():
        raise BadUsage(f"-o {path} is a folder: give a file name")
    if not path.parent.is_dir():
        raise BadUsage(f"cannot write {path}: folder {path.parent} does not exist")
    scheduler_store = Path(f"{archive}.scheduler.sqlite")
    if path.resolve() == scheduler_store.resolve():
        raise BadUsage(f"-o {path} is the scheduler's own file: give another file name")
    check_target(path, archive)


def _ago(when: str | None, now: datetime) -> str:
    then = times.to_datetime(when)
    if then is None:
        return "-"
    delta = (now - then).total_seconds()
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
                "refused" if src.problem else "paused" if src.paused else "active",
            ]
        )
        if src.adaptive and src.interval_reason:
            notes.append(f"{src.key}: {src.interval_reason}")
        if src.match:
            notes.append(
                f"{src.key}: notifies only of new and edited posts matching {src.match.text}"
            )
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
@click.option(
    "--state",
    type=click.Choice(STATES),
    help="Only the sources that are active, paused, failing (last run failed) or due now.",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1, max=10**9),
    metavar="N",
    help="Show at most N sources (a page).",
)
@click.option(
    "--offset",
    type=click.IntRange(min=0, max=10**12),
    default=0,
    metavar="N",
    help="Skip the first N sources (the next page: --offset plus --limit).",
)
@output_format("table", "json", default="table")
@click.pass_context
@translate_errors
def list_(ctx, state, limit, offset, fmt):
    """List the scheduled sources with their health, by source.

    Each source: its schedule, next run, last run and its status, last
    success, consecutive failures, paused or not; adaptive sources say why
    their interval is what it is, keyword alerts their query (--match), and
    failing notifications why they fail (json adds each source's
    notification targets, their secrets masked).
    --state and --limit / --offset page through thousands.

    Example:

        chanarchive sources list

        chanarchive sources list --state failing --limit 50

        chanarchive sources list --format json --limit 100 --offset 100
    """
    conn = connect_readonly(db_path(ctx))  # listing never writes, not even a migration
    try:
        db = sqlite_utils.Database(conn)
        if "sources" in db.table_names():
            page = list_page(db, state=state, limit=limit, offset=offset)
        else:
            page = SourcePage([], 0, offset)
        told = {row.source.key: targets(db, row.source.key) for row in page.statuses}
    finally:
        conn.close()
    if fmt == "json":
        records = [
            {**r.record(), "notify": [t.record() for t in told[r.source.key]]}
            for r in page.statuses
        ]
        click.echo(json.dumps(records, ensure_ascii=False, indent=2))
    elif page.statuses:
        click.echo(_table(page.statuses, told))
        if limit is not None or offset:
            click.echo(_page_line(page, state, limit))
    elif page.total or offset:
        click.echo(f"no sources after the first {offset:,} ({page.total:,} in all)")
    elif state:
        click.echo(f"no {state} sources")
    else:
        click.echo(
            "no scheduled sources (add one with `chanarchive sources add SOURCE --every 1h`)"
        )


def _page_line(page: SourcePage, state: str | None, limit: int | None) -> str:
    first, last = page.offset + 1, page.offset + len(page.statuses)
    which = f"{state} sources" if state else "sources"
    line = f"{first:,}-{last:,} of {page.total:,} {which}"
    if page.more and limit is not None:
        line += f"; next page: --offset {page.offset + limit}"
    return line


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


sources.add_command(discover_command)
