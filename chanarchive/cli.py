"""The ``chanarchive`` command line: a thin layer over archive, crawler and scheduler."""

from __future__ import annotations

import os
import sys

import click

from . import __version__
from .clitools import DEFAULT_DB, BadUsage
from .commands import (
    changes,
    crawl,
    demo,
    export,
    extract,
    gaps,
    history,
    ingest,
    query,
    scheduler,
    search,
    serve,
    sources,
    verify,
    worker,
)


class OneLineErrors(click.Group):
    """Usage errors as one line (``Error: …`` and where to read more), exit status 2.

    Click prints the whole usage block above a bad option's message; a
    script or a person reads the one line that says what was wrong.
    """

    def main(self, *args, **kwargs):
        if not kwargs.get("standalone_mode", True):
            return super().main(*args, **kwargs)
        kwargs["standalone_mode"] = False
        try:
            result = super().main(*args, **kwargs)
        except click.UsageError as exc:
            command = exc.ctx.command_path if exc.ctx is not None else "chanarchive"
            click.echo(f"Error: {exc.format_message()} (see: {command} --help)", err=True)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(1)
        sys.exit(result if isinstance(result, int) else 0)


@click.group(cls=OneLineErrors, context_settings={"help_option_names": ["-h", "--help"]})
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
    source = ctx.get_parameter_source("db")
    if not db.strip() or (
        source == click.core.ParameterSource.DEFAULT and os.environ.get("CHANARCHIVE_DB") == ""
    ):
        raise BadUsage("no archive named: --db (or $CHANARCHIVE_DB) is empty; give a file name")
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
cli.add_command(gaps.gaps)
cli.add_command(serve.serve)
cli.add_command(worker.worker)
cli.add_command(ingest.ingest)
cli.add_command(verify.verify)
