"""Reading the archive: untrusted SQL made safe, full-text search, a post's history and diffs.

Holds: the rules that keep SQL read-only (:mod:`.guard`: the statement
check and the SQLite authorizer), running a query with its time limit and
caps (:mod:`.sql`), search over the current clean text (:mod:`.search`),
every version of one post with diffs between them and its counts over
time (:mod:`.history`), the archive's change events — posts new, edited,
deleted, undeleted — that every "what changed" view reads
(:mod:`.changes`), the same events as people read them, a page at a time,
a channel's first crawl in one line (:mod:`.changelist`), each channel
at a glance (:mod:`.channels`), coverage gaps (:mod:`.gaps`) and the
channels the posts point to (:mod:`.discover`).

Everything here reads through :func:`archive.store.connect_readonly` and
writes nothing.

May import: :mod:`archive.models`, :mod:`archive.errors`,
:mod:`archive.times`, :mod:`archive.source`, :mod:`archive.store` (its
read-only connection, the search index's terms).
"""

from .guard import Authorizer, QueryRefused, check_statement, limit_connection
from .sql import (
    DEFAULT_MAX_ROWS,
    DEFAULT_TIME_LIMIT_MS,
    BadQuery,
    QueryResult,
    QueryTimeout,
    run_query,
)

__all__ = [
    "DEFAULT_MAX_ROWS",
    "DEFAULT_TIME_LIMIT_MS",
    "Authorizer",
    "BadQuery",
    "QueryRefused",
    "QueryResult",
    "QueryTimeout",
    "check_statement",
    "limit_connection",
    "run_query",
]
