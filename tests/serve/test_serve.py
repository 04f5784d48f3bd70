"""``chanarchive serve`` and bare ``datasette``: the archive browsable, searchable, read-only."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sqlite3
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import pytest

from archive.query import run_query
from archive.serve.metadata import QUERIES, TABLES, metadata
from archive.store import connect_readonly
from tests.conftest import OPENER
from tests.crawling import run_cli
from tests.helpers import free_port
from tests.sample_archive import build_sample_archive, file_state

CANNED = {
    "latest_posts",
    "edited_posts",
    "deleted_posts",
    "history_of_post",
    "views_of_post",
    "recent_crawls",
    "recent_crawl_errors",
}


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("serve") / "archive.db"
    done = run_cli(db, "demo", timeout=180)
    assert done.returncode == 0, done.stderr
    return db


def get_json(base: str, path: str, **params: str):
    url = base + path + ("?" + urllib.parse.urlencode(params) if params else "")
    with OPENER.open(url, timeout=30) as resp:
        return json.loads(resp.read())


#: The stderr file of each server :func:`served` started, by its base URL.
SERVE_LOGS: dict[str, Path] = {}


@pytest.fixture(scope="module")
def served(demo_db, tmp_path_factory):
    """``chanarchive serve --port N`` on the demo archive, as a real process (its output in
    files: a pipe nobody reads would stall the server once full)."""
    port = free_port()
    before = file_state(demo_db)
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "chanarchive", "--db", str(demo_db), "serve", "--port", str(port)],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},  # the log as it is written
    )
    base = f"http://127.0.0.1:{port}"
    SERVE_LOGS[base] = log
    deadline = time.monotonic() + 30
    while True:
        try:
            get_json(base, "/-/versions.json")
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(log.read_text(errors="replace")) from None
            time.sleep(0.1)
    yield base, before
    proc.terminate()
    proc.wait(timeout=10)


def test_json_api_lists_posts(served):
    base, _ = served
    data = get_json(base, "/archive/posts.json", _shape="objects", _size="100")
    rows = data["rows"]
    assert len(rows) == 48
    assert {"post_id", "text", "current_version", "deleted_at"} <= set(rows[0])


def test_search_box_finds_a_chinese_phrase(served):
    base, _ = served
    rows = get_json(base, "/archive/posts.json", _search="南湖隧道", _shape="array")
    assert sorted(r["post_id"] for r in rows) == ["32", "45", "46"]
    assert all("南湖隧道" in r["text"] for r in rows)


def test_canned_queries_are_there_and_answer(served):
    base, _ = served
    database = get_json(base, "/archive.json")
    assert CANNED <= {q["name"] for q in database["queries"]}
    edited = get_json(base, "/archive/edited_posts.json", _shape="array")
    assert [(r["post_id"], r["version"]) for r in edited] == [("43", 1), ("43", 2)]
    deleted = get_json(base, "/archive/deleted_posts.json", _shape="array")
    assert [r["post_id"] for r in deleted] == ["44"]
    history = get_json(
        base, "/archive/history_of_post.json", post="chanarchive_demo/43", _shape="array"
    )
    assert [r["version"] for r in history] == [1, 2]
    views = get_json(
        base, "/archive/views_of_post.json", post="https://t.me/chanarchive_demo/37", _shape="array"
    )
    assert [r["views"] for r in views] == sorted(r["views"] for r in views) and len(views) == 2
    crawls = get_json(base, "/archive/recent_crawls.json", _shape="array")
    assert [r["status"] for r in crawls] == ["ok", "ok"]
    assert get_json(base, "/archive/recent_crawl_errors.json", _shape="array") == []
    latest = get_json(base, "/archive/latest_posts.json", _shape="array")
    assert latest[0]["post_id"] == "48"
    short = get_json(base, "/archive/search_posts.json", q="地铁", _shape="array")
    assert short and all("地铁" in r["text"] for r in short)


def test_metadata_describes_tables_and_facets(served):
    base, _ = served
    meta = get_json(base, "/-/metadata.json")
    tables = meta["databases"]["archive"]["tables"]
    assert "current clean text" in tables["posts"]["description"]
    assert tables["posts"]["columns"]["deleted_at"]
    posts = get_json(base, "/archive/posts.json", _size="1")
    assert {"channel_id", "edited"} <= set(posts["facet_results"])


def test_sql_stays_read_only(served, demo_db):
    base, before = served
    ok = get_json(
        base, "/archive.json", sql="SELECT name FROM pragma_table_info('posts')", _shape="array"
    )
    assert ok[0] == {"name": "id"}
    for sql in ("ATTACH DATABASE '/tmp/x.db' AS x", "DELETE FROM posts", "PRAGMA user_version = 3"):
        url = base + "/archive.json?" + urllib.parse.urlencode({"sql": sql})
        with pytest.raises(urllib.error.HTTPError) as refused:
            OPENER.open(url, timeout=30)
        refused.value.close()
    assert file_state(demo_db)["db"] == before["db"]
    # A refused query is answered, not printed as a traceback on the server's terminal.
    assert "Traceback" not in SERVE_LOGS[base].read_text(errors="replace")


def test_sql_in_the_browser_cannot_outrun_its_limits(served):
    """A huge printf() width, a huge value, a result of gigabytes: each ends at once."""
    base, _ = served
    huge = get_json(
        base, "/archive.json", sql="SELECT printf('%.*c', 2147483647, 'x') AS p", _shape="array"
    )
    assert huge == [{"p": None}]  # refused at once: NULL, not two billion characters
    for sql in (
        "SELECT zeroblob(99000000)",
        "SELECT zeroblob(1000000) FROM posts, posts LIMIT 1000",
    ):
        url = base + "/archive.json?" + urllib.parse.urlencode({"sql": sql})
        with pytest.raises(urllib.error.HTTPError) as refused:
            OPENER.open(url, timeout=30)
        assert refused.value.code == 400
        refused.value.close()
    ok = get_json(base, "/archive.json", sql="SELECT printf('%05d', 42) AS p", _shape="array")
    assert ok == [{"p": "00042"}]


def test_bare_datasette_opens_the_archive(demo_db):
    before = file_state(demo_db)

    def get(path: str):
        done = subprocess.run(
            [sys.executable, "-m", "datasette", str(demo_db), "--get", path],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    posts = get("/archive/posts.json?_size=100")
    assert len(posts["rows"]) == 48
    found = get("/archive/posts.json?_shape=array&_search=" + urllib.parse.quote("南湖隧道"))
    assert sorted(r["post_id"] for r in found) == ["32", "45", "46"]
    # Datasette follows the foreign key from post_versions to posts.
    [version] = get("/archive/post_versions.json?_size=1&_shape=array&_labels=on")
    assert version["post"]["value"] == 1
    assert "current_posts" in {v["name"] for v in get("/archive.json")["views"]}
    assert file_state(demo_db)["db"] == before["db"]


def test_guard_plugin_denies_attach_on_datasettes_own_connections(tmp_path):
    from archive.serve.app import make_datasette

    db = build_sample_archive(tmp_path / "guarded.db")
    ds = make_datasette(db)

    async def attempt():
        database = ds.get_database("guarded")
        rows = await database.execute("SELECT count(*) FROM posts")
        assert rows.first()[0] == 8

        def attach(conn):
            conn.execute("ATTACH DATABASE ? AS evil", [str(tmp_path / "evil.db")])

        with pytest.raises(sqlite3.DatabaseError):
            await database.execute_fn(attach)

    asyncio.run(attempt())
    assert not (tmp_path / "evil.db").exists()


def test_every_canned_query_runs_under_the_read_only_guard(tmp_path):
    db = build_sample_archive(tmp_path / "archive.db")
    conn = connect_readonly(db)
    for name, canned in QUERIES.items():
        params = {
            p: "news_cn/3" if p == "post" else "地铁" for p in re.findall(r":(\w+)", canned["sql"])
        }
        result = run_query(conn, canned["sql"], params)
        assert result.rows, name
    conn.close()
    described = metadata(db, {"posts", "channels"})["databases"]["archive"]["tables"]
    assert set(described) == {"posts", "channels"}
    assert set(TABLES) >= {"posts", "post_versions", "snapshots", "crawls", "crawl_errors"}


def test_serve_prints_its_metadata(tmp_path):
    db = build_sample_archive(tmp_path / "mine.db")
    done = run_cli(db, "serve", "--metadata")
    assert done.returncode == 0, done.stderr
    meta = json.loads(done.stdout)
    assert set(meta["databases"]["mine"]["queries"]) >= CANNED
    missing = run_cli(tmp_path / "none.db", "serve")
    assert missing.returncode == 2 and "no archive" in missing.stderr


def test_every_table_and_view_of_the_archive_is_described(tmp_path):
    from archive.store import open_archive

    db = open_archive(tmp_path / "archive.db")
    names = {
        name
        for (name,) in db.execute(
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'view')"
            " AND name NOT LIKE 'posts_fts%' AND name NOT LIKE 'sqlite_%'"
        )
    }
    db.close()
    assert names - set(TABLES) == set(), "tables without a description in datasette_meta.TABLES"
    assert all(TABLES[name].get("description") for name in names)
