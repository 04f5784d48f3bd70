"""``chanarchive changes``: the archive's change events, newest first."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from archive.export.atom import channel_info, write_change_feed
from archive.query.changelist import FirstCrawl, iter_items, list_changes, parse_cursor
from archive.query.changes import EDITED, ChangeScope, parse_kinds
from archive.store import connect_readonly
from archive.times import readable

from ..clitools import db_path, is_terminal, output_format, translate_errors
from ..tables import pad, truncate

#: Unchanged characters kept on each side of a change in the text format.
CONTEXT = 12
#: The widest a text line's summary gets, in terminal columns.
LINE_WIDTH = 120

PLAIN_MARKS = ("[-", "-]", "{+", "+}")
COLOUR_MARKS = ("\x1b[31m[-", "-]\x1b[0m", "\x1b[32m{+", "+}\x1b[0m")


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _text_line(change, *, colour: bool) -> str:
    when = readable(change.at) + "Z"
    if isinstance(change, FirstCrawl):
        return f"{when}  {pad(change.kind, 9)}  {pad(change.channel, 24)}  {change.summary()}"
    name = change.name + (f" v{change.version}" if change.kind == EDITED else "")
    if change.kind == EDITED:
        summary = _one_line(change.marked(PLAIN_MARKS, context=CONTEXT))
        if not change.removed and not change.added:
            summary = "(the text is the same: links, media or the title changed)"
        summary = truncate(summary, LINE_WIDTH)
        if colour:
            for plain, coloured in zip(PLAIN_MARKS, COLOUR_MARKS, strict=True):
                summary = summary.replace(plain, coloured)
    else:
        summary = truncate(_one_line(change.title or change.text), LINE_WIDTH)
    return f"{when}  {pad(change.kind, 9)}  {pad(name, 24)}  {summary}".rstrip()


@click.command()
@click.option("--channel", metavar="NAME", help="Only this channel.")
@click.option("--since", metavar="T", help="Only changes seen at or after T (ISO 8601).")
@click.option(
    "--kinds",
    metavar="KINDS",
    help="Only these kinds, comma-separated: new, edited, deleted, undeleted.",
)
@click.option(
    "--limit", type=click.IntRange(min=1), metavar="N", help="At most N changes (the newest)."
)
@click.option(
    "--before",
    metavar="CURSOR",
    help="Only changes older than this: a time, or the cursor a --limit page printed.",
)
@output_format("text", "jsonl", "atom", default="text")
@click.pass_context
@translate_errors
def changes(ctx, channel, since, kinds, limit, before, fmt):
    """List what changed in the archive, newest first.

    Each change is a post new, edited (with the words removed and added;
    every CJK character counts as a word), deleted, or back after a
    deletion (undeleted), at the time a crawl saw it. text marks an edit's
    removed [-words-] and added {+words+}, and sums up a channel's first
    crawl in one line ("45 posts archived on 2026-12-02"); jsonl gives one
    record a line for every change (kind, at, channel, post_id, url,
    version, title, text, removed, added, diff); atom a feed of them.
    --limit N shows a page of N and prints (on stderr) the --before cursor
    of the next one. Reads the archive only.

    Example:

        chanarchive changes --since 2026-11-20

        chanarchive changes --kinds edited,deleted --limit 20

        chanarchive changes --channel durov --format jsonl

        chanarchive changes --channel durov --format atom > durov-changes.atom
    """
    scope = ChangeScope(
        channels=(channel,) if channel else (), since=since, kinds=parse_kinds(kinds)
    )
    scope = scope.normalized()  # a bad time is refused here, before anything is printed
    cursor = parse_cursor(before) if before else None
    summarise = fmt == "text"
    path = db_path(ctx)
    conn = connect_readonly(path)
    more = None
    try:
        if channel:
            channel_info(conn, channel)  # an unknown channel is bad input: exit 2
        if limit is not None or cursor is not None:
            page = list_changes(
                conn, scope, limit=limit or 10**9, before=cursor, summarise=summarise
            )
            items, more = page.items, page.more
        else:
            items = iter_items(conn, scope, summarise=summarise)
        if fmt == "atom":
            title = (
                f"Changes in {scope.channels[0]}" if channel else f"Changes in {Path(path).name}"
            )
            write_change_feed(conn, sys.stdout, scope, title=title, changes=items)
        else:
            colour = fmt == "text" and is_terminal(sys.stdout)
            count = 0
            for item in items:
                if fmt == "jsonl":
                    click.echo(json.dumps(item.record(), ensure_ascii=False))
                else:
                    click.echo(_text_line(item, colour=colour))
                count += 1
            if count == 0 and fmt == "text":
                click.echo("no changes" + (f" since {since}" if since else ""), err=True)
    finally:
        conn.close()
    if more is not None:
        click.echo(f"more: --before '{more}'", err=True)
