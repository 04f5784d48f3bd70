"""``chanarchive sources discover``: the channels the archived posts point to, and scheduling them."""

from __future__ import annotations

import csv
import json
import sys

import click

from archive.export.tabular import csv_cell
from archive.query.discover import Candidate, discover
from archive.store import connect_readonly
from scheduler.sources.edit import add_sources
from scheduler.sources.schedules import parse_schedule
from scheduler.sources.specs import Options, make_spec

from ..clitools import BadUsage, db_path, open_db, output_format, translate_errors
from ..tables import render_table

CSV_COLUMNS = [
    "channel",
    "url",
    "posts",
    "channels",
    "forwards",
    "mentions",
    "links",
    "first_seen",
    "last_seen",
    "archived",
    "scheduled",
    "from",
]


def _status(candidate: Candidate, added: set[str]) -> str:
    if candidate.name in added:
        return "added now"
    words = ["archived"] * candidate.archived + ["scheduled"] * candidate.scheduled
    return ", ".join(words) or "new"


def write_text(found: list[Candidate], added: set[str]) -> None:
    if not found:
        click.echo("no channels found: the posts forward from, mention and link to none")
        return
    header = ["CHANNEL", "POSTS", "CHANNELS", "FORWARDS", "MENTIONS", "LINKS", "FIRST SEEN",
              "LAST SEEN", "STATUS"]  # fmt: skip
    rows = [
        [f"@{c.name}", c.posts, len(c.channels), c.forwards, c.mentions, c.links,
         c.first_seen or "-", c.last_seen or "-", _status(c, added)]
        for c in found
    ]  # fmt: skip
    click.echo(render_table(header, rows, rule=False).rstrip("\n"))


def write_csv(records: list[dict]) -> None:
    """The json records as rows, cells as every chanarchive CSV writes them (``from`` as JSON)."""
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(CSV_COLUMNS)
    for record in records:
        out.writerow([csv_cell(record[column]) for column in CSV_COLUMNS])


@click.command("discover")
@click.argument("channels", nargs=-1, metavar="[CHANNEL...]")
@click.option(
    "--min",
    "min_posts",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    metavar="N",
    help="Only the channels at least N posts point to.",
)
@click.option(
    "--limit", type=click.IntRange(min=1), metavar="N", help="Only the first N of the ranking."
)
@output_format("text", "json", "csv", default="text")
@click.option(
    "--add",
    is_flag=True,
    help="Schedule the channels listed that are not scheduled yet (give --every or --cron).",
)
@click.option("--every", metavar="DURATION", help="With --add: crawl each every DURATION (6h, 1d).")
@click.option("--cron", metavar="EXPR", help="With --add: crawl each on a crontab schedule.")
@click.option("--jitter", metavar="S", help="With --add: delay each run by up to S (30s, 5m).")
@click.pass_context
@translate_errors
def discover_command(ctx, channels, min_posts, limit, fmt, add, every, cron, jitter):
    """List the channels the archived posts forward from, mention or link to, ranked.

    Reads the current version of every post of each CHANNEL (default: every
    archived channel; deleted posts included) for forwards (`Forwarded from`),
    mentions (@name in the clean text) and links (t.me/name, t.me/s/name,
    t.me/name/123, telegram.me/name in the text or its links). Only names a
    `sources add` would take as a Telegram channel count: invites, t.me's own
    paths (joinchat, share, addstickers, proxy, ...) and malformed names are
    left out, and a channel is never listed for its own posts.

    Ranked by the posts pointing to each, then the archived channels they
    come from; with how many forward, mention or link, the first and last
    such post (published time), and whether the channel is archived or
    scheduled already. Nothing is written unless --add: it schedules every
    channel listed that no source crawls yet, checked and stored as
    `sources add @name --every D` does; scheduled ones are left as they are.

    Example:

        chanarchive sources discover

        chanarchive sources discover durov --min 3 --format json

        chanarchive sources discover --format csv > found.csv

        chanarchive sources discover --min 5 --limit 20 --add --every 6h
    """
    if not add and (every or cron or jitter):
        raise BadUsage("--every, --cron and --jitter schedule what --add adds: add --add")
    if add:
        parse_schedule(every, cron, jitter)  # a bad schedule is refused before anything is read
    conn = connect_readonly(db_path(ctx))
    try:
        found = discover(conn, list(channels), min_posts=min_posts)
    finally:
        conn.close()
    if limit is not None:
        found = found[:limit]
    added: set[str] = set()
    message = None
    if add:
        chosen = [c for c in found if not c.scheduled]
        options = Options(every=every, cron=cron, jitter=jitter)
        specs = [make_spec(f"@{c.name}", options) for c in chosen]  # as `sources add` checks
        if specs:
            db = open_db(ctx)
            try:
                add_sources(db, specs)
            finally:
                db.close()
        added = {c.name for c in chosen}
        kept = len(found) - len(chosen)
        message = f"scheduled {len(specs)} channel{'s' * (len(specs) != 1)}"
        if specs:
            message += f" ({specs[0].schedule.describe()}): " + ", ".join(s.key for s in specs)
        if kept:
            message += f"; {kept} already scheduled, left as they are"
    records = [c.to_record() for c in found]
    for record in records:
        record["scheduled"] = record["scheduled"] or record["channel"] in added
    if fmt == "json":
        click.echo(json.dumps(records, ensure_ascii=False, indent=2))
    elif fmt == "csv":
        write_csv(records)
    else:
        write_text(found, added)
    if message:
        click.echo(message, err=fmt != "text")
