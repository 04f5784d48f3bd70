"""chanarchive's Datasette plugin: the archive's own pages, and the read-only guard.

Holds: the hooks Datasette calls (here), what each page shows
(:mod:`.pages`), the SVG charts (:mod:`.charts`), and the pages'
``templates/`` and ``static/`` files.

May import: :mod:`archive.query` (the SQL guard, channels, changes, a
post's history), :mod:`archive.store` (its read-only connection, media
files), :mod:`archive.times`, and Datasette. Writes nothing.

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
  read); served as its content type only when that is a picture, video or
  audio, as a download otherwise, and never run by the browser;
- an unknown channel or post gets a plain "not found" page (HTTP 404).

Every connection Datasette opens to an archive gets the SQL guard of
:mod:`archive.query.guard` (:func:`prepare_connection`). The plugin must
stay a package: Datasette finds its ``templates/`` and ``static/`` through
the package's name.
"""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

from datasette import Response, hookimpl

from ...query.guard import Authorizer, budget_rows, limit_connection
from ...store import connect_readonly, media_file
from . import pages

#: Tables that mark a SQLite file as a chanarchive archive (guarded, and given these pages).
MARKER_TABLE = "_chanarchive_migrations"

#: The largest value a query in the browser may build or read: a post's text, its
#: HTML and a compressed page are far below it.
SERVE_MAX_VALUE_BYTES = 1024 * 1024

#: The most a query's rows may weigh in the browser (JSON may spell a byte in six).
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
        budget_rows(conn, SERVE_MAX_RESULT_BYTES)
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


async def channel_page(datasette: Any, request: Any) -> Response:
    name = request.url_vars["name"]
    for db in await archive_databases(datasette):
        data = await db.execute_fn(lambda conn, db=db: pages.channel_data(conn, name))
        if data is not None:
            return await _render(
                datasette, request, "chanarchive_channel.html", {**data, "database": db.name}
            )
    return await not_found(datasette, request, f"There is no channel called “{name}” here.")


async def post_page(datasette: Any, request: Any) -> Response:
    name = request.url_vars["name"]
    post_id = request.url_vars["post_id"]
    known_channel = False
    for db in await archive_databases(datasette):
        data = await db.execute_fn(lambda conn: pages.post_data(conn, name, post_id))
        if data is not None:
            return await _render(
                datasette, request, "chanarchive_post.html", {**data, "database": db.name}
            )
        exists = await db.execute_fn(lambda conn: pages.channel_summary(conn, name))
        known_channel = known_channel or exists is not None
    back = {"href": pages.channel_path(name), "text": f"the channel {name}"}
    if known_channel:
        return await not_found(
            datasette, request, f"The channel {name} has no post {post_id} in this archive.", back
        )
    return await not_found(datasette, request, f"There is no channel called “{name}” here.")


#: Content types a media file is served as; anything else (HTML, SVG, ...) is a download.
INLINE_MEDIA = (
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "image/avif",
    "video/",
    "audio/",
)


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
        found = await asyncio.get_running_loop().run_in_executor(None, _read_media, db.path, sha256)
        if found is None:
            continue
        content_type, body = found
        kind = (content_type or "").split(";")[0].strip().lower()
        headers = {
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "public, max-age=31536000, immutable",
        }
        if not kind.startswith(INLINE_MEDIA):
            kind = "application/octet-stream"
            headers["Content-Disposition"] = f'attachment; filename="{sha256}"'
        return Response(body, status=200, headers=headers, content_type=kind)
    return await not_found(datasette, request, f"There is no media file {sha256} here.")


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
            data = await db.execute_fn(pages.home_data)
            archives.append({"name": db.name, **data})
        return {"chanarchive": archives, "chanarchive_css": _css_url(datasette)}

    return home
