"""Ordinary mistakes through the real command line: refused means unchanged, never a traceback.

Every refusal here exits 2 with one ``Error:`` line and leaves every file it
was pointed at byte for byte as it was (``tests.safety.unchanged``).
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.crawling import FAST, cli_argv, query, run_cli
from tests.safety import integrity, unchanged
from tests.sample_archive import build_sample_archive


def refused(done: subprocess.CompletedProcess, *words: str) -> None:
    """Exit 2, one line on stderr starting with ``Error:``, no traceback."""
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), done.stderr
    for word in words:
        assert word in lines[0], lines[0]


@pytest.fixture
def archive(tmp_path) -> Path:
    return build_sample_archive(tmp_path / "archive.db")


@pytest.fixture
def foreign(tmp_path) -> Path:
    """Somebody else's SQLite database, in rollback-journal mode."""
    path = tmp_path / "notes.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    conn.execute("INSERT INTO notes (body) VALUES ('keep me')")
    conn.commit()
    conn.close()
    return path


# --------------------------------------------------------------------------- export -o


def test_export_never_writes_over_the_archive(archive, tmp_path):
    link = tmp_path / "link.db"
    link.symlink_to(archive)
    hard = tmp_path / "hard.db"
    os.link(archive, hard)
    conn = sqlite3.connect(archive)  # an open writer keeps a -wal beside the file
    conn.execute("PRAGMA journal_mode=WAL")
    for target in (archive, link, hard, Path(f"{archive}-wal"), Path(f"{archive}-shm")):
        for fmt in ("jsonl", "csv", "warc"):
            with unchanged(archive):
                refused(run_cli(archive, "export", "--format", fmt, "-o", str(target)), "archive")
    conn.close()
    assert integrity(archive) == "ok"


def test_export_never_writes_over_another_archive(archive, tmp_path):
    other = build_sample_archive(tmp_path / "other.db")
    with unchanged(other):
        refused(run_cli(archive, "export", "--format", "jsonl", "-o", str(other)), "archive")


def test_a_full_disk_is_one_line_and_exit_1(archive):
    done = run_cli(archive, "export", "--format", "jsonl", "-o", "/dev/full")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        "Error: cannot write /dev/full: No space left on device"
    ]


def test_an_export_is_whole_or_absent_and_leaves_no_temporary_file(archive, tmp_path):
    out = tmp_path / "out" / "posts.jsonl"
    out.parent.mkdir()
    out.write_text("the previous export\n")
    done = run_cli(archive, "export", "--format", "jsonl", "-o", str(out), "--as-of", "nonsense")
    assert done.returncode == 2 and out.read_text() == "the previous export\n"
    assert run_cli(archive, "export", "--format", "jsonl", "-o", str(out)).returncode == 0
    assert out.read_text().count("\n") == len(query(archive, "SELECT id FROM posts"))
    assert [p.name for p in out.parent.iterdir()] == ["posts.jsonl"]


# --------------------------------------------------------------------------- not an archive


@pytest.mark.parametrize(
    "args",
    [
        ["demo"],
        ["sources", "list"],
        ["sources", "add", "@durov", "--every", "1h"],
        ["sources", "remove", "@durov"],
        ["sources", "pause", "@x"],
        ["scheduler", "run", "--once"],
        ["crawl", "http://127.0.0.1:9/", *FAST],
        ["query", "SELECT 1"],
        ["search", "x"],
        ["export", "--format", "jsonl"],
        ["history", "durov/1"],
    ],
)
def test_a_database_that_is_not_an_archive_is_left_alone(foreign, args):
    with unchanged(foreign):
        refused(run_cli(foreign, *args))
    assert not Path(f"{foreign}-wal").exists()
    assert sorted(p.name for p in foreign.parent.iterdir()) == ["notes.db"]


def test_demo_replaces_only_an_earlier_demo(tmp_path):
    mine = tmp_path / "mine.db"
    assert run_cli(mine, "sources", "add", "@durov", "--every", "1h").returncode == 0
    with unchanged(mine):
        refused(run_cli(mine, "demo"), "more than the demo")


def test_read_only_commands_write_nothing_to_an_archive(archive):
    conn = sqlite3.connect(archive)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("PRAGMA journal_mode=DELETE")  # a WAL switch would show in the bytes
    conn.close()
    commands = [
        ["sources", "list"],
        ["query", "SELECT COUNT(*) FROM posts"],
        ["search", "地铁"],
        ["history", "news_cn/3"],
        ["diff", "news_cn/3"],
        ["export", "--format", "jsonl"],
    ]
    for args in commands:
        with unchanged(archive):
            done = run_cli(archive, *args)
            assert done.returncode == 0, (args, done.stderr)


@pytest.mark.parametrize("kind", ["empty", "fifo", "device", "folder", "text"])
def test_odd_archive_paths_are_refused_quickly(tmp_path, kind):
    path = tmp_path / "odd"
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "device":
        path = Path("/dev/null")
    elif kind == "folder":
        path.mkdir()
    else:
        path.write_text("just some notes\n")
    before = sorted(p.name for p in tmp_path.iterdir())
    for args in (["query", "SELECT 1"], ["sources", "list"], ["export", "--format", "csv"]):
        done = subprocess.run(cli_argv(path, *args), capture_output=True, text=True, timeout=30)
        refused(done)
    if kind != "empty":
        refused(run_cli(path, "crawl", "http://127.0.0.1:9/", *FAST))
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert not Path("/dev/null-journal").exists()


def test_an_empty_archive_name_is_refused(tmp_path):
    env = {**os.environ, "CHANARCHIVE_DB": ""}
    done = subprocess.run(
        [sys.executable, "-m", "chanarchive", "sources", "list"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    refused(done, "empty")
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "setting",
    [
        "DOWNLOAD_DELAY=abc",
        "DOWNLOAD_TIMEOUT=-1",
        "CONCURRENT_REQUESTS=0",
        "ROBOTSTXT_OBEY=maybe",
        "CHANARCHIVE_DB=/tmp/elsewhere.db",
        "ITEM_PIPELINES={}",
    ],
)
def test_bad_settings_are_refused_before_anything_is_written(tmp_path, setting):
    db = tmp_path / "archive.db"
    refused(run_cli(db, "crawl", "http://127.0.0.1:9/", "-s", setting), setting.split("=")[0])
    assert not db.exists()


@pytest.mark.parametrize(
    "args",
    [
        ["crawl", "http://[::1"],
        ["crawl", "http://user:secret@127.0.0.1:9/"],
        ["sources", "add", "http://[::1", "--every", "1h"],
        ["extract", "http://[::1"],
        ["extract", "http://"],
        ["extract", "http://127.0.0.1:0/"],
        ["export", "--format", "jsonl", "--as-of", "9999-12-31T23:59:59-23:59"],
        ["export", "--format", "warc", "--since", "0001-01-01T00:00:00+01:00"],
        ["search", "x", "--limit", "99999999999999999999"],
        ["query", "SELECT 1", "--max-rows", "99999999999999999999"],
    ],
)
def test_bad_input_is_one_line_and_exit_2(archive, args):
    with unchanged(archive):
        refused(run_cli(archive, *args))


def test_extract_on_a_folder_says_it_is_a_folder(tmp_path):
    refused(run_cli(tmp_path / "x.db", "extract", str(tmp_path)), "is a folder")


def test_history_of_a_bad_url_is_bad_input(archive):
    refused(run_cli(archive, "history", "http://[::1/x"))


# --------------------------------------------------------------------------- extract URL


def test_extract_decodes_gzip_and_keeps_one_deadline(site, tmp_path):
    done = run_cli(tmp_path / "x.db", "extract", f"{site.url}/hostile/gzip", "--format", "jsonl")
    assert done.returncode == 0, done.stderr
    assert "压缩过的消息" in done.stdout
    started = time.monotonic()
    done = run_cli(
        tmp_path / "x.db", "extract", f"{site.url}/hostile/drip?every=0.5", "--timeout", "2"
    )
    took = time.monotonic() - started
    assert done.returncode == 1 and "within 2 s" in done.stderr, done.stderr
    assert took < 60  # a deadline per byte would take the whole page: minutes


# --------------------------------------------------------------------------- query limits


def test_a_query_cannot_outrun_its_limits(archive):
    printf = "SELECT length(printf('%.*c', 2147483647, 'x'))"
    refused(run_cli(archive, "query", printf, "--time-limit-ms", "100"), "printf")
    refused(run_cli(archive, "query", "SELECT zeroblob(99000000)"), "too big")
    done = run_cli(
        archive, "query", "SELECT zeroblob(8000000) FROM posts LIMIT 30", "--format", "json"
    )
    assert done.returncode == 0 and "truncated" in done.stderr
    ordinary = run_cli(archive, "query", "SELECT printf('%5.1f|%s', 3.14159, 'ok') AS p")
    assert "  3.1|ok" in ordinary.stdout
