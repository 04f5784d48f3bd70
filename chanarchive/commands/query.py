"""``chanarchive query``: read-only SQL over the archive."""

from __future__ import annotations

import sys

import click

from archive.query import DEFAULT_MAX_ROWS, DEFAULT_TIME_LIMIT_MS, run_query
from archive.store import connect_readonly
from chanarchive.tables import ROW_FORMATS, write_rows

from ..clitools import db_path, output_format, translate_errors


@click.command()
@click.argument("sql")
@output_format(*ROW_FORMATS, default="table")
@click.option(
    "-p",
    "--param",
    "params",
    nargs=2,
    multiple=True,
    metavar="NAME VALUE",
    help="Fill the :NAME placeholder with VALUE (a string); repeat for more.",
)
@click.option(
    "--time-limit-ms",
    type=click.IntRange(min=1, max=10**9),
    default=DEFAULT_TIME_LIMIT_MS,
    show_default=True,
    help="Stop the query after this many milliseconds.",
)
@click.option(
    "--max-rows",
    type=click.IntRange(min=1, max=10**9),
    default=DEFAULT_MAX_ROWS,
    show_default=True,
    help="Return at most this many rows (a notice on stderr says when there were more).",
)
@click.pass_context
@translate_errors
def query(ctx, sql, fmt, params, time_limit_ms, max_rows):
    """Run a read-only SQL query on the archive.

    Only one SELECT, WITH … SELECT or EXPLAIN statement is allowed; the
    archive is opened read-only and writes, ATTACH, PRAGMA statements
    (table-valued pragma_* functions are fine) and extension loading are
    refused with exit status 2. The views current_posts, post_history and
    crawl_runs make the common questions one SELECT away.

    Example:

        chanarchive query "SELECT channel, post_id, text FROM current_posts LIMIT 5"

        chanarchive query "SELECT version, captured_at, text FROM post_history
        WHERE channel = :ch AND post_id = :id" -p ch durov -p id 42 --format json
    """
    conn = connect_readonly(db_path(ctx))
    try:
        result = run_query(conn, sql, dict(params), time_limit_ms=time_limit_ms, max_rows=max_rows)
    finally:
        conn.close()
    write_rows(result.columns, result.rows, sys.stdout, fmt)
    if result.too_large:
        click.echo(
            f"truncated: showing the first {len(result.rows)} rows, as many as the size cap"
            " of a result holds; select fewer or smaller columns to see the rest",
            err=True,
        )
    elif result.truncated:
        click.echo(
            f"truncated: showing the first {result.max_rows} rows; "
            "raise --max-rows or add a LIMIT to see the rest",
            err=True,
        )
