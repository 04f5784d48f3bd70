"""Change lists on the pages: kinds chosen, pages of older events, a first crawl in one line, Atom.

The home page, a channel page and ``/-/changes`` list the archive's change
events (:mod:`archive.query.changelist`): the newest first, each channel's
first crawl summed up in one item ("45 posts archived on 2026-12-07"),
``?kinds=edited,deleted`` keeping some kinds only, and a "more" link to
``/-/changes?…&before=CURSOR``, the next page. Each list offers its Atom
feed (``/-/changes.atom`` with the same channel and kinds: every event, no
summary, the newest :data:`FEED_ENTRIES`), written by
:func:`archive.export.atom.write_change_feed`.

Texts are read through :mod:`.values` (each cut to :data:`CHANGE_TEXT`
characters before its diff), as everything a page shows.
"""

from __future__ import annotations

import io
import sqlite3
from typing import Any
from urllib.parse import urlencode

from ...errors import BadInput
from ...export.atom import write_change_feed
from ...query.changelist import (
    ChangeList,
    Cursor,
    FirstCrawl,
    Item,
    list_changes,
    parse_cursor,
)
from ...query.changes import EDITED, KINDS, Change, ChangeScope, change_from_row
from . import values
from .paths import channel_path, post_path

#: How many items the home page, a channel page and ``/-/changes`` list.
HOME_CHANGES = 15
CHANNEL_CHANGES = 30
PAGE_CHANGES = 50
#: Entries of a served change feed (the newest).
FEED_ENTRIES = 100
#: Characters of each text an edit's excerpt is drawn from (the excerpt shows a few dozen).
CHANGE_TEXT = 20_000

#: Posts each first crawl archived, per archive (a finished crawl's count never changes).
_COUNTS: dict[str, dict[tuple[int, str], int]] = {}


def _change_text(value: Any) -> str:
    return values.shown(value, CHANGE_TEXT).text


def bounded_row(row: tuple[Any, ...]) -> Change:
    """A change event from a row of ``change_query``, each value read through :mod:`.values`."""
    kind, at, channel, post_id, url, version, text, title, prev_text, prev_title = row
    return change_from_row(
        (
            values.text(kind, 20),
            at if isinstance(at, str) else None,
            values.exact(channel),
            values.exact(post_id),
            url if isinstance(url, str) else None,
            values.count(version),
            _change_text(text),
            values.optional(title, 500),
            _change_text(prev_text),
            values.optional(prev_title, 500),
        )
    )


def item_view(item: Item) -> dict[str, Any]:
    """What a template (and a page's JSON) needs of one item of a list."""
    if isinstance(item, FirstCrawl):
        name = values.text(item.channel, 300)
        return {
            "kind": item.kind,
            "at": values.iso(item.at),
            "channel": values.exact(item.channel),
            "name": name,
            "href": channel_path(values.exact(item.channel)),
            "posts": values.number(item.posts),
            "day": values.day(item.at).isoformat() if values.day(item.at) else None,
            "crawl_id": values.count(item.crawl_id),
        }
    return {
        "kind": item.kind,
        "at": values.iso(item.at),
        "channel": item.channel,
        "post_id": item.post_id,
        "name": values.text(item.name, 300),
        "href": post_path(item.channel, item.post_id),
        "url": values.optional(item.url, 2000),
        "version": item.version,
        "segments": [
            {"kind": kind, "text": values.text(text, 400)} for kind, text in item.excerpt(24)
        ]
        if item.kind == EDITED
        else [],
        "text": values.text(item.title or item.text, 140),
    }


def read_kinds(text: str | None) -> tuple[str, ...]:
    """The kinds a page's ``?kinds=`` names (unknown ones left out); all when none is known."""
    asked = {k.strip().lower() for k in (text or "").split(",")}
    return tuple(k for k in KINDS if k in asked) or KINDS


def read_cursor(text: str | None) -> Cursor | None:
    """A page's ``?before=``: where its list starts (None, the newest, when it is not one)."""
    if not text or len(text) > 100:
        return None
    try:
        return parse_cursor(text)
    except BadInput:
        return None


def _query(
    channel: str | None,
    kinds: tuple[str, ...],
    before: Cursor | None = None,
    db: str | None = None,
) -> str:
    params = {}
    if db is not None:
        params["db"] = db
    if channel is not None:
        params["channel"] = channel
    if kinds != KINDS:
        params["kinds"] = ",".join(kinds)
    if before is not None:
        params["before"] = str(before)
    return ("?" + urlencode(params)) if params else ""


def changes_path(
    channel: str | None,
    kinds: tuple[str, ...],
    before: Cursor | None = None,
    db: str | None = None,
) -> str:
    """``/-/changes`` for a channel (or all), some kinds, from a cursor on (in archive ``db``,
    when more than one is served)."""
    return "/-/changes" + _query(channel, kinds, before, db)


def feed_path(channel: str | None, kinds: tuple[str, ...], db: str | None = None) -> str:
    """The Atom feed of the same events: ``/-/changes.atom?channel=…&kinds=…``."""
    return "/-/changes.atom" + _query(channel, kinds, None, db)


def change_list(
    conn: sqlite3.Connection,
    database: str,
    *,
    channel: str | None = None,
    kinds: tuple[str, ...] = KINDS,
    before: Cursor | None = None,
    limit: int,
    here: str,
    many: bool = False,
) -> dict[str, Any]:
    """A list for a page: its items, the kinds to choose from, the next page, the feed.

    ``here``: the page's own path, which the kind links lead back to;
    ``many``: Datasette serves more than one archive (links name this one).
    """
    db = database if many else None
    scope = ChangeScope(channels=(channel,) if channel else (), kinds=kinds)
    found: ChangeList = list_changes(
        conn,
        scope,
        limit=limit,
        before=before,
        row=bounded_row,
        counts=_COUNTS.setdefault(database, {}),
    )
    if len(_COUNTS[database]) > 10_000:
        _COUNTS[database].clear()
    here_channel = channel if here.startswith("/-/changes") else None
    choices = [
        {
            "kind": kind,
            "href": here + _query(here_channel, (kind,) if kind != "all" else KINDS, None, db),
            "chosen": (kinds == KINDS) if kind == "all" else kinds == (kind,),
        }
        for kind in ("all", *KINDS)
    ]
    return {
        "items": [item_view(item) for item in found.items],
        "kinds": list(kinds),
        "choices": choices,
        "more": changes_path(channel, kinds, found.more, db) if found.more else None,
        "cursor": str(found.more) if found.more else None,
        "feed": feed_path(channel, kinds, db),
        "all": changes_path(channel, kinds, None, db),
    }


def change_feed(
    conn: sqlite3.Connection, *, channel: str | None, kinds: tuple[str, ...], title: str
) -> str:
    """The Atom feed of a list's events: every event (no summary), the newest ones."""
    scope = ChangeScope(channels=(channel,) if channel else (), kinds=kinds)
    found = list_changes(conn, scope, limit=FEED_ENTRIES, summarise=False, row=bounded_row)
    out = io.StringIO()
    changes = [item for item in found.items if isinstance(item, Change)]
    write_change_feed(conn, out, scope, title=title, changes=changes)
    return out.getvalue()
