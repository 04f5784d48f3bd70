"""``chanarchive gaps``: which message ids of each Telegram channel the archive holds and lacks."""

from __future__ import annotations

import csv
import json
import sys

import click

from archive.export.cells import neutralise
from archive.query.gaps import ChannelGaps, archive_gaps
from archive.store import connect_readonly

from ..clitools import db_path, output_format, translate_errors

#: The range lists of a channel, in the order they are shown, with their text labels.
LISTS = (
    ("archived", "archived", "walked in full"),
    ("holes", "holes", "never walked: crawl --fill-gaps fetches them"),
    ("never_seen", "never seen", "inside archived ranges, shown by no page"),
    ("deleted", "deleted", "confirmed by the post's embed"),
    ("missing", "missing", "left the listing, not decided yet"),
    ("hidden", "hidden", "left the listing, the embed still shows it"),
)


def ranges_text(ranges: list[tuple[int, int]], limit: int = 40) -> str:
    if not ranges:
        return "-"
    words = [str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in ranges[:limit]]
    more = f" (+{len(ranges) - limit} more ranges)" if len(ranges) > limit else ""
    return ", ".join(words) + more


def write_text(found: list[ChannelGaps]) -> None:
    if not found:
        click.echo("no Telegram channel in the archive")
    for n, gaps in enumerate(found):
        if n:
            click.echo("")
        newest = gaps.newest_id if gaps.newest_id is not None else "unknown"
        click.echo(f"{gaps.channel}  (newest id {newest}; {gaps.source_url or 'no source URL'})")
        for what, label, meaning in LISTS:
            count = gaps.ids(what)
            click.echo(
                f"  {label:<11} {ranges_text(getattr(gaps, what))}  [{count} {'id' if count == 1 else 'ids'}: {meaning}]"
            )
        if not gaps.pages:
            click.echo("  pages       - (nothing to fill)")
        for page in gaps.pages:
            lo, hi = page.hole
            click.echo(
                f"  page        {page.url or f'?before={page.before}'}  "
                f"[walks down through {lo}-{hi}: about {page.pages} page{'s' * (page.pages != 1)}]"
            )


CSV_COLUMNS = ["channel", "what", "lo", "hi", "ids", "url"]


def write_csv(found: list[ChannelGaps]) -> None:
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(CSV_COLUMNS)
    for gaps in found:
        name = neutralise(gaps.channel)
        for what, _label, _meaning in LISTS:
            for lo, hi in getattr(gaps, what):
                out.writerow([name, what, lo, hi, hi - lo + 1, ""])
        for page in gaps.pages:
            lo, hi = page.hole
            out.writerow([name, "page", lo, hi, hi - lo + 1, neutralise(page.url or "")])


@click.command()
@click.argument("channels", nargs=-1, metavar="[CHANNEL...]")
@output_format("text", "json", "csv", default="text")
@click.pass_context
@translate_errors
def gaps(ctx, channels, fmt):
    """Show which message ids of each Telegram channel the archive holds, and which it lacks.

    For each CHANNEL (default: every Telegram channel of the archive): the id
    ranges walked in full; the holes no crawl has walked yet (up to the newest
    id known); ids inside the walked ranges that no page showed (deleted before
    the first crawl, or never a message); posts confirmed deleted; posts that
    left the listing and are not decided yet (missing) or that their embed
    still shows (hidden); and the ?before= page whose walk fills each hole.
    `crawl SOURCE --fill-gaps` fetches exactly those pages. csv gives one row
    per range (columns channel, what, lo, hi, ids, url).

    Example:

        chanarchive gaps

        chanarchive gaps durov @telegram --format json

        chanarchive gaps durov --format csv > gaps.csv

        chanarchive crawl @durov --fill-gaps
    """
    conn = connect_readonly(db_path(ctx))
    try:
        found = archive_gaps(conn, list(channels))
    finally:
        conn.close()
    if fmt == "json":
        click.echo(json.dumps([g.to_record() for g in found], ensure_ascii=False, indent=2))
    elif fmt == "csv":
        write_csv(found)
    else:
        write_text(found)


def sources_with_holes(path: str, sources: list) -> list:
    """``crawl --fill-gaps``: the sources whose channel has holes to fill (the others said so).

    Every source must name a Telegram channel the archive holds; :class:`BadUsage` otherwise,
    before anything is fetched.
    """
    from archive.extract.unreadable import preview_channel
    from archive.query.gaps import channel_gaps
    from archive.source import SOURCE_TELEGRAM

    from ..clitools import BadUsage

    names = []
    for source in sources:
        name = source.name if source.kind == SOURCE_TELEGRAM else preview_channel(source.url)
        if not name:
            raise BadUsage(
                f"--fill-gaps fills Telegram channels (@name, t.me/s/NAME), not {source.url}"
            )
        names.append(name)
    conn = connect_readonly(path)
    try:
        found = [channel_gaps(conn, name) for name in names]
    finally:
        conn.close()
    chosen = []
    for source, gaps_ in zip(sources, found, strict=True):
        if gaps_.holes:
            chosen.append(source)
        else:
            click.echo(f"{gaps_.channel}: no gaps to fill")
    return chosen
