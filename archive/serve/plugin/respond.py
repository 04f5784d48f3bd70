"""How every page of the plugin answers: its archives, its SQL, its HTML or JSON, its failures.

- :func:`archive_databases`: the databases Datasette serves that are
  chanarchive archives (a page looks in each, in Datasette's order; a
  ``?db=NAME`` in the request picks one of them);
- :func:`read`: the pages' own SQL, on Datasette's read-only connection,
  trusted to read any stored value (:func:`.limits.trusted`);
- :func:`render` and :func:`as_json`: a page as HTML through its template,
  or its data as JSON (every page has both: the ``.json`` of its URL);
- :func:`not_found` and :func:`drawn`: the plain 404 page, and a page that
  one bad row could not draw, answered with a note instead of a traceback.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Awaitable, Callable
from typing import Any

from datasette import Response

from .limits import trusted

logger = logging.getLogger("archive.serve.plugin")

#: Tables that make a Datasette database a chanarchive archive.
ARCHIVE_TABLES = {"channels", "posts", "post_versions", "post_deletions"}

#: What a page says in place of a part it could not draw.
NOT_SHOWN = (
    "This page could not be drawn from what the archive holds here: a value in it is"
    " not what it should be. The tables hold every row as it was stored."
)


async def archive_databases(datasette: Any, request: Any = None) -> list[Any]:
    """The databases Datasette serves that are chanarchive archives, in its order.

    With a request that names one (``?db=NAME``), only that one (or none).
    """
    wanted = request.args.get("db") if request is not None else None
    found = []
    for name, db in datasette.databases.items():
        if name == "_internal" or db.is_memory or (wanted and name != wanted):
            continue
        if ARCHIVE_TABLES <= set(await db.table_names()):
            found.append(db)
    return found


async def read(db: Any, reader: Callable[[sqlite3.Connection], Any]) -> Any:
    """``reader(conn)`` on Datasette's connection to ``db``, as the pages' own (trusted) SQL."""

    def run(conn: sqlite3.Connection) -> Any:
        with trusted(conn):
            return reader(conn)

    return await db.execute_fn(run)


def css_url(datasette: Any) -> str:
    """Where Datasette serves this plugin's stylesheet (under the name it registered us by)."""
    from datasette.plugins import get_plugins

    here = "archive.serve.plugin"
    for plugin in get_plugins():
        if plugin.get("templates_path") and plugin["templates_path"].replace("\\", "/").endswith(
            here.replace(".", "/") + "/templates"
        ):
            return datasette.urls.static_plugins(plugin["name"], "chanarchive.css")
    return datasette.urls.static_plugins(here, "chanarchive.css")


async def render(
    datasette: Any,
    request: Any,
    template: str,
    context: dict[str, Any],
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    """The page: ``template`` with ``context`` (and the plugin's stylesheet)."""
    context = {**context, "chanarchive_css": css_url(datasette)}
    body = await datasette.render_template(template, context, request=request)
    return Response.html(body, status=status, headers=headers)


def as_json(data: Any, status: int = 200) -> Response:
    """A page's data as JSON (UTF-8, characters as they are)."""
    return Response(
        json.dumps(data, ensure_ascii=False, indent=2, default=str),
        status=status,
        content_type="application/json; charset=utf-8",
        headers={"X-Content-Type-Options": "nosniff"},
    )


async def not_found(
    datasette: Any, request: Any, message: str, back: dict | None = None, *, json: bool = False
) -> Response:
    """The plain "not found" page (or its JSON), with HTTP status 404."""
    if json:
        return as_json({"ok": False, "error": message}, status=404)
    context = {"message": message, "back": back}
    return await render(datasette, request, "chanarchive_not_found.html", context, status=404)


async def drawn(
    datasette: Any, request: Any, what: str, draw: Callable[[], Awaitable[Response]]
) -> Response:
    """``draw()``; when a value of the archive still breaks it, a plain page that says so."""
    try:
        return await draw()
    except Exception as exc:  # one bad row must not take the page down with a traceback
        logger.warning("%s %s: %s: %s", what, request.path, exc.__class__.__name__, exc)
        if request.path.endswith(".json"):
            return as_json({"ok": False, "error": NOT_SHOWN})
        context = {"message": NOT_SHOWN, "back": None, "title": "Cannot be shown"}
        return await render(datasette, request, "chanarchive_not_found.html", context)
