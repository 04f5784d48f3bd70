"""chanarchive's Datasette plugin: the archive's own pages, and the read-only guard.

Holds: the hooks Datasette calls (here); the routes and how each answers
in HTML and JSON (:mod:`.routes`, :mod:`.respond`); what each page shows
(:mod:`.pages`, :mod:`.changes`, :mod:`.search`, :mod:`.captures`); the
door every stored value passes to be shown (:mod:`.values`) and the one
every URL is made by (:mod:`.paths`); a capture made safe to show
(:mod:`.sanitise`); archived media files (:mod:`.media`); Datasette's
cells linked to the pages (:mod:`.cells`); the SVG charts
(:mod:`.charts`); per-statement limits (:mod:`.limits`); CSV downloads
neutralised (:mod:`.downloads`); and the pages' ``templates/`` and
``static/`` files.

May import: :mod:`archive.query` (the SQL guard, channels, changes, a
post's history, search), :mod:`archive.store` (its read-only connection,
media files), :mod:`archive.extract.encoding` (a capture's bytes read as
text, as the crawl read them), :mod:`archive.export.cells` (CSV cells a
spreadsheet cannot run), :mod:`archive.export.atom` (the change feed),
:mod:`archive.errors`, :mod:`archive.times`, and Datasette.
Writes nothing.

Registered as a ``datasette`` entry point (``pyproject.toml``), so that
``chanarchive serve`` and bare ``datasette archive.db`` both have it:

- ``/`` leads with the channels of each archive served (name, title, posts,
  last crawl, edits and deletions found) and the latest changes; a search
  box; Datasette's tables, views and queries stay a click away
  (``templates/index.html``);
- ``/-/channel/NAME``: the channel's activity over time, drawn, its latest
  changes, its crawls and their errors, a search box for its posts;
- ``/-/post/NAME/ID``: every version of a post with its capture time and
  the capture it came from, each edit marked word by word with ``<del>``
  and ``<ins>``, its deletions with the capture that confirmed each, its
  views (and reactions, when the archive keeps them) drawn over time, its
  media, its archived pictures shown;
- ``/-/capture/ID``: a capture as it was fetched, cleaned and sandboxed,
  with what it is, when and where it was fetched, and the captures of the
  same URL before and after it (:mod:`.captures`, :mod:`.sanitise`);
- ``/-/search?q=``: ``chanarchive search``'s ranked results; Datasette's
  own search box on ``posts`` finds the same posts (:mod:`.search`);
- ``/-/changes``: the change events a page at a time, some kinds only, and
  ``/-/changes.atom`` their feed (:mod:`.changes`);
- every page also as JSON (its URL plus ``.json``; the home page's is
  ``/-/index.json``), see :mod:`.routes`;
- ``/-/media/SHA256``: an archived media file, inline only as exactly one
  picture, video or audio type (:mod:`.media`);
- an unknown channel, post or capture gets a plain "not found" page (404);
- Datasette's cells of posts, channels and captures link to these pages
  (:mod:`.cells`), and its CSV downloads get their cells neutralised for
  spreadsheets, as ``export --format csv`` does (:mod:`.downloads`).

Pages survive any one row: the values they show pass through
:mod:`.values` (shortened, or shown as absent when they are not what they
claim), and a part of a page that still cannot be drawn is replaced by a
note while the rest of the page answers (logged, never a traceback).

Every connection Datasette opens to an archive gets the SQL guard of
:mod:`archive.query.guard` and the per-statement value limit and result
budget of :mod:`.limits` (:func:`prepare_connection`); the pages' own SQL
runs :func:`.limits.trusted`. The plugin must stay a package: Datasette
finds its ``templates/`` and ``static/`` through the package's name.
"""

from __future__ import annotations

import importlib
import sqlite3
from collections.abc import Callable
from typing import Any

from datasette import hookimpl

from ...query.guard import Authorizer, limit_connection
from . import values
from .cells import cell_link
from .downloads import neutralise_csv
from .limits import limit_per_statement, shorten_rows
from .media import INLINE_MEDIA, inline_type
from .respond import ARCHIVE_TABLES, archive_databases, css_url
from .routes import ROUTES, home_data
from .search import is_datasette_search, take_over_search, wants_our_search

__all__ = ["INLINE_MEDIA", "archive_databases", "inline_type"]

#: Tables that mark a SQLite file as a chanarchive archive (guarded, and given these pages).
MARKER_TABLE = "_chanarchive_migrations"

#: The largest value a query in the browser may build (or read, unless it is plain:
#: see :mod:`.limits`): a post's text, its HTML and a compressed page are far below it.
SERVE_MAX_VALUE_BYTES = 1024 * 1024

#: How much of a query's rows the browser gets whole (JSON may spell a byte in six);
#: past it, long values come shortened.
SERVE_MAX_RESULT_BYTES = 32 * 1024 * 1024


def is_archive(conn: sqlite3.Connection) -> bool:
    """True when ``conn`` is a connection to a chanarchive archive."""
    try:
        return (
            conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [MARKER_TABLE]
            ).fetchone()
            is not None
        )
    except sqlite3.DatabaseError:
        return False


@hookimpl
def startup(datasette: Any) -> None:
    """Datasette prints every error it answers, a refused query too, as a rich traceback
    with its local variables whenever ``rich`` can be imported (a dependency of a
    dependency here): a page of noise per bad query, and the request's values on the
    terminal. A refused query is the visitor's error and is answered, not logged; a server
    fault (500) is still printed, as a plain traceback. (Done at startup, not on import:
    importing Datasette's module here would load the plugins while this one is half made.)
    """
    handler = importlib.import_module("datasette.handle_exception")
    handler.rich = None


@hookimpl
def prepare_connection(conn: sqlite3.Connection, database: str, datasette: Any) -> None:
    """Every connection to an archive: the read-only authorizer and run-time limits."""
    if database != "_internal" and is_archive(conn):
        limit_connection(conn, max_length=SERVE_MAX_VALUE_BYTES)
        limits = limit_per_statement(conn, build_limit=SERVE_MAX_VALUE_BYTES)
        shorten_rows(conn, SERVE_MAX_RESULT_BYTES, limits)
        conn.set_authorizer(Authorizer(pragma_statements=True))


@hookimpl
def prepare_jinja2_environment(env: Any, datasette: Any) -> None:
    """The templates' ``moment`` filter: a page's ISO time as it is written out."""
    env.filters["moment"] = values.moment


@hookimpl
def asgi_wrapper(datasette: Any) -> Callable[[Any], Any]:
    """Datasette's own CSV downloads, their cells neutralised for spreadsheets."""
    return neutralise_csv


@hookimpl
def register_routes(datasette: Any) -> list[tuple[str, Any]]:
    return list(ROUTES)


async def _is_archive_db(db: Any) -> bool:
    return not db.is_memory and ARCHIVE_TABLES <= set(await db.table_names())


@hookimpl(hookwrapper=True)
def filters_from_request(request: Any, database: str, table: str, datasette: Any) -> Any:
    """``?_search=`` on an archive's ``posts`` finds what ``chanarchive search`` finds: the
    plugin's condition stands in for Datasette's own search filter (:mod:`.search`)."""
    outcome = yield
    raw = datasette.table_metadata(database, table).get("searchmode") == "raw"
    if not wants_our_search(request, table, raw):
        return
    outcome.force_result(
        [
            take_over_search(datasette, request, database, result, _is_archive_db)
            if is_datasette_search(result)
            else result
            for result in outcome.get_result()
        ]
    )


@hookimpl
def render_cell(
    row: Any, value: Any, column: str, table: str, database: str, datasette: Any
) -> Any:
    """A post's, a channel's or a capture's cell as a link to its chanarchive page."""
    return cell_link(row, value, column, table, database, datasette)


@hookimpl
def extra_template_vars(template: str, view_name: str, datasette: Any, request: Any) -> Any:
    """The home page's channels and latest changes (``templates/index.html`` shows them)."""
    if view_name != "index":
        return {}

    async def home() -> dict[str, Any]:
        archives = await home_data(datasette, request)
        return {"chanarchive": archives, "chanarchive_css": css_url(datasette)}

    return home
