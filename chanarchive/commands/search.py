"""``chanarchive search``: full-text search of the current post texts."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict

import click

from archive.query.search import DEFAULT_LIMIT, search_posts
from archive.store import connect_readonly

from ..clitools import db_path, is_terminal, output_format, translate_errors

#: Snippet marks when the output is not a terminal (a terminal gets colour).
PLAIN_MARKS = ("[", "]")
_START, _END = "\x00", "\x01"


@click.command()
@click.argument("text")
@click.option("--channel", metavar="NAME", help="Only this channel.")
@click.option(
    "--limit",
    type=click.IntRange(min=1, max=10**9),
    default=DEFAULT_LIMIT,
    show_default=True,
    help="At most this many posts.",
)
@output_format("text", "json", "jsonl", default="text")
@click.pass_context
@translate_errors
def search(ctx, text, channel, limit, fmt):
    """Search the current text of every post, best matches first.

    Every word must occur (Chinese works: any run of characters matches,
    no spaces needed); "quoted text" is one term. Snippets mark the matches
    [like this] (in colour on a terminal).

    Example:

        chanarchive search 地铁

        chanarchive search "南湖隧道 通行" --channel chanarchive_demo --limit 5
    """
    colour = fmt == "text" and is_terminal(sys.stdout)
    marks = (_START, _END) if colour else PLAIN_MARKS
    conn = connect_readonly(db_path(ctx))
    try:
        hits = search_posts(conn, text, channel=channel, limit=limit, marks=marks)
    finally:
        conn.close()
    if fmt == "json":
        click.echo(json.dumps([asdict(h) for h in hits], ensure_ascii=False, indent=2))
        return
    if fmt == "jsonl":
        for hit in hits:
            click.echo(json.dumps(asdict(hit), ensure_ascii=False))
        return
    if not hits:
        click.echo("no posts found", err=True)
        return
    for hit in hits:
        when = (hit.published_at or "")[:16].replace("T", " ")
        gone = "  (deleted)" if hit.deleted_at else ""
        click.echo(f"{hit.ref}  {when}  {hit.url or ''}{gone}".rstrip())
        snippet = hit.snippet
        if colour:
            snippet = snippet.replace(_START, "\x1b[1;33m").replace(_END, "\x1b[0m")
        click.echo(f"  {snippet}")
