"""``chanarchive export``: stream the archive out."""

from __future__ import annotations

import sys

import click

from archive.export import iter_records, write_jsonl

from ..clitools import open_db, translate_errors


@click.command()
@click.option("--format", "fmt", type=click.Choice(["jsonl"]), required=True, help="Export format.")
@click.option("--channel", metavar="NAME", help="Only this channel.")
@click.option(
    "--all-versions", is_flag=True, help="Every version of every post, not only the current."
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    help="Write here, not to stdout.",
)
@click.pass_context
@translate_errors
def export(ctx, fmt, channel, all_versions, output):
    """Stream posts out of the archive.

    By default the current version of each post, deleted posts included (with
    their deleted_at); --all-versions gives every version.

    Example:

        chanarchive export --format jsonl -o archive.jsonl

        chanarchive export --format jsonl --channel durov --all-versions
    """
    db = open_db(ctx)
    records = iter_records(
        db, channel=channel.lower() if channel else None, all_versions=all_versions
    )
    if output:
        with open(output, "w", encoding="utf-8") as out:
            write_jsonl(records, out)
    else:
        write_jsonl(records, sys.stdout)
