"""``chanarchive serve``: Datasette on the archive, read-only."""

from __future__ import annotations

import json

import click

from archive.serve.metadata import metadata

from ..clitools import db_path, translate_errors


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", type=click.IntRange(1, 65535), default=8001, show_default=True, help="Port."
)
@click.option(
    "--metadata",
    "print_metadata",
    is_flag=True,
    help="Print the Datasette metadata (JSON) and exit, for `datasette archive.db -m FILE`.",
)
@click.pass_context
@translate_errors
def serve(ctx, host, port, print_metadata):
    """Browse and query the archive in Datasette, read-only.

    The home page leads with the channels, the latest changes and a search
    box. chanarchive's pages: /-/channel/NAME (activity drawn, changes,
    crawls), /-/post/NAME/ID (every version, edits word by word, each
    version's capture), /-/capture/ID (a page as it was fetched, shown
    sandboxed: no script runs, nothing is loaded from the live web),
    /-/search?q= (ranked, as `chanarchive search`), /-/changes (by kind,
    page by page, with its Atom feed /-/changes.atom); each also as .json
    (/-/index.json for the home page). Datasette's tables are described,
    their post and channel cells link to these pages, the search box on
    posts finds what `chanarchive search` finds (two-character Chinese
    words included), and canned queries answer the common questions.
    `datasette archive.db` works on the bare file too.

    Example:

        chanarchive serve --port 8001

        curl 'http://127.0.0.1:8001/-/search.json?q=地铁'

        chanarchive serve --metadata > metadata.json && datasette archive.db -m metadata.json
    """
    from archive.serve.app import archive_tables
    from archive.serve.app import serve as run

    path = db_path(ctx)
    if print_metadata:
        click.echo(json.dumps(metadata(path, archive_tables(path)), ensure_ascii=False, indent=2))
        return
    archive_tables(path)  # a file that is not an archive: one line, before anything is said
    click.echo(f"Serving {path} read-only at http://{host}:{port}/ (Ctrl-C stops)", err=True)
    run(path, host=host, port=port)
