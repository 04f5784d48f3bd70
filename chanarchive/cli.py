"""The ``chanarchive`` command line: a thin layer over archive, crawler and scheduler."""

from __future__ import annotations

import click

from . import __version__
from .clitools import DEFAULT_DB
from .commands import (
    changes,
    crawl,
    demo,
    export,
    extract,
    history,
    query,
    scheduler,
    search,
    serve,
    sources,
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="chanarchive")
@click.option(
    "--db",
    envvar="CHANARCHIVE_DB",
    default=DEFAULT_DB,
    show_default=True,
    metavar="PATH",
    help="The archive file (else $CHANARCHIVE_DB, else ./archive.db).",
)
@click.pass_context
def cli(ctx: click.Context, db: str) -> None:
    """Archive public Telegram channels and their mirror sites over time.

    Every page capture, every post and every version of it go into one SQLite
    file that you can query, search, serve with Datasette and export.

    Example:

        chanarchive crawl @durov

        chanarchive export --format jsonl -o durov.jsonl
    """
    ctx.ensure_object(dict)
    ctx.obj["db"] = db


cli.add_command(crawl.crawl)
cli.add_command(extract.extract)
cli.add_command(export.export)
cli.add_command(demo.demo)
cli.add_command(sources.sources)
cli.add_command(scheduler.scheduler)
cli.add_command(query.query)
cli.add_command(search.search)
cli.add_command(history.history)
cli.add_command(history.diff)
cli.add_command(changes.changes)
cli.add_command(serve.serve)
