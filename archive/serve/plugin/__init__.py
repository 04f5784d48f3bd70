"""chanarchive's Datasette plugin: the archive's own pages, and the read-only guard.

Holds: the hooks Datasette calls (here), what each page shows
(:mod:`.pages`), the SVG charts (:mod:`.charts`), and the pages'
``templates/`` and ``static/`` files.

May import: :mod:`archive.query` (the SQL guard, channels, changes, a
post's history), :mod:`archive.store` (its read-only connection, media
files), :mod:`archive.export.cells` (CSV cells a spreadsheet cannot run),
:mod:`archive.times`, and Datasette. Writes nothing.

Registered as a ``datasette`` entry point (``pyproject.toml``), so that
``chanarchive serve`` and bare ``datasette archive.db`` both have it:

- ``/`` leads with the channels of each archive served (name, title, posts,
  last crawl, edits and deletions found) and the latest changes; Datasette's
  tables, views and queries stay a click away (``templates/index.html``);
- ``/-/channel/NAME``: the channel's activity over time, drawn, its latest
  changes, its crawls and their errors;
- ``/-/post/NAME/ID``: every version of a post with its capture time and
  source, each edit marked word by word with ``<del>`` and ``<ins>``, its
  views (and reactions, when the archive keeps them) drawn over time, its
  media, its archived pictures shown;
- ``/-/media/SHA256``: an archived media file, read through a read-only
  connection of its own (a file may be larger than the guard lets a query
  read); served inline only when its stored content type is exactly one
  picture, video or audio type of :data:`INLINE_MEDIA` (then as that type,
  spelled by us), as a download (``application/octet-stream``) otherwise,
  always with ``nosniff`` and a sandboxing CSP: never run by the browser;
- an unknown channel or post gets a plain "not found" page (HTTP 404);
- Datasette's own CSV downloads get their cells neutralised for
  spreadsheets, as ``export --format csv`` does (:mod:`.downloads`).

A page's URL carries the channel name and post id escaped
(:func:`.pages.channel_path`, :func:`.pages.post_path`: a web channel's
``127.0.0.1:8080`` is ``127.0.0.1%3A8080``), and each route reads them
back unescaped, so every link round-trips.

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

import asyncio
import logging
import re
import sqlite3
from collections.abc import Callable
from typing import Any

from datasette import Response, hookimpl

from ...query.guard import Authorizer, limit_connection
from ...store import connect_readonly, media_file
from . import pages
from .downloads import neutralise_csv
from .limits import limit_per_statement, shorten_rows, trusted

logger = logging.getLogger(__name__)

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
def prepare_connection(conn: sqlite3.Connection, database: str, datasette: Any) -> None:
    """Every connection to an archive: the read-only authorizer and run-time limits."""
    if database != "_internal" and is_archive(conn):
        limit_connection(conn, max_length=SERVE_MAX_VALUE_BYTES)
        limits = limit_per_statement(conn, build_limit=SERVE_MAX_VALUE_BYTES)
        shorten_rows(conn, SERVE_MAX_RESULT_BYTES, limits)
        conn.set_authorizer(Authorizer(pragma_statements=True))


async def archive_databases(datasette: Any) -> list[Any]:
    """The databases Datasette serves that are chanarchive archives, in its order."""
    found = []
    for name, db in datasette.databases.items():
        if name == "_internal" or db.is_memory:
            continue
        if pages.ARCHIVE_TABLES <= set(await db.table_names()):
            found.append(db)
    return found


def _css_url(datasette: Any) -> str:
    """Where Datasette serves this plugin's stylesheet (under the name it registered us by)."""
    from datasette.plugins import get_plugins

    here = __name__
    for plugin in get_plugins():
        if plugin.get("templates_path") and plugin["templates_path"].replace("\\", "/").endswith(
            here.replace(".", "/") + "/templates"
        ):
            return datasette.urls.static_plugins(plugin["name"], "chanarchive.css")
    return datasette.urls.static_plugins(here, "chanarchive.css")


async def _render(
    datasette: Any, request: Any, template: str, context: dict[str, Any], status: int = 200
) -> Response:
    context = {**context, "chanarchive_css": _css_url(datasette)}
    body = await datasette.render_template(template, context, request=request)
    return Response.html(body, status=status)


async def not_found(datasette: Any, request: Any, message: str, back: dict | None = None):
    """The plain "not found" page, with HTTP status 404."""
    context = {"message": message, "back": back}
    return await _render(datasette, request, "chanarchive_not_found.html", context, status=404)


async def _read(db: Any, read: Callable[[sqlite3.Connection], Any]) -> Any:
    """``read(conn)`` on Datasette's connection to ``db``, as the pages' own (trusted) SQL."""

    def run(conn: sqlite3.Connection) -> Any:
        with trusted(conn):
            return read(conn)

    return await db.execute_fn(run)


#: What a page says in place of a part it could not draw.
NOT_SHOWN = (
    "This page could not be drawn from what the archive holds here: a value in it is"
    " not what it should be. The tables hold every row as it was stored."
)


async def _page(datasette: Any, request: Any, what: str, draw: Callable[[], Any]) -> Response:
    """``draw()``; when a value of the archive still breaks it, a plain page that says so."""
    try:
        return await draw()
    except Exception as exc:  # one bad row must not take the page down with a traceback
        logger.warning("%s %s: %s: %s", what, request.path, exc.__class__.__name__, exc)
        context = {"message": NOT_SHOWN, "back": None, "title": "Cannot be shown"}
        return await _render(datasette, request, "chanarchive_not_found.html", context, status=200)


async def channel_page(datasette: Any, request: Any) -> Response:
    name = pages.from_path(request.url_vars["name"])

    async def draw() -> Response:
        for db in await archive_databases(datasette):
            data = await _read(db, lambda conn: pages.channel_data(conn, name))
            if data is not None:
                return await _render(
                    datasette, request, "chanarchive_channel.html", {**data, "database": db.name}
                )
        return await not_found(datasette, request, f"There is no channel called “{name}” here.")

    return await _page(datasette, request, "channel page", draw)


async def post_page(datasette: Any, request: Any) -> Response:
    name = pages.from_path(request.url_vars["name"])
    post_id = pages.from_path(request.url_vars["post_id"])

    async def draw() -> Response:
        known_channel = False
        for db in await archive_databases(datasette):
            data = await _read(db, lambda conn: pages.post_data(conn, name, post_id))
            if data is not None:
                return await _render(
                    datasette, request, "chanarchive_post.html", {**data, "database": db.name}
                )
            exists = await _read(db, lambda conn: pages.channel_summary(conn, name) is not None)
            known_channel = known_channel or exists
        back = {"href": pages.channel_path(name), "text": f"the channel {name}"}
        if known_channel:
            return await not_found(
                datasette,
                request,
                f"The channel {name} has no post {post_id} in this archive.",
                back,
            )
        return await not_found(datasette, request, f"There is no channel called “{name}” here.")

    return await _page(datasette, request, "post page", draw)


#: Content types a media file is served as (exactly these, nothing else): pictures
#: a browser shows but cannot run (no SVG), videos and sound. Anything else is a download.
INLINE_MEDIA = frozenset(
    {
        "image/jpeg", "image/png", "image/gif", "image/webp", "image/avif", "image/bmp",
        "video/mp4", "video/webm", "video/ogg", "video/quicktime",
        "audio/mpeg", "audio/ogg", "audio/mp4", "audio/aac", "audio/wav", "audio/webm",
        "audio/flac", "audio/opus",
    }
)  # fmt: skip
_MEDIA_TYPE = re.compile(r"[a-z]+/[a-z0-9][a-z0-9.+-]*")


def inline_type(content_type: Any) -> str | None:
    """The type a stored media file is shown as, or None: a download.

    Only a content type that is exactly one type of :data:`INLINE_MEDIA`
    (parameters after ``;`` allowed, no second type, nothing else) is
    shown; ``image/png, text/html`` is not.
    """
    if not isinstance(content_type, str) or len(content_type) > 200 or "," in content_type:
        return None
    kind = content_type.split(";", 1)[0].strip().lower()
    if not _MEDIA_TYPE.fullmatch(kind) or kind not in INLINE_MEDIA:
        return None
    return kind


def _read_media(path: str, sha256: str) -> tuple[str | None, bytes] | None:
    conn = connect_readonly(path)
    try:
        return media_file(conn, sha256)
    finally:
        conn.close()


async def media_route(datasette: Any, request: Any) -> Response:
    sha256 = request.url_vars["sha256"]
    for db in await archive_databases(datasette):
        if not db.path:
            continue
        try:
            found = await asyncio.get_running_loop().run_in_executor(
                None, _read_media, db.path, sha256
            )
        except Exception as exc:  # a file the archive cannot give back: not found here
            logger.warning("media %s: %s: %s", sha256, exc.__class__.__name__, exc)
            continue
        if found is None:
            continue
        content_type, body = found
        headers = {
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "public, max-age=31536000, immutable",
        }
        kind = inline_type(content_type)
        if kind is None:
            kind = "application/octet-stream"
            headers["Content-Disposition"] = f'attachment; filename="{sha256}"'
        return Response(bytes(body), status=200, headers=headers, content_type=kind)
    return await not_found(datasette, request, f"There is no media file {sha256} here.")


@hookimpl
def asgi_wrapper(datasette: Any) -> Callable[[Any], Any]:
    """Datasette's own CSV downloads, their cells neutralised for spreadsheets."""
    return neutralise_csv


@hookimpl
def register_routes(datasette: Any) -> list[tuple[str, Any]]:
    return [
        (r"^/-/media/(?P<sha256>[0-9a-f]{64})$", media_route),
        (r"^/-/channel/(?P<name>[^/]+)$", channel_page),
        (r"^/-/post/(?P<name>[^/]+)/(?P<post_id>.+)$", post_page),
    ]


@hookimpl
def extra_template_vars(template: str, view_name: str, datasette: Any, request: Any) -> Any:
    """The home page's channels and latest changes (``templates/index.html`` shows them)."""
    if view_name != "index":
        return {}

    async def home() -> dict[str, Any]:
        archives = []
        for db in await archive_databases(datasette):
            try:
                data = await _read(db, pages.home_data)
            except Exception as exc:  # one bad row must not take the home page down
                logger.warning("home page, %s: %s: %s", db.name, exc.__class__.__name__, exc)
                data = {"channels": [], "changes": [], "not_shown": NOT_SHOWN}
            archives.append({"name": db.name, **data})
        return {"chanarchive": archives, "chanarchive_css": _css_url(datasette)}

    return home
