"""``chanarchive history`` and ``chanarchive diff``: the versions of one post."""

from __future__ import annotations

import json
import sys

import click

from archive.export import ExportScope, iter_scope, write_jsonl
from archive.query.history import (
    find_post,
    pick_versions,
    unified_diff,
    versions,
    word_diff_versions,
)
from archive.store import connect_readonly

from ..clitools import db_path, is_terminal, output_format, translate_errors


@click.command()
@click.argument("post", metavar="POST")
@output_format("text", "json", "jsonl", default="text")
@click.pass_context
@translate_errors
def history(ctx, post, fmt):
    """Show every version of a post, with the time each was captured.

    POST is the post's URL (t.me/s/… and t.me/… forms both work) or
    channel/post_id. json and jsonl give one export record per version.

    Example:

        chanarchive history https://t.me/durov/42

        chanarchive history durov/42 --format json
    """
    conn = connect_readonly(db_path(ctx))
    try:
        ref = find_post(conn, post)
        if fmt != "text":
            records = iter_scope(conn, ExportScope(all_versions=True, post=ref.id))
            if fmt == "jsonl":
                write_jsonl(records, sys.stdout)
            else:
                click.echo(json.dumps(list(records), ensure_ascii=False, indent=2))
            return
        found = versions(conn, ref)
    finally:
        conn.close()
    state = f", deleted_at {ref.deleted_at}" if ref.deleted_at else ""
    click.echo(
        f"{ref.name}  {ref.url or ''}  ({len(found)} version{'s' * (len(found) != 1)}, "
        f"current v{ref.current_version}{state})"
    )
    for v in found:
        source = f"  from {v.source_url}" if v.source_url else ""
        click.echo(f"\nv{v.version}  captured {v.captured_at}{source}")
        if v.title:
            click.echo(f"    {v.title}")
        for line in (v.text or "").splitlines() or [""]:
            click.echo(f"    {line}".rstrip())


@click.command()
@click.argument("post", metavar="POST")
@click.argument("versions_", metavar="[V1 V2]", nargs=-1, type=click.IntRange(min=1, max=10**9))
@click.option(
    "--words",
    is_flag=True,
    help="Mark changed words inside lines ([-old-]{+new+}); each CJK character is a word.",
)
@click.option("--raw", is_flag=True, help="Compare the raw text as captured, not the clean text.")
@click.pass_context
@translate_errors
def diff(ctx, post, versions_, words, raw):
    """Show what changed between two versions of a post (default: the last two).

    A unified diff of the clean text; --words marks the changed words (and
    CJK characters) inside the lines instead.

    Example:

        chanarchive diff durov/42

        chanarchive diff https://t.me/durov/42 1 3 --words
    """
    if len(versions_) not in (0, 2):
        raise click.BadParameter("give two versions (V1 V2), or none for the last two")
    first, second = versions_ if versions_ else (None, None)
    conn = connect_readonly(db_path(ctx))
    try:
        ref = find_post(conn, post)
        old, new = pick_versions(versions(conn, ref), first, second)
    finally:
        conn.close()
    if words:
        marks = ("[-", "-]", "{+", "+}")
        if is_terminal(sys.stdout):
            marks = ("\x1b[31m[-", "-]\x1b[0m", "\x1b[32m{+", "+}\x1b[0m")
        click.echo(word_diff_versions(ref, old, new, raw=raw, marks=marks), nl=False)
    else:
        click.echo(unified_diff(ref, old, new, raw=raw), nl=False)
