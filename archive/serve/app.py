"""Datasette on the archive, read-only, with chanarchive's metadata and canned queries.

Datasette opens the file with ``mode=ro`` and refuses anything but
``SELECT`` in its SQL box; this module is also a Datasette plugin that adds
the authorizer of :mod:`archive.query.guard` to every connection to the
archive, so that ``ATTACH``, writes, setting pragmas and extension
loading are denied there too. The metadata (:mod:`archive.serve.metadata`)
describes the tables, configures the search box and facets, and adds the
canned queries.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
from pathlib import Path
from typing import Any

from datasette import hookimpl

from ..query.guard import Authorizer, budget_rows, limit_connection
from ..store.connection import connect_readonly
from .metadata import database_name, metadata

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8001

#: Datasette settings for the archive (Datasette's own limits, said out loud).
SETTINGS: dict[str, Any] = {
    "sql_time_limit_ms": 1000,
    "max_returned_rows": 1000,
    "facet_time_limit_ms": 500,
    "allow_download": False,
}


#: The largest value a query in the browser may build or read: a post's text, its
#: HTML and a compressed page are far below it.
SERVE_MAX_VALUE_BYTES = 1024 * 1024

#: The most a query's rows may weigh in the browser (JSON may spell a byte in six).
SERVE_MAX_RESULT_BYTES = 32 * 1024 * 1024

#: Datasette database names whose connections get the read-only authorizer.
GUARDED: set[str] = set()


@hookimpl
def prepare_connection(conn: sqlite3.Connection, database: str, datasette: Any) -> None:
    """Datasette plugin hook: the read-only authorizer on every connection to a guarded archive."""
    if database in GUARDED:
        limit_connection(conn, max_length=SERVE_MAX_VALUE_BYTES)
        budget_rows(conn, SERVE_MAX_RESULT_BYTES)
        conn.set_authorizer(Authorizer(pragma_statements=True))


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


def make_datasette(path: str | os.PathLike[str], *, register_guard: bool = True) -> Any:
    """A Datasette instance serving the archive at ``path`` read-only, with its metadata."""
    from datasette.app import Datasette
    from datasette.plugins import pm

    file = Path(path).resolve()
    meta = metadata(file, archive_tables(file))
    if register_guard:
        GUARDED.add(database_name(file))
        if not pm.is_registered(sys.modules[__name__]):
            pm.register(sys.modules[__name__], name="chanarchive-guard")
    return Datasette([str(file)], metadata=meta, settings=dict(SETTINGS))


def serve(
    path: str | os.PathLike[str], *, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT
) -> None:
    """Serve the archive with Datasette until interrupted (blocks)."""
    import uvicorn

    ds = make_datasette(path)
    asyncio.run(ds.invoke_startup())
    uvicorn.run(ds.app(), host=host, port=port, log_level="warning", lifespan="on", workers=1)
