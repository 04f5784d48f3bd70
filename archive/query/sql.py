"""Read-only SQL over the archive, safe for untrusted queries.

The layers, as Datasette has them and one more:

1. the connection is opened read-only (``mode=ro``), so SQLite itself
   refuses to write the archive (:func:`connect_readonly`);
2. the statement must be one ``SELECT``, ``WITH … SELECT`` or ``EXPLAIN``
   (:func:`archive.query.guard.check_statement`);
3. an SQLite authorizer denies writes, ``ATTACH`` (a read-only connection
   still lets ``ATTACH`` create a file), ``PRAGMA`` statements and
   extension loading, and run-time limits forbid attached databases
   (:class:`archive.query.guard.Authorizer`);
4. a progress handler interrupts a query that runs past its time limit;
5. the rows are capped, and the result says when it was truncated.

Every refusal is a :class:`~archive.query.guard.QueryRefused` (a
:class:`~archive.errors.BadInput`) whose message says why.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import BadInput
from .guard import Authorizer, QueryRefused, check_statement, limit_connection, value_size

DEFAULT_TIME_LIMIT_MS = 1000
DEFAULT_MAX_ROWS = 1000
#: A result never holds more than this many bytes of values: it is cut and says so.
MAX_RESULT_BYTES = 64 * 1024 * 1024

#: How many SQLite VM instructions run between two looks at the clock.
_PROGRESS_STEPS = 1000


class QueryTimeout(QueryRefused):
    """The query ran longer than its time limit and was interrupted."""


class BadQuery(BadInput):
    """SQLite could not run the SQL (a syntax error, an unknown table, a missing parameter)."""


@dataclass
class QueryResult:
    """The rows of a query, at most ``max_rows`` of them."""

    columns: list[str]
    rows: list[tuple[Any, ...]]
    truncated: bool  # more rows matched than max_rows (or than MAX_RESULT_BYTES hold)
    max_rows: int
    too_large: bool = False  # cut at MAX_RESULT_BYTES rather than at max_rows


def _clean_params(params: Mapping[str, Any] | None) -> dict[str, Any]:
    cleaned = {}
    for name, value in (params or {}).items():
        key = name.lstrip(":@$")
        if not key:
            raise BadQuery(f"bad parameter name {name!r}")
        cleaned[key] = value
    return cleaned


def run_query(
    conn: sqlite3.Connection,
    sql: str,
    params: Mapping[str, Any] | None = None,
    *,
    time_limit_ms: int = DEFAULT_TIME_LIMIT_MS,
    max_rows: int = DEFAULT_MAX_ROWS,
) -> QueryResult:
    """Run one untrusted read-only query on ``conn`` (from :func:`connect_readonly`).

    ``params`` fill ``:name`` placeholders. Raises :class:`QueryRefused`
    (or :class:`QueryTimeout`) when the query is not allowed or runs too
    long, :class:`BadQuery` when SQLite rejects it.
    """
    if time_limit_ms < 1 or max_rows < 1:
        raise BadInput("the time limit and the row cap must be at least 1")
    statement = check_statement(sql)
    bound = _clean_params(params)
    guard = Authorizer(pragma_statements=False)
    refusals = limit_connection(conn)
    deadline = time.monotonic() + time_limit_ms / 1000
    timed_out = False

    def over_time() -> int:
        nonlocal timed_out
        if time.monotonic() > deadline:
            timed_out = True
            return 1
        return 0

    conn.set_authorizer(guard)
    conn.set_progress_handler(over_time, _PROGRESS_STEPS)
    try:
        cursor = conn.execute(statement.sql, bound)
        columns = [d[0] for d in cursor.description or []]
        rows, too_large = _fetch(cursor, max_rows + 1, MAX_RESULT_BYTES)
        cursor.close()
        if refusals:
            raise QueryRefused(refusals[-1])
    except (sqlite3.DatabaseError, sqlite3.Warning) as exc:
        if guard.denied:
            raise QueryRefused(guard.denied) from exc
        if timed_out:
            raise QueryTimeout(
                f"the query ran longer than its time limit of {time_limit_ms} ms and was stopped"
            ) from exc
        if isinstance(exc, sqlite3.OperationalError) and "readonly" in str(exc):
            raise QueryRefused(f"writes are not allowed ({exc})") from exc
        raise BadQuery(f"bad SQL: {exc}") from exc
    finally:
        conn.set_progress_handler(None, 0)
        conn.set_authorizer(None)
    truncated = len(rows) > max_rows or too_large
    return QueryResult(
        columns=columns,
        rows=rows[:max_rows],
        truncated=truncated,
        max_rows=max_rows,
        too_large=too_large,
    )


def _fetch(
    cursor: sqlite3.Cursor, max_rows: int, max_bytes: int
) -> tuple[list[tuple[Any, ...]], bool]:
    """At most ``max_rows`` rows, stopping before their values pass ``max_bytes``."""
    rows: list[tuple[Any, ...]] = []
    size = 0
    for row in cursor:
        size += sum(value_size(value) for value in row)
        if size > max_bytes and rows:
            return rows, True
        rows.append(row)
        if len(rows) >= max_rows:
            break
    return rows, False
