"""Datasette on the archive, read-only, with chanarchive's metadata, canned queries and pages.

Datasette opens the file with ``mode=ro`` and refuses anything but
``SELECT`` in its SQL box; chanarchive's plugin (:mod:`archive.serve.plugin`,
a ``datasette`` entry point, so bare ``datasette archive.db`` has it too)
adds the authorizer of :mod:`archive.query.guard` to every connection to an
archive, so that ``ATTACH``, writes, setting pragmas and extension loading
are denied there too, and serves the archive's own pages. The metadata
(:mod:`archive.serve.metadata`) describes the tables, configures the search
box and facets, and adds the canned queries.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from ..store.connection import connect_readonly
from .metadata import metadata

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8001

#: Datasette settings for the archive (Datasette's own limits, said out loud).
SETTINGS: dict[str, Any] = {
    "sql_time_limit_ms": 1000,
    "max_returned_rows": 1000,
    "facet_time_limit_ms": 500,
    "allow_download": False,
}


def archive_tables(path: str | os.PathLike[str]) -> set[str]:
    """The tables and views of the archive (checks, on the way, that it is one)."""
    conn = connect_readonly(path)
    try:
        return {
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type IN ('table', 'view')"
            )
        }
    finally:
        conn.close()


def ensure_plugin() -> None:
    """Register chanarchive's plugin with Datasette unless its entry point already did.

    (An installed chanarchive has the entry point; a source tree run without
    installing it does not.)
    """
    from datasette.plugins import pm

    from . import plugin

    if not pm.is_registered(plugin):
        pm.register(plugin, name="chanarchive")


def make_datasette(path: str | os.PathLike[str]) -> Any:
    """A Datasette instance serving the archive at ``path`` read-only, with its metadata."""
    from datasette.app import Datasette

    file = Path(path).resolve()
    meta = metadata(file, archive_tables(file))
    ensure_plugin()
    return Datasette([str(file)], metadata=meta, settings=dict(SETTINGS))


def serve(
    path: str | os.PathLike[str], *, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT
) -> None:
    """Serve the archive with Datasette until interrupted (blocks)."""
    import uvicorn

    ds = make_datasette(path)
    asyncio.run(ds.invoke_startup())
    uvicorn.run(ds.app(), host=host, port=port, log_level="warning", lifespan="on", workers=1)
