"""How large a value a statement in the browser may read or build, decided per statement.

An archive may hold a value of any size — a post of ten megabytes, a
crawl error as long — and every page that lists it must still answer. SQL
typed into Datasette, though, must not build giant values: one
``randomblob()`` or a doubling recursive query would take the server's
memory. SQLite has one limit for both (``SQLITE_LIMIT_LENGTH``), so it is
set again before each statement runs (a trace callback, called as the
statement starts, before it reads or builds anything):

- a *plain* statement — one that only reads, compares and picks stored
  values (:func:`is_plain`: no ``||``, no recursive query, no function but
  those of :data:`PLAIN_FUNCTIONS`, which never make a value larger than
  what they were given) — may read values as large as SQLite allows: it
  cannot build one larger than the archive already holds. Datasette's own
  table, row, facet and search queries are plain;
- any other statement may read or build values of :data:`BUILD_LIMIT` at
  most, as before;
- the chanarchive pages' own SQL (:func:`trusted`) reads what it needs.

A nested statement (SQLite runs some for a full-text search; their text
starts with ``--``) may lower the limit but never raise it.

Rows are bounded too (:func:`shorten_rows`): past :data:`RESULT_BUDGET`
of a result, a statement that builds values is stopped (as ``query``
stops it), while a reading one gets the long values of its later rows
shortened with a note saying so, instead of the page failing; a result's
first row is always whole, so a row's own page shows every value in full.
"""

from __future__ import annotations

import contextlib
import functools
import re
import sqlite3
import threading
import weakref
from collections.abc import Iterator

from ...query.guard import ResultTooLarge

#: The largest value a statement that is not plain may build or read (printf's widths too).
BUILD_LIMIT = 1024 * 1024
#: Past this much of a result (JSON may spell a byte in six), long values are shortened.
RESULT_BUDGET = 32 * 1024 * 1024
#: What a shortened value keeps of its start (characters or bytes).
SHORTENED_TO = 2000

#: Functions that never return a value larger than their arguments (or a small one):
#: aggregates that pick or count, comparisons, parts of a value, dates, JSON reads.
PLAIN_FUNCTIONS = frozenset(
    {
        "abs", "avg", "coalesce", "count", "cume_dist", "date", "datetime", "dense_rank",
        "first_value", "glob", "ifnull", "iif", "instr", "json_array_length", "json_each",
        "json_tree", "json_type", "json_valid", "julianday", "lag",
        "last_value", "lead", "length", "like", "likelihood", "likely", "lower", "ltrim",
        "max", "min", "nth_value", "ntile", "nullif", "percent_rank", "rank", "round",
        "row_number", "rtrim", "sign", "substr", "substring", "sum", "time", "total",
        "trim", "typeof", "unicode", "unixepoch", "unlikely", "upper", "bm25",
    }
)  # fmt: skip

#: SQLite's keywords, which may stand before a parenthesis without calling anything
#: (``IN (``, ``VALUES (``, ``OVER (``, ``CAST (``); REPLACE is also a function, so not here.
_KEYWORDS = frozenset(
    """abort action add after all alter always analyze and as asc attach autoincrement
    before begin between by cascade case cast check collate column commit conflict
    constraint create cross current current_date current_time current_timestamp database
    default deferrable deferred delete desc detach distinct do drop each else end escape
    except exclude exclusive exists explain fail filter first following for foreign from
    full generated group groups having if ignore immediate in index indexed initially inner
    insert instead intersect into is isnull join key last left limit match materialized
    natural no not nothing notnull null nulls of offset on or order others outer over
    partition plan pragma preceding primary query raise range recursive references regexp
    reindex release rename restrict returning right rollback row rows savepoint select set
    table temp temporary then ties to transaction trigger unbounded union unique update
    using vacuum values view virtual when where window with without""".split()
)

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
    | (?P<comment>--[^\n]*|/\*.*?(?:\*/|\Z))
    | (?P<string>'(?:[^']|'')*'?|[xX]'[^']*'?)
    | (?P<name>"(?:[^"]|"")*"?|`(?:[^`]|``)*`?|\[[^\]]*\]?|[^\W\d][\w$]*)
    | (?P<param>[:@$][\w$]+|\?\d*)
    | (?P<number>\d[\w.]*|\.\d[\w]*)
    | (?P<op>\|\||->>|->|<<|>>|<=|>=|==|!=|<>|.)
    """,
    re.VERBOSE | re.DOTALL,
)


def _tokens(sql: str) -> list[tuple[str, str]]:
    """The SQL's tokens as (kind, text), comments and white space left out."""
    out = []
    for match in _TOKEN.finditer(sql):
        kind = match.lastgroup or "op"
        if kind in ("space", "comment"):
            continue
        text = match.group()
        if kind == "name" and text[:1] in '"`[':
            text = text[1:-1] if len(text) > 1 else ""
        out.append((kind, text.lower() if kind == "name" else text))
    return out


def is_plain(sql: str) -> bool:
    """Whether ``sql`` can only read and pick stored values, never build a larger one."""
    return _plain(sql) if len(sql) <= 10_000 else _plain.__wrapped__(sql)


@functools.lru_cache(maxsize=1024)
def _plain(sql: str) -> bool:
    tokens = _tokens(sql)
    for i, (kind, text) in enumerate(tokens):
        if kind == "op" and text == "||":
            return False
        if kind != "name":
            continue
        if text == "recursive":
            return False
        if i + 1 >= len(tokens) or tokens[i + 1] != ("op", "("):
            continue
        if text in _KEYWORDS or text in PLAIN_FUNCTIONS or text.startswith("pragma_"):
            continue
        # Datasette's search quotes the words searched for: one parameter, a short value.
        argument = tokens[i + 2 : i + 4]
        if (
            text == "escape_fts"
            and len(argument) == 2
            and argument[0][0] in ("param", "string")
            and argument[1] == ("op", ")")
        ):
            continue
        return False
    return True


class StatementLimits:
    """The length limit of one connection, set again as each statement starts."""

    def __init__(self, conn: sqlite3.Connection, *, build_limit: int = BUILD_LIMIT) -> None:
        self.conn = conn  # a cycle through the trace callback, which the collector breaks
        self.build_limit = build_limit
        # SQLite clamps a limit to its compile-time maximum: asking for more gives that.
        previous = conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, 2**31 - 1)
        self.read_limit = conn.getlimit(sqlite3.SQLITE_LIMIT_LENGTH)
        conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, min(previous, build_limit))

        #: Whether the statement running now only reads (its rows are shortened past the
        #: budget rather than refused).
        self.reading = False

    def limit_for(self, sql: str) -> int | None:
        """The limit a statement starting now runs under (None: leave it as it is)."""
        if getattr(_trust, "depth", 0):
            return self.read_limit
        plain = is_plain(sql)
        if sql.lstrip().startswith("--"):  # a nested statement (or one that looks like it)
            return None if plain else self.build_limit
        return self.read_limit if plain else self.build_limit

    def __call__(self, sql: str) -> None:
        limit = self.limit_for(sql)
        if limit is not None:
            self.conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, limit)
            self.reading = limit == self.read_limit


def limit_per_statement(
    conn: sqlite3.Connection, *, build_limit: int = BUILD_LIMIT
) -> StatementLimits:
    """Give ``conn`` the per-statement length limit of this module (see the module's doc)."""
    limits = StatementLimits(conn, build_limit=build_limit)
    conn.set_trace_callback(limits)
    return limits


#: The pages' own SQL runs in this thread now (Datasette runs a connection's
#: statements on that connection's thread, where the trace callback is called).
_trust = threading.local()


@contextlib.contextmanager
def trusted(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """Within the block, ``conn`` runs chanarchive's own page SQL: it may read any stored value.

    (The trust belongs to the running thread, where Datasette runs the
    connection's statements.)
    """
    _trust.depth = getattr(_trust, "depth", 0) + 1
    try:
        yield conn
    finally:
        _trust.depth -= 1


def _weight(value: object) -> int:
    if isinstance(value, str):
        return 4 * len(value)
    if isinstance(value, bytes):
        return 2 * len(value)
    return 8


def shortened(value: str | bytes) -> str:
    """A long value as a result past its budget gives it: its start, and a note."""
    if isinstance(value, bytes):
        return (
            f"[{len(value):,} bytes: too many to show with the rest; the row's own page has them]"
        )
    return (
        value[:SHORTENED_TO]
        + f"… [shortened: {len(value):,} characters in all; the row's own page shows it whole]"
    )


def shorten_rows(
    conn: sqlite3.Connection, budget: int = RESULT_BUDGET, limits: StatementLimits | None = None
) -> None:
    """Bound what every cursor of ``conn`` holds to ``budget``.

    Past the budget, a statement that only reads (plain, or the pages' own:
    ``limits.reading``) gets its later long values shortened — its start and a
    note (:func:`shortened`) — so that a page listing a huge post still
    answers; a statement that builds values is stopped
    (:class:`~archive.query.guard.ResultTooLarge`, as ``query`` does). A
    cursor's first row is always whole: a row's own page shows it in full.
    The connection's row factory is kept for the rows.
    """
    inner = conn.row_factory
    spent: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def bounded(cursor: sqlite3.Cursor, row: tuple):
        before = spent.get(cursor)
        weight = sum(_weight(v) for v in row)
        if before is not None and before + weight > budget:
            if limits is None or not limits.reading:
                raise ResultTooLarge(
                    f"the result is larger than {budget // (1024 * 1024)} MB: select fewer rows"
                    " or smaller columns"
                )
            row = tuple(
                shortened(v) if isinstance(v, str | bytes) and len(v) > SHORTENED_TO else v
                for v in row
            )
            weight = sum(_weight(v) for v in row)
        spent[cursor] = (before or 0) + weight
        return inner(cursor, row) if inner is not None else row

    conn.row_factory = bounded
