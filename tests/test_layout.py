"""The tree's layout, checked against the code: who may import what, and who writes the archive.

- every ``archive`` module imports only what lies below it (or beside it), and never the
  crawler, the scheduler or the command line;
- every package of ``archive``, ``crawler`` and ``scheduler`` says in its docstring what it
  holds (a ``Holds:`` paragraph) and what it may import (a ``May import:`` paragraph), and
  the imports of its modules, at module or function level, keep to that list;
- no project module imports another in a cycle, even through a function-level import;
- only ``archive.store`` writes the archive file: no SQL that writes, and no
  ``write_transaction``, anywhere else.

All of it reads the source with :mod:`ast`: nothing here imports the modules it checks.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.paths import ROOT

ARCHIVE = ROOT / "archive"

#: The layer of each part of ``archive``: a module may import its own layer and those below.
LAYERS = {
    "archive": 0,
    "archive.models": 0,
    "archive.errors": 0,
    "archive.times": 0,
    "archive.source": 0,
    "archive.clean": 1,
    "archive.extract": 2,
    "archive.store": 3,
    "archive.query": 4,
    "archive.export": 4,
    "archive.verify": 4,
    "archive.serve": 5,
}
OUTSIDE = ("crawler", "scheduler", "chanarchive", "tests", "bench")
#: Top-level names that are this project's; any other import is the standard library or a
#: third-party distribution, which every package may use.
PROJECT = ("archive", "crawler", "scheduler", "chanarchive", "tests", "bench")
#: The roots whose packages say what they hold and may import.
DESCRIBED = ("archive", "crawler", "scheduler")
#: The roots where code runs in the product (cycles and archive writes are looked for there).
PRODUCT = ("archive", "crawler", "scheduler", "chanarchive")


# ------------------------------------------------------------------ reading the tree


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@functools.cache
def parsed(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def sources(*roots: str) -> list[Path]:
    return sorted(p for root in roots for p in (ROOT / root).rglob("*.py"))


def imports(path: Path) -> list[tuple[int, str]]:
    """Every import of a module, at any depth: (line, the dotted name it brings in).

    ``from a.b import c`` brings in ``a.b.c`` (a module or a name of ``a.b``);
    relative imports are made absolute.
    """
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(parsed(path)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found += [
                (node.lineno, target if alias.name == "*" else f"{target}.{alias.name}")
                for alias in node.names
            ]
    return found


def inside(name: str, prefix: str) -> bool:
    """Whether dotted ``name`` is ``prefix`` or lies under it."""
    return name == prefix or name.startswith(prefix + ".")


# ------------------------------------------------------------------ layers of archive


def layer(module: str) -> int:
    parts = module.split(".")
    for i in range(len(parts), 0, -1):
        name = ".".join(parts[:i])
        if name in LAYERS:
            return LAYERS[name]
    raise KeyError(module)


@pytest.mark.parametrize("path", sources("archive"), ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_point_down(path) -> None:
    module = module_name(path)
    own = layer(module)
    for line, name in imports(path):
        assert name.split(".")[0] not in OUTSIDE, f"{module}:{line} imports {name}"
        if inside(name, "archive"):
            theirs = layer(name)
            assert theirs <= own, f"{module}:{line} (layer {own}) imports {name} (layer {theirs})"


def test_few_top_level_modules() -> None:
    top = sorted(p.name for p in ARCHIVE.glob("*.py"))
    assert top == ["__init__.py", "errors.py", "models.py", "source.py", "times.py"]


# ------------------------------------------------------------------ Holds / May import

#: A module named in a ``May import:`` paragraph: :mod:`a.b`, ``a.b``, either with ``~``.
LISTED = re.compile(r":mod:`~?([\w.]+)`|``~?([\w.]+)``")

PACKAGES = sorted(
    module_name(init) for root in DESCRIBED for init in (ROOT / root).rglob("__init__.py")
)


def package_dir(package: str) -> Path:
    return ROOT.joinpath(*package.split("."))


def paragraph(package: str, label: str) -> str | None:
    """The paragraph of ``package``'s docstring that begins with ``label``, if there is one."""
    doc = ast.get_docstring(parsed(package_dir(package) / "__init__.py")) or ""
    for text in re.split(r"\n\s*\n", doc):
        if text.strip().startswith(label):
            return " ".join(text.split())
    return None


def listed(package: str) -> list[str] | None:
    """The modules ``package`` may import, as its ``May import:`` paragraph names them."""
    text = paragraph(package, "May import:")
    if text is None:
        return None
    names = [a or b for a, b in LISTED.findall(text)]
    return [package + name if name.startswith(".") else name for name in names]


def governing(package: str) -> str | None:
    """The package whose list governs ``package``'s own modules: itself, or its nearest parent."""
    parts = package.split(".")
    for i in range(len(parts), 0, -1):
        candidate = ".".join(parts[:i])
        if listed(candidate) is not None:
            return candidate
    return None


def refused(name: str, package: str, allowed: list[str]) -> bool:
    """Whether a module governed by ``package`` (with list ``allowed``) may not import ``name``."""
    if name.split(".")[0] not in PROJECT:
        return False  # the standard library, or a third-party distribution
    return not any(inside(name, prefix) for prefix in [package, *allowed])


@pytest.mark.parametrize("package", PACKAGES)
def test_every_package_says_what_it_holds_and_may_import(package) -> None:
    assert paragraph(package, "Holds:"), f"{package}'s docstring has no 'Holds:' paragraph"
    assert paragraph(package, "May import:"), (
        f"{package}'s docstring has no 'May import:' paragraph"
    )


@pytest.mark.parametrize("package", PACKAGES)
def test_imports_keep_to_the_package_list(package) -> None:
    """The modules of ``package`` (not of its subpackages) import only what its list allows."""
    ruler = governing(package)
    assert ruler is not None, f"no 'May import:' paragraph governs the modules of {package}"
    allowed = listed(ruler)
    wrong = [
        f"{module_name(path)}:{line} imports {name}"
        for path in sorted(package_dir(package).glob("*.py"))
        for line, name in imports(path)
        if refused(name, ruler, allowed)
    ]
    assert not wrong, f"outside what {ruler} may import ({', '.join(allowed)}):\n" + "\n".join(
        wrong
    )


def test_the_list_is_read_from_the_docstring() -> None:
    """The parsing of a list, and what it allows, on a made-up package."""
    text = "May import: :mod:`archive.models`, ``archive.store``, :mod:`~archive.times`."
    names = [a or b for a, b in LISTED.findall(text)]
    assert names == ["archive.models", "archive.store", "archive.times"]
    allowed = ["archive.store", "archive.__version__"]
    assert not refused("archive.store.connect_readonly", "archive.export", allowed)
    assert not refused("archive.export.scope.ExportScope", "archive.export", allowed)
    assert not refused("archive.__version__", "archive.export", allowed)
    assert not refused("sqlite_utils.Database", "archive.export", allowed)
    assert not refused("os.path", "archive.export", allowed)
    assert refused("archive.query.guard", "archive.export", allowed)
    assert refused("archive.storage", "archive.export", allowed)  # a prefix is not a parent
    assert refused("archive", "archive.export", allowed)
    assert refused("crawler.run", "archive.export", allowed)


# ------------------------------------------------------------------ no cycles


def import_graph() -> dict[str, set[str]]:
    """Each product module and the project modules it imports (at any depth)."""
    paths = {module_name(p): p for p in sources(*PRODUCT)}

    def module_of(name: str) -> str | None:
        while name and name not in paths:
            name = name.rpartition(".")[0]
        return name or None

    return {
        module: {m for _, name in imports(path) if (m := module_of(name)) not in (None, module)}
        for module, path in paths.items()
    }


def test_no_import_cycles() -> None:
    """A function-level import does not hide a cycle: each dependency points one way."""
    graph = import_graph()
    cycles, done, stack = [], set(), []

    def visit(module: str) -> None:
        if module in stack:
            cycles.append(" -> ".join([*stack[stack.index(module) :], module]))
            return
        if module in done:
            return
        stack.append(module)
        for other in sorted(graph[module]):
            visit(other)
        stack.pop()
        done.add(module)

    for module in sorted(graph):
        visit(module)
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


# ------------------------------------------------------------------ one writer

_DML = (
    r"(?:INSERT|REPLACE)(?:\s+OR\s+\w+)?\s+INTO\s+\S"
    r"|UPDATE(?:\s+OR\s+\w+)?\s+\S+\s+SET\b"
    r"|DELETE\s+FROM\s+\S"
)
#: SQL that writes, as a string starts: a statement word followed by what makes it a statement
#: (``INSERT INTO t``, not the word "insert" or a list of statement names).
WRITE_SQL = re.compile(
    rf"^\s*(?:{_DML}"
    r"|CREATE\s+(?:(?:TEMP|TEMPORARY|UNIQUE|VIRTUAL)\s+)?(?:TABLE|INDEX|VIEW|TRIGGER)\s+\S"
    r"|DROP\s+(?:TABLE|INDEX|VIEW|TRIGGER)\s+\S"
    r"|ALTER\s+TABLE\s+\S)",
    re.IGNORECASE,
)
#: A common table expression (``WITH name AS (`` …) …
WITH_CTE = re.compile(
    r"^\s*WITH\s+(?:RECURSIVE\s+)?[\w\"]+\s*(?:\([^)]*\)\s*)?AS\s*(?:NOT\s+)?(?:MATERIALIZED\s*)?\(",
    re.IGNORECASE,
)
#: … that writes.
CTE_WRITES = re.compile(rf"\b(?:{_DML})", re.IGNORECASE)
#: sqlite-utils' table methods that write (``db["posts"].insert(...)``).
TABLE_WRITES = {
    "insert",
    "insert_all",
    "upsert",
    "upsert_all",
    "update",
    "delete",
    "delete_where",
    "create",
    "create_index",
    "add_column",
    "drop",
    "transform",
    "enable_fts",
}


def writes_sql(text: str) -> bool:
    """Whether ``text`` is an SQL statement that changes the database."""
    return bool(WRITE_SQL.match(text) or (WITH_CTE.match(text) and CTE_WRITES.search(text)))


def docstrings(tree: ast.Module) -> set[int]:
    """The ids of the docstring nodes of a module (prose, never run)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def archive_writes(tree: ast.Module) -> Iterator[tuple[int, str]]:
    """Where code writes the archive: SQL that writes, ``write_transaction``, sqlite-utils writes.

    Strings are read as the code spells them: an f-string with its holes as ``?``.
    """
    skip = docstrings(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            skip.update(id(part) for part in node.values)
            text = "".join(p.value if isinstance(p, ast.Constant) else "?" for p in node.values)
            if writes_sql(text):
                yield node.lineno, f"SQL {text[:60]!r}"
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if id(node) not in skip and writes_sql(node.value):
                yield node.lineno, f"SQL {node.value[:60]!r}"
        elif (isinstance(node, ast.Name) and node.id == "write_transaction") or (
            isinstance(node, ast.Attribute) and node.attr == "write_transaction"
        ):
            yield node.lineno, "write_transaction"
        elif isinstance(node, ast.ImportFrom) and any(
            alias.name == "write_transaction" for alias in node.names
        ):
            yield node.lineno, "imports write_transaction"
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in TABLE_WRITES
            and isinstance(node.func.value, ast.Subscript)
            and isinstance(node.func.value.slice, ast.Constant)
            and isinstance(node.func.value.slice.value, str)
        ):
            yield node.lineno, f"sqlite-utils {ast.unparse(node.func)}()"


WRITERS = ARCHIVE / "store"
NOT_WRITERS = [p for p in sources(*PRODUCT) if not p.is_relative_to(WRITERS)]


@pytest.mark.parametrize("path", NOT_WRITERS, ids=lambda p: str(p.relative_to(ROOT)))
def test_only_the_store_writes_the_archive(path) -> None:
    found = sorted(set(archive_writes(parsed(path))))
    where = path.relative_to(ROOT)
    assert not found, "only archive/store/ writes the archive file (add a store function):\n" + (
        "\n".join(f"{where}:{line}: {what}" for line, what in found)
    )


@pytest.mark.parametrize(
    "text",
    [
        "INSERT INTO posts (id) VALUES (?)",
        "insert or ignore into notify_targets (source) values (?)",
        "  REPLACE INTO sources VALUES (?)",
        "UPDATE sources SET paused = ? WHERE key = ?",
        "UPDATE OR IGNORE crawls SET reason = ?",
        "DELETE FROM sources WHERE key = ?",
        "CREATE TABLE IF NOT EXISTS t (a)",
        "CREATE VIRTUAL TABLE posts_fts USING fts5(text)",
        "CREATE UNIQUE INDEX i ON t (a)",
        "DROP TABLE boilerplate",
        "ALTER TABLE posts ADD COLUMN reactions TEXT",
        "WITH due AS (SELECT key FROM sources) UPDATE sources SET next_run_at = ?",
        "with recursive n(x) as (select 1) delete from t where id in n",
    ],
)
def test_the_scanner_knows_sql_that_writes(text) -> None:
    assert writes_sql(text)


@pytest.mark.parametrize(
    "text",
    [
        "SELECT * FROM posts WHERE text LIKE 'INSERT INTO%'",
        "WITH latest AS (SELECT * FROM crawls) SELECT * FROM latest",
        "With the lock held, delete from the queue what was done",
        "Insert or update one source",
        "Drop the lines the rules name",
        "update",
        "DELETE",
        "CREATE TEMP TABLE",
        "DROP VIEW",
        "replace",
        "Updated sources set: 3",
        "",
    ],
)
def test_the_scanner_leaves_reads_and_words_alone(text) -> None:
    assert not writes_sql(text)


def test_the_scanner_finds_writes_in_code() -> None:
    code = '''
"""Docstring: INSERT INTO nothing (prose)."""
from archive.store import write_transaction

def f(db, table):
    """DELETE FROM prose too."""
    with write_transaction(db):
        db.execute(f"UPDATE {table} SET seen = 1")
        db.execute("SELECT 1")
    db["sources"].insert({"key": "a"})
    store.write_transaction(db)
    seen["a"].append(1)
'''
    found = sorted(archive_writes(ast.parse(code)))
    assert found == [
        (3, "imports write_transaction"),
        (7, "write_transaction"),
        (8, "SQL 'UPDATE ? SET seen = 1'"),
        (10, "sqlite-utils db['sources'].insert()"),
        (11, "write_transaction"),
    ]
