"""Search in the browser: ``/-/search`` ranked, and Datasette's search box on ``posts`` that finds
what ``chanarchive search`` finds.

``/-/search?q=…[&channel=…]`` is :func:`archive.query.search.search_posts`,
the search of the command line: every term must occur, best first, a
snippet around the first match with every match marked.

Datasette's own search of a table is one FTS ``MATCH`` against the table's
index, the words escaped by Datasette. ``posts_fts`` (trigram) holds runs
of three or more characters, so a word of one or two Chinese characters
(地铁, a very common kind of word) can never match there, and no tokenizer
SQLite ships can hold both: trigram needs three characters, ``unicode61``
takes a whole run of Chinese as one word. So for ``?_search=`` on an
archive's ``posts``, the plugin puts the condition of
:func:`archive.query.search.match_condition` — the index and query that
``chanarchive search`` would use — in place of Datasette's own search
filter (:func:`take_over_search`). The index stays as it is, found by
Datasette and sqlite-utils the usual way (an FTS5 table with
``content=[posts]``): a Datasette without chanarchive's plugin still
searches it (three or more characters). ``_searchmode=raw`` (FTS syntax
typed by hand) and ``_search_COLUMN`` stay Datasette's.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

from ...errors import BadInput
from ...query.search import match_condition, search_posts
from . import values
from .paths import channel_path, post_path, safe_href

#: Results a search page shows by default, and at most (``?limit=``).
DEFAULT_RESULTS = 20
MAX_RESULTS = 100
#: The longest query a page takes, in characters.
MAX_QUERY = 500
#: Marks around a match inside a snippet (private-use characters no post's text is made of).
_START, _END = "\ue000", "\ue001"


def snippet_parts(snippet: str) -> list[dict[str, Any]]:
    """A snippet as runs of text, each a match or not (the template marks the matches)."""
    parts = []
    rest = snippet
    while rest:
        start = rest.find(_START)
        if start < 0:
            parts.append({"text": rest, "match": False})
            break
        if start:
            parts.append({"text": rest[:start], "match": False})
        end = rest.find(_END, start)
        end = len(rest) if end < 0 else end
        parts.append({"text": rest[start + 1 : end], "match": True})
        rest = rest[end + 1 :]
    return [
        {"text": values.shown(p["text"], 300).text, "match": p["match"]} for p in parts if p["text"]
    ]


def search_data(
    conn: sqlite3.Connection, q: str, *, channel: str | None = None, limit: int = DEFAULT_RESULTS
) -> dict[str, Any]:
    """What ``/-/search`` shows of one archive: the posts found, best first."""
    hits = search_posts(conn, q, channel=channel, limit=limit, marks=(_START, _END), width=160)
    found = []
    for hit in hits:
        name = values.exact(hit.channel)
        post_id = values.exact(hit.post_id)
        found.append(
            {
                "channel": name,
                "post_id": post_id,
                "name": values.text(f"{name}/{post_id}", 300),
                "href": post_path(name, post_id),
                "channel_href": channel_path(name),
                "url": values.optional(hit.url, 2000),
                "live_href": safe_href(hit.url),
                "title": values.optional(hit.title, 300),
                "published_at": values.iso(hit.published_at),
                "deleted_at": values.iso(hit.deleted_at),
                "snippet": snippet_parts(hit.snippet),
                "score": round(hit.score, 4),
            }
        )
    return {"hits": found}


def read_query(args: Any) -> tuple[str, str | None, int]:
    """A search page's query, channel and limit from its request (bounded)."""
    q = (args.get("q") or "").strip()[:MAX_QUERY]
    channel = (args.get("channel") or "").strip()[:300] or None
    try:
        limit = int(args.get("limit") or DEFAULT_RESULTS)
    except ValueError:
        limit = DEFAULT_RESULTS
    return q, channel, max(1, min(limit, MAX_RESULTS))


# ------------------------------------------------------------------ Datasette's search box


def is_datasette_search(result: Any) -> bool:
    """Whether a result of the ``filters_from_request`` hook is Datasette's own search filter."""
    return getattr(result, "__module__", None) == "datasette.filters" and getattr(
        result, "__qualname__", ""
    ).startswith("search_filters.")


def wants_our_search(request: Any, table: str, raw_by_default: bool) -> bool:
    """``?_search=`` on ``posts``, not in raw FTS mode: the search the plugin answers."""
    if table != "posts" or "_search" not in request.args:
        return False
    mode = request.args.get("_searchmode")
    return mode != "raw" and (mode == "escaped" or not raw_by_default)


def take_over_search(
    datasette: Any,
    request: Any,
    database: str,
    original: Any,
    is_archive: Callable[[Any], Any],
) -> Callable[[], Any]:
    """A filter to stand in for Datasette's search filter on ``posts``.

    On an archive it gives :func:`~archive.query.search.match_condition`'s
    condition (the posts ``chanarchive search`` finds); on any other
    database, Datasette's own filter, as it was.
    """
    from datasette.filters import FilterArguments
    from datasette.utils import await_me_maybe

    async def inner() -> Any:
        db = datasette.get_database(database)
        if not await is_archive(db):
            return await await_me_maybe(original)
        text = request.args.get("_search") or ""
        context = {"supports_search": True, "search": text}
        try:
            condition, params = await db.execute_fn(
                lambda conn: match_condition(conn, text, name="chanarchive_search")
            )
        except BadInput:  # nothing to search for: every row, as Datasette does
            return FilterArguments([], extra_context=context)
        return FilterArguments(
            [condition], params, [f'search matches "{text}"'], extra_context=context
        )

    return inner
