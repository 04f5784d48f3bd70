"""Datasette's tables link to chanarchive's pages: a post's cells to its page, a channel's name
to the channel's, a capture's id to the capture.

Datasette's ``render_cell`` hook asks about every cell of every table it
shows; only the cells of :data:`LINKED` are answered (the rest at once,
without touching the database), and only in an archive:

- ``posts.post_id`` and ``posts.url`` (and ``post_id`` in the views
  ``current_posts`` and ``post_history``) → ``/-/post/NAME/ID``;
- ``channels.name`` → ``/-/channel/NAME``;
- ``snapshots.id`` (on a row's page: the table's own first column links to
  the row), ``snapshots.url``, and the ``snapshot`` of ``post_versions``
  and ``deletion_checks`` → ``/-/capture/ID``.

A cell shows its value as text (through :mod:`.values`), the link made by
:mod:`.paths`.
"""

from __future__ import annotations

import weakref
from typing import Any

from markupsafe import Markup

from . import values
from .paths import capture_path, channel_path, post_path
from .respond import ARCHIVE_TABLES

#: (table, column) of the cells that link to chanarchive's pages.
LINKED = frozenset(
    {
        ("posts", "post_id"),
        ("posts", "url"),
        ("current_posts", "post_id"),
        ("post_history", "post_id"),
        ("channels", "name"),
        ("snapshots", "id"),
        ("snapshots", "url"),
        ("post_versions", "snapshot"),
        ("deletion_checks", "snapshot"),
    }
)

#: Per Datasette: which databases are archives ({name: bool}) and each archive's channel names.
_ARCHIVES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_CHANNELS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


async def _archives(datasette: Any) -> dict[str, bool]:
    known = _ARCHIVES.get(datasette)
    if known is None or set(known) != set(datasette.databases):
        known = {}
        for name, db in datasette.databases.items():
            known[name] = (
                name != "_internal"
                and not db.is_memory
                and ARCHIVE_TABLES <= set(await db.table_names())
            )
        _ARCHIVES[datasette] = known
    return known


async def _channel_name(datasette: Any, database: str, channel_id: Any) -> str | None:
    names = _CHANNELS.setdefault(datasette, {}).setdefault(database, {})
    if channel_id not in names:
        db = datasette.get_database(database)
        rows = await db.execute("SELECT id, name FROM channels")
        names.clear()
        names.update({row[0]: values.exact(row[1]) for row in rows})
    return names.get(channel_id)


def _field(row: Any, name: str) -> Any:
    """A value of the row (a foreign key Datasette expanded: its value), or None."""
    try:
        value = row[name]
    except (IndexError, KeyError, TypeError):
        return None
    if isinstance(value, dict):
        value = value.get("value")
    return value if isinstance(value, int | str) else None


def _link(datasette: Any, href: str, value: Any) -> Markup:
    return Markup('<a href="{}">{}</a>').format(datasette.urls.path(href), values.text(value, 300))


def cell_link(row: Any, value: Any, column: str, table: str, database: str, datasette: Any) -> Any:
    """The cell as a link to chanarchive's page of what it names (an awaitable), or None."""
    if (table, column) not in LINKED or value is None:
        return None
    if isinstance(value, dict):  # a foreign key Datasette expanded: its value
        value = value.get("value")

    async def inner() -> Markup | None:
        archives = await _archives(datasette)
        if not archives.get(database):
            return None
        many = sum(archives.values()) > 1
        if table == "channels":
            return _link(datasette, channel_path(values.exact(value)), value)
        if table in ("snapshots", "post_versions", "deletion_checks"):
            snapshot = values.count(_field(row, "id") if column == "url" else value)
            if snapshot is None:
                return None
            return _link(datasette, capture_path(snapshot, database if many else None), value)
        if table == "posts":
            channel = await _channel_name(datasette, database, _field(row, "channel_id"))
            post_id = _field(row, "post_id")
        else:
            channel, post_id = _field(row, "channel"), _field(row, "post_id")
        if channel is None or post_id is None:
            return None
        return _link(datasette, post_path(values.exact(channel), values.exact(post_id)), value)

    return inner()
