"""Another application's database is never taken for an archive, even an empty one.

An SQLite file with nothing in it yet may still be someone's: its
``application_id`` or ``user_version`` says so, and so does any table,
view or index that is not chanarchive's. Every command refuses it with one
line and exit 2, decides before it writes anything (not even
``journal_mode=WAL``), and leaves the file byte for byte, with no ``-wal``
or ``-shm`` beside it.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.crawling import FAST
from tests.helpers import run
from tests.safety import file_bytes

KINDS = {
    "user_version": ["PRAGMA user_version = 7"],
    "application_id": ["PRAGMA application_id = 1095238984"],
    "both, in WAL mode": [
        "PRAGMA journal_mode = WAL",
        "PRAGMA application_id = 42",
        "PRAGMA user_version = 1",
    ],
    "a view": ["CREATE VIEW v AS SELECT 1 AS x"],
    "an empty table": ["CREATE TABLE settings (k TEXT PRIMARY KEY, v TEXT)"],
}

COMMANDS = [
    ["crawl", "http://127.0.0.1:9/", *FAST],
    ["export", "--format", "jsonl"],
    ["export", "--format", "csv", "-o", "out.csv"],
    ["sources", "add", "@durov", "--every", "1h"],
    ["sources", "import", "list.txt", "--every", "1h"],
    ["sources", "export"],
    ["sources", "list"],
    ["sources", "remove", "@durov"],
    ["sources", "pause", "@durov"],
    ["sources", "resume", "@durov"],
    ["scheduler", "run", "--once"],
    ["query", "SELECT 1"],
    ["search", "x"],
    ["history", "durov/1"],
    ["diff", "durov/1"],
    ["changes"],
    ["serve", "--port", "9"],
    ["demo"],
    ["ingest", "--redis", "redis://127.0.0.1:9/0"],
]


def make(folder: Path, statements: list[str]) -> Path:
    path = folder / "theirs.db"
    conn = sqlite3.connect(path)
    for sql in statements:
        conn.execute(sql)
    conn.commit()
    conn.close()
    return path


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_command_refuses_another_applications_database(tmp_path, kind):
    (tmp_path / "list.txt").write_text("@durov\n")
    for args in COMMANDS:
        folder = tmp_path / f"{args[0]}-{len(args)}-{abs(hash(tuple(args))) % 10**6}"
        folder.mkdir()
        db = make(folder, KINDS[kind])
        names = sorted(p.name for p in folder.iterdir())
        before = file_bytes(db)
        args = [str(tmp_path / a) if a in ("list.txt", "out.csv") else a for a in args]
        done = run(db, *args)
        assert done.exit_code == 2, (kind, args, done.output)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: "), (args, done.stderr)
        assert "not a chanarchive archive" in lines[0] and "Traceback" not in done.stderr
        assert file_bytes(db) == before, (kind, args)
        # Nothing beside it either: no -wal, no -shm, no scheduler store.
        assert sorted(p.name for p in folder.iterdir()) == names, (kind, args)
        assert not (tmp_path / "out.csv").exists()


def test_a_new_empty_file_is_still_made_an_archive(tmp_path):
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()  # zero bytes: nobody's yet
    assert run(empty, "sources", "add", "@durov", "--every", "1h").exit_code == 0
    header = tmp_path / "header.db"
    conn = sqlite3.connect(header)
    conn.execute("PRAGMA page_size = 4096")
    conn.execute("VACUUM")  # a header and nothing else, no marks
    conn.close()
    assert run(header, "sources", "add", "@durov", "--every", "1h").exit_code == 0
