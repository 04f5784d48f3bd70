"""The rules that keep untrusted SQL read-only: a statement check and an SQLite authorizer.

Two of the layers that ``chanarchive query`` and ``chanarchive serve`` put
between a user's SQL and the archive (the others are the read-only
connection, the time limit and the row cap, in :mod:`archive.query`):

- :func:`check_statement` reads the SQL text before SQLite sees it: one
  statement only, and it must be ``SELECT``, ``WITH … SELECT`` or
  ``EXPLAIN`` of one of those.
- :class:`Authorizer` is called by SQLite for every action a statement
  would take while it is compiled. It allows reads, functions and
  recursive CTEs, and denies everything else: writes, schema changes,
  ``ATTACH`` (which creates files even on a read-only connection),
  transactions, ``PRAGMA`` statements and extension loading. It records
  why it denied, so the caller can give the user the reason rather than
  SQLite's bare "not authorized". Columns that may hold credentials
  (:data:`SECRET_COLUMNS`: notification URLs) read as NULL.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import weakref
from dataclasses import dataclass

from ..errors import BadInput


class QueryRefused(BadInput):
    """The SQL asks for something a read-only query may not do."""


#: Statements a query may start with.
ALLOWED_STATEMENTS = ("SELECT", "WITH", "EXPLAIN")

#: Functions no query may call: they load code or reach outside the database.
DENIED_FUNCTIONS = frozenset(
    {"load_extension", "fts3_tokenizer", "readfile", "writefile", "edit", "zipfile"}
)

#: Pragmas that only report; the ones in the second set take a table or index name.
_REPORTING_PRAGMAS = frozenset(
    {
        "collation_list",
        "compile_options",
        "data_version",
        "database_list",
        "encoding",
        "freelist_count",
        "function_list",
        "module_list",
        "page_count",
        "page_size",
        "pragma_list",
        "schema_version",
        "user_version",
        "application_id",
    }
)
_PRAGMAS_WITH_ARGUMENT = frozenset(
    {
        "foreign_key_list",
        "index_info",
        "index_list",
        "index_xinfo",
        "table_info",
        "table_list",
        "table_xinfo",
    }
)

#: Columns untrusted SQL reads as NULL: they may hold credentials (apprise notification URLs).
SECRET_COLUMNS = frozenset({("notify_targets", "url")})

_SCHEMA_TABLES = frozenset({"sqlite_master", "sqlite_schema", "sqlite_temp_master"})

_WRITE_ACTIONS = {
    sqlite3.SQLITE_INSERT: "INSERT",
    sqlite3.SQLITE_UPDATE: "UPDATE",
    sqlite3.SQLITE_DELETE: "DELETE",
    sqlite3.SQLITE_CREATE_INDEX: "CREATE INDEX",
    sqlite3.SQLITE_CREATE_TABLE: "CREATE TABLE",
    sqlite3.SQLITE_CREATE_TEMP_INDEX: "CREATE TEMP INDEX",
    sqlite3.SQLITE_CREATE_TEMP_TABLE: "CREATE TEMP TABLE",
    sqlite3.SQLITE_CREATE_TEMP_TRIGGER: "CREATE TEMP TRIGGER",
    sqlite3.SQLITE_CREATE_TEMP_VIEW: "CREATE TEMP VIEW",
    sqlite3.SQLITE_CREATE_TRIGGER: "CREATE TRIGGER",
    sqlite3.SQLITE_CREATE_VIEW: "CREATE VIEW",
    sqlite3.SQLITE_CREATE_VTABLE: "CREATE VIRTUAL TABLE",
    sqlite3.SQLITE_DROP_INDEX: "DROP INDEX",
    sqlite3.SQLITE_DROP_TABLE: "DROP TABLE",
    sqlite3.SQLITE_DROP_TEMP_INDEX: "DROP TEMP INDEX",
    sqlite3.SQLITE_DROP_TEMP_TABLE: "DROP TEMP TABLE",
    sqlite3.SQLITE_DROP_TEMP_TRIGGER: "DROP TEMP TRIGGER",
    sqlite3.SQLITE_DROP_TEMP_VIEW: "DROP TEMP VIEW",
    sqlite3.SQLITE_DROP_TRIGGER: "DROP TRIGGER",
    sqlite3.SQLITE_DROP_VIEW: "DROP VIEW",
    sqlite3.SQLITE_DROP_VTABLE: "DROP VIRTUAL TABLE",
    sqlite3.SQLITE_ALTER_TABLE: "ALTER TABLE",
    sqlite3.SQLITE_REINDEX: "REINDEX",
    sqlite3.SQLITE_ANALYZE: "ANALYZE",
}


# --------------------------------------------------------------------------
# The statement check
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Statement:
    """What the text of one SQL statement starts with and ends in."""

    sql: str  # the statement, without a trailing semicolon
    keyword: str  # its first word, upper-case ("" when there is none)
    main: str  # the word that says what it does: SELECT for WITH … SELECT, etc.


_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")


def _scan(sql: str) -> tuple[list[tuple[str, int]], int | None]:
    """Bare words with their parenthesis depth, and where the first top-level ``;`` is.

    Quoted strings and identifiers, blob literals and comments are skipped,
    so a ``;`` or a keyword inside them does not count.
    """
    words: list[tuple[str, int]] = []
    depth = 0
    i, n = 0, len(sql)
    while i < n:
        c = sql[i]
        if c in "'\"`":
            end = i + 1
            while True:
                end = sql.find(c, end)
                if end == -1:
                    return words, None  # unterminated: SQLite will say so
                if sql.startswith(c, end + 1):  # a doubled quote is an escaped quote
                    end += 2
                    continue
                break
            i = end + 1
        elif c == "[":
            end = sql.find("]", i + 1)
            if end == -1:
                return words, None
            i = end + 1
        elif sql.startswith("--", i):
            end = sql.find("\n", i)
            i = n if end == -1 else end + 1
        elif sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            i = n if end == -1 else end + 2
        elif c == ";":
            return words, i
        elif c == "(":
            depth += 1
            i += 1
        elif c == ")":
            depth -= 1
            i += 1
        else:
            match = _WORD.match(sql, i)
            if match and (i == 0 or not (sql[i - 1].isalnum() or sql[i - 1] in "_$")):
                if not (match.group().upper() in ("X",) and sql.startswith("'", match.end())):
                    words.append((match.group().upper(), depth))
                i = match.end()
            else:
                i += 1
    return words, None


def _only_comments(text: str) -> bool:
    """True when ``text`` holds nothing but blanks, semicolons and comments."""
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace() or text[i] == ";":
            i += 1
        elif text.startswith("--", i):
            end = text.find("\n", i)
            i = n if end == -1 else end + 1
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end == -1 else end + 2
        else:
            return False
    return True


def check_statement(sql: str) -> Statement:
    """Check the text of an untrusted query; raise :class:`QueryRefused` saying why it is refused.

    Accepts one ``SELECT``, ``WITH … SELECT`` or ``EXPLAIN …`` statement
    (a trailing semicolon and comments are fine).
    """
    words, semicolon = _scan(sql)
    body = sql
    if semicolon is not None:
        rest = sql[semicolon + 1 :]
        if not _only_comments(rest):
            raise QueryRefused("one statement at a time: the SQL holds more than one statement")
        body = sql[:semicolon]
    if not words:
        raise QueryRefused("no SQL statement given")
    keyword = words[0][0]
    if keyword not in ALLOWED_STATEMENTS:
        raise QueryRefused(
            f"only SELECT, WITH … SELECT and EXPLAIN statements are allowed, not {keyword}"
        )
    main = keyword
    if keyword == "EXPLAIN":
        following = [w for w, _ in words[1:] if w not in ("QUERY", "PLAN")]
        main = following[0] if following else ""
        if main not in ("SELECT", "WITH"):
            raise QueryRefused(f"EXPLAIN is allowed for SELECT statements only, not {main or '…'}")
    if main == "WITH":
        start = next(i for i, (w, _) in enumerate(words) if w == "WITH")
        verbs = ("SELECT", "VALUES", "INSERT", "UPDATE", "DELETE", "REPLACE")
        main = next((w for w, depth in words[start + 1 :] if depth == 0 and w in verbs), "SELECT")
        if main not in ("SELECT", "VALUES"):
            raise QueryRefused(f"only WITH … SELECT is allowed, not WITH … {main}")
    return Statement(sql=body, keyword=keyword, main=main)


# --------------------------------------------------------------------------
# The authorizer
# --------------------------------------------------------------------------


class Authorizer:
    """An SQLite authorizer that allows reading and nothing else.

    ``pragma_statements`` decides whether reporting ``PRAGMA`` statements
    (``PRAGMA table_info(posts)``) pass: untrusted queries get the
    table-valued ``pragma_*`` functions only, while Datasette's own
    introspection needs the statements. Pragmas that change a setting are
    denied either way. Call :meth:`reset` before compiling each statement.
    """

    def __init__(self, *, pragma_statements: bool = False) -> None:
        self.pragma_statements = pragma_statements
        self.denied: str | None = None
        self._in_select = False

    def _deny(self, reason: str) -> int:
        if self.denied is None:
            self.denied = reason
        return sqlite3.SQLITE_DENY

    def __call__(
        self,
        action: int,
        arg1: str | None,
        arg2: str | None,
        db_name: str | None,
        source: str | None,
    ) -> int:
        if action == sqlite3.SQLITE_SELECT:
            self._in_select = True
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_READ and (arg1, arg2) in SECRET_COLUMNS:
            return sqlite3.SQLITE_IGNORE  # the column reads as NULL
        if action in (sqlite3.SQLITE_READ, sqlite3.SQLITE_RECURSIVE):
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_FUNCTION:
            name = (arg2 or "").lower()
            if name in DENIED_FUNCTIONS:
                return self._deny(f"the function {name}() is not allowed")
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_PRAGMA:
            return self._pragma((arg1 or "").lower(), arg2)
        if action in (sqlite3.SQLITE_ATTACH, sqlite3.SQLITE_DETACH):
            verb = "ATTACH" if action == sqlite3.SQLITE_ATTACH else "DETACH"
            return self._deny(f"{verb} is not allowed: a query reads this archive only")
        if action == sqlite3.SQLITE_UPDATE and arg1 in _SCHEMA_TABLES:
            # SQLite asks this itself when it first connects a virtual table (FTS5,
            # pragma_* functions) in a read. Ignoring it leaves the schema untouched.
            return sqlite3.SQLITE_IGNORE
        if action in _WRITE_ACTIONS:
            target = f" on {arg1}" if arg1 else ""
            return self._deny(f"writes are not allowed ({_WRITE_ACTIONS[action]}{target})")
        if action in (sqlite3.SQLITE_TRANSACTION, sqlite3.SQLITE_SAVEPOINT):
            return self._deny("transactions are not allowed")
        return self._deny(f"this kind of statement is not allowed (SQLite action {action})")

    def _pragma(self, name: str, argument: str | None) -> int:
        reporting = name in _REPORTING_PRAGMAS and argument is None
        introspection = name in _PRAGMAS_WITH_ARGUMENT
        if not (reporting or introspection):
            if argument is not None:
                return self._deny(
                    f"PRAGMA {name} = … is not allowed: a query may not change settings"
                )
            return self._deny(f"PRAGMA {name} is not allowed")
        if self._in_select or self.pragma_statements:
            return sqlite3.SQLITE_OK
        return self._deny(
            "PRAGMA statements are not allowed; use the table-valued functions instead,"
            f" e.g. SELECT * FROM pragma_{name}(…)"
        )


#: The largest value (string or blob) a query may build or read: a post's text is far below.
MAX_VALUE_BYTES = 8 * 1024 * 1024

#: One printf conversion: flags, width, precision, length, type (as SQLite reads them).
_PRINTF_SPEC = re.compile(r"%([-+ 0#!,]*)(\*|[0-9]+)?(?:\.(\*|[0-9]+))?(l{0,2})([a-zA-Z%])")


def limit_connection(conn: sqlite3.Connection, *, max_length: int = MAX_VALUE_BYTES) -> Refusals:
    """Run-time limits no query needs to exceed: no attached databases, no giant values.

    SQLite's length limit stops every function that would build a value
    larger than ``max_length``, but its ``printf()`` (and ``format()``) still
    counts out a huge width or precision one character at a time, between
    two looks of the time limit: those are replaced on this connection by a
    version that refuses such a width before any work is done (its result
    is NULL, and the returned :class:`Refusals` say why).
    """
    conn.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, max_length)
    refusals = Refusals()
    printf = _bounded_printf(max_length, refusals)
    for name in ("printf", "format"):
        conn.create_function(name, -1, printf, deterministic=True)
    return refusals


class Refusals(list):
    """Why a function of :func:`limit_connection` refused to run (it gave NULL instead)."""


def _bounded_printf(max_length: int, refusals: Refusals):
    """SQLite's own printf, run on a private connection once the widths are known to be small."""
    helper = sqlite3.connect(":memory:", check_same_thread=False)
    helper.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, max_length)
    lock = threading.Lock()

    def printf(fmt, *args):
        if fmt is None:
            return None
        text = fmt if isinstance(fmt, str) else str(fmt)
        index = 0
        for spec in _PRINTF_SPEC.finditer(text):
            _flags, width, precision, _length, kind = spec.groups()
            if kind == "%":
                continue
            for part in (width, precision):
                if part == "*":
                    size = _as_int(args[index]) if index < len(args) else 0
                    index += 1
                else:
                    size = int(part) if part else 0
                if abs(size) > max_length:
                    # NULL, not an exception: SQLite keeps no message, and some hosts
                    # (Datasette) print a traceback for every exception in a function.
                    refusals.append(
                        f"printf(): a width or precision of {size} is larger than a value may be"
                        f" ({max_length} bytes)"
                    )
                    return None
            index += 1
        marks = ", ".join("?" for _ in range(len(args) + 1))
        with lock:
            return helper.execute(f"SELECT printf({marks})", (text, *args)).fetchone()[0]

    return printf


def _as_int(value) -> int:
    """A printf ``*`` argument as SQLite reads it (text that is no number counts as 0)."""
    if isinstance(value, int | float):
        try:
            return int(value)
        except (OverflowError, ValueError):
            return 2**63
    try:
        return int(float(str(value).strip()))
    except (OverflowError, ValueError):
        return 0


class ResultTooLarge(sqlite3.DatabaseError):
    """A query's rows passed the byte budget of its connection (see :func:`budget_rows`)."""


def value_size(value) -> int:
    """Roughly what one value takes in memory and once written out."""
    if isinstance(value, str):
        return 4 * len(value)
    if isinstance(value, bytes):
        return 2 * len(value)
    return 8


def budget_rows(conn: sqlite3.Connection, max_bytes: int) -> None:
    """Make every cursor of ``conn`` stop (:class:`ResultTooLarge`) past ``max_bytes`` of rows.

    For connections whose caller fetches rows itself (Datasette): each row
    is measured as it is fetched, so a query that would return gigabytes
    stops at the budget instead of after it. The connection's row factory
    is kept for the rows that pass.
    """
    inner = conn.row_factory
    spent: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def measured(cursor: sqlite3.Cursor, row: tuple):
        total = spent.get(cursor, 0) + sum(value_size(v) for v in row)
        if total > max_bytes:
            raise ResultTooLarge(
                f"the result is larger than {max_bytes // (1024 * 1024)} MB: select fewer rows"
                " or smaller columns"
            )
        spent[cursor] = total
        return inner(cursor, row) if inner is not None else row

    conn.row_factory = measured
