"""``chanarchive changes``: the archive's change events, newest first."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path

import click

from archive.export.atom import channel_info, write_change_feed
from archive.query.changelist import FirstCrawl, iter_items, list_changes, parse_cursor
from archive.query.changes import EDITED, ChangeScope, iter_matching, parse_kinds
from archive.query.search import parse_query
from archive.store import connect_readonly
from archive.times import readable

from ..clitools import BadUsage, db_path, is_terminal, output_format, translate_errors
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
@click.option(
    "--match",
    metavar="QUERY",
    help="Only new and edited posts holding every word of QUERY (as `search` reads it).",
)
@output_format("text", "jsonl", "atom", default="text")
@click.pass_context
@translate_errors
def changes(ctx, channel, since, kinds, limit, before, match, fmt):
    """List what changed in the archive, newest first.

    Each change is a post new, edited (with the words removed and added;
    every CJK character counts as a word), deleted, or back after a
    deletion (undeleted), at the time a crawl saw it. text marks an edit's
    removed [-words-] and added {+words+}, and sums up a channel's first
    crawl in one line ("45 posts archived on 2026-12-02"); jsonl gives one
    record a line for every change (kind, at, channel, post_id, url,
    version, title, text, removed, added, diff); atom a feed of them.
    --limit N shows a page of N and prints (on stderr) the --before cursor
    of the next one. --match keeps the new and edited posts whose text
    holds every word of QUERY, written as for `search` (Chinese included;
    "quoted text" is one term), and names the words that matched: what a
    source's keyword alerts (`sources add --match`) tell; it lists every
    match (the newest N with --limit), without paging. Reads the archive only.

    Example:

        chanarchive changes --since 2026-11-20

        chanarchive changes --kinds edited,deleted --limit 20

        chanarchive changes --channel durov --format jsonl

        chanarchive changes --channel durov --format atom > durov-changes.atom

        chanarchive changes --match '地铁 "line 2"' --since 2026-11-20
    """
    scope = ChangeScope(
        channels=(channel,) if channel else (), since=since, kinds=parse_kinds(kinds)
    )
    scope = scope.normalized()  # a bad time is refused here, before anything is printed
    cursor = parse_cursor(before) if before else None
    query = parse_query(match, option="--match") if match is not None else None
    if query is not None and cursor is not None:
        raise BadUsage("--match lists every match (the newest N with --limit): no --before")
    summarise = fmt == "text" and query is None
    path = db_path(ctx)
    conn = connect_readonly(path)
    more = None
    try:
        if channel:
            channel_info(conn, channel)  # an unknown channel is bad input: exit 2
        if query is not None:
            items = iter_matching(conn, replace(scope, limit=limit), query)
        elif limit is not None or cursor is not None:
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
                    count += 1
                    continue
                line = _text_line(item, colour=colour)
                matched = getattr(item, "matched", None)
                if matched:
                    line += f"  (matched: {' · '.join(matched)})"
                click.echo(line)
                count += 1
            if count == 0 and fmt == "text":
                matching = f" matching {match}" if query is not None else ""
                click.echo("no changes" + matching + (f" since {since}" if since else ""), err=True)
    finally:
        conn.close()
    if more is not None:
        click.echo(f"more: --before '{more}'", err=True)
