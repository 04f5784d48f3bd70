"""``chanarchive query``: untrusted SQL stays read-only, in layers; ordinary SELECTs work."""

from __future__ import annotations

import csv
import io
import json
import sqlite3

import pytest

from archive import store
from archive.query import BadQuery, QueryTimeout, run_query
from archive.query.guard import Authorizer, QueryRefused, check_statement, limit_connection
from archive.store import connect_readonly, open_archive
from chanarchive.tables import display_width, render_table
from tests.helpers import run
from tests.sample_archive import _capture, _page, build_sample_archive, file_state

HOSTILE = [
    ("DELETE FROM posts", "not DELETE"),
    ("UPDATE posts SET text = 'x'", "not UPDATE"),
    ("INSERT INTO channels (name, kind) VALUES ('x', 'web')", "not INSERT"),
    ("DROP TABLE posts", "not DROP"),
    ("WITH a AS (SELECT 1) DELETE FROM posts", "not WITH … DELETE"),
    ("WITH a AS (SELECT 1) UPDATE posts SET views = 0", "not WITH … UPDATE"),
    ("ATTACH DATABASE '{evil}' AS evil", "not ATTACH"),
    ("PRAGMA user_version = 99", "not PRAGMA"),
    ("PRAGMA journal_mode = DELETE", "not PRAGMA"),
    ("SELECT load_extension('/tmp/evil.so')", "load_extension() is not allowed"),
    ("SELECT fts3_tokenizer('simple')", "fts3_tokenizer() is not allowed"),
    ("SELECT 1; DELETE FROM posts", "one statement at a time"),
    ("SELECT 1; ATTACH '{evil}' AS e", "one statement at a time"),
    ("EXPLAIN DELETE FROM posts", "EXPLAIN is allowed for SELECT statements only"),
    ("VACUUM INTO '{evil}'", "not VACUUM"),
    ("CREATE TEMP TABLE t (x)", "not CREATE"),
    ("BEGIN IMMEDIATE", "not BEGIN"),
    (
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c",
        "longer than its time limit",
    ),
]


@pytest.fixture
def sample(tmp_path):
    return build_sample_archive(tmp_path / "archive.db")


@pytest.fixture
def live_wal(sample):
    """The sample archive with a writer still open: its last page lives in the -wal file."""
    db = open_archive(sample)
    db.conn.execute("PRAGMA wal_autocheckpoint = 0")
    later = "2026-11-29T10:00:00.000000+00:00"
    page = _page([8], 10, {8: "只在预写日志里的新帖子：图书馆周末延长开放。"})
    store.ingest_page(db, None, _capture(b"<html>wal only</html>", later), page)
    yield sample
    db.close()


def test_select_in_every_format_with_parameters(sample):
    sql = "SELECT post_id, views FROM posts WHERE channel_id = :ch AND views >= :min ORDER BY post_num"
    params = ["-p", "ch", "1", "-p", ":min", "600"]
    table = run(sample, "query", sql, *params)
    assert table.exit_code == 0, table.output
    assert table.output.splitlines()[0].split() == ["post_id", "views"]
    assert [line.split() for line in table.output.splitlines()[2:]] == [
        ["4", "600"],
        ["6", "900"],
        ["7", "1050"],
    ]
    as_json = run(sample, "query", sql, *params, "--format", "json")
    assert json.loads(as_json.output) == [
        {"post_id": "4", "views": 600},
        {"post_id": "6", "views": 900},
        {"post_id": "7", "views": 1050},
    ]
    jsonl = run(sample, "query", sql, *params, "--format", "jsonl")
    assert [json.loads(line) for line in jsonl.output.splitlines()] == json.loads(as_json.output)
    as_csv = run(sample, "query", sql, *params, "--format", "csv")
    assert list(csv.reader(io.StringIO(as_csv.output))) == [
        ["post_id", "views"],
        ["4", "600"],
        ["6", "900"],
        ["7", "1050"],
    ]


def test_views_make_common_questions_one_select(sample):
    result = run(
        sample,
        "query",
        "SELECT channel, post_id, version, text FROM current_posts WHERE edited = 1",
        "--format",
        "json",
    )
    assert json.loads(result.output) == [
        {
            "channel": "news_cn",
            "post_id": "3",
            "version": 2,
            "text": "轻轨3号线南延段今日起试运行，预计明年春节前开通。",
        }
    ]
    history = run(
        sample,
        "query",
        "SELECT version, is_current FROM post_history WHERE channel = 'news_cn' AND post_id = '3'",
        "--format",
        "csv",
    )
    assert history.output.splitlines() == ["version,is_current", "1,0", "2,1"]
    runs = run(
        sample, "query", "SELECT status, errors FROM crawl_runs ORDER BY id", "--format", "csv"
    )
    assert runs.output.splitlines() == ["status,errors", "ok,0", "ok,0", "partial,1"]


@pytest.mark.parametrize("sql, reason", HOSTILE, ids=[h[0][:40] for h in HOSTILE])
def test_hostile_query_is_refused_and_the_archive_is_unchanged(live_wal, tmp_path, sql, reason):
    evil = tmp_path / "evil.db"
    before = file_state(live_wal)
    assert before["-wal"] is not None  # the archive's latest page is only in the WAL
    result = run(live_wal, "query", sql.format(evil=evil), "--time-limit-ms", "200")
    assert result.exit_code == 2, result.output
    assert reason in result.output
    assert result.output.startswith("Error: ") and result.output.count("\n") == 1
    assert file_state(live_wal) == before
    assert not evil.exists()


def test_a_query_sees_what_is_only_in_the_wal(live_wal):
    before = file_state(live_wal)
    result = run(live_wal, "query", "SELECT text FROM posts WHERE post_id = '8'", "--format", "csv")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1] == "只在预写日志里的新帖子：图书馆周末延长开放。"
    assert file_state(live_wal) == before


def test_a_query_on_a_closed_archive_changes_no_byte_of_it(sample):
    before = file_state(sample)
    assert before["-wal"] is None  # the writer closed: everything is in the main file
    result = run(sample, "query", "SELECT count(*) FROM post_versions", "--format", "csv")
    assert result.output.splitlines() == ["count(*)", "9"]
    after = file_state(sample)
    # SQLite readers of a WAL archive share its -shm index and may leave an empty -wal.
    assert after["db"] == before["db"]
    assert after["-wal"] in (
        None,
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    )


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM posts",
        "WITH a AS (SELECT 1) DELETE FROM posts",
        "ATTACH DATABASE '{evil}' AS evil",
        "PRAGMA user_version = 99",
        "PRAGMA table_info(posts)",
        "SELECT load_extension('/tmp/evil.so')",
        "CREATE TEMP TABLE t (x)",
        "DROP VIEW current_posts",
    ],
)
def test_the_authorizer_alone_denies(sample, tmp_path, sql):
    """Without the statement check: the authorizer is a layer of its own."""
    evil = tmp_path / "evil.db"
    conn = connect_readonly(sample)
    guard = Authorizer()
    conn.set_authorizer(guard)
    with pytest.raises(sqlite3.DatabaseError):
        conn.execute(sql.format(evil=evil)).fetchall()
    assert guard.denied
    assert not evil.exists()
    conn.close()


def test_the_connection_limits_alone_deny_attach(sample, tmp_path):
    conn = connect_readonly(sample)
    limit_connection(conn)
    with pytest.raises(sqlite3.OperationalError, match="too many attached"):
        conn.execute("ATTACH DATABASE ? AS evil", [str(tmp_path / "evil.db")])
    assert not (tmp_path / "evil.db").exists()
    conn.close()


def test_the_read_only_connection_alone_refuses_writes(sample):
    conn = connect_readonly(sample)
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        conn.execute("DELETE FROM posts")
    conn.close()


def test_table_valued_pragmas_and_full_text_match_are_allowed(sample):
    conn = connect_readonly(sample)
    columns = run_query(conn, "SELECT name FROM pragma_table_info('posts') ORDER BY cid")
    assert [r[0] for r in columns.rows][:3] == ["id", "channel_id", "post_id"]
    hits = run_query(
        conn,
        "SELECT p.post_id FROM posts_fts JOIN posts p ON p.id = posts_fts.rowid"
        " WHERE posts_fts MATCH :q",
        {"q": '"南湖隧道"'},
    )
    assert hits.rows == [("7",)]
    plan = run_query(conn, "EXPLAIN QUERY PLAN SELECT * FROM posts WHERE url = 'x'")
    assert plan.rows
    conn.close()


def test_row_cap_truncates_and_says_so(sample):
    conn = connect_readonly(sample)
    result = run_query(conn, "SELECT id FROM post_versions ORDER BY id", max_rows=4)
    assert result.truncated and [r[0] for r in result.rows] == [1, 2, 3, 4]
    whole = run_query(conn, "SELECT id FROM post_versions", max_rows=9)
    assert not whole.truncated and len(whole.rows) == 9
    conn.close()
    cli_result = run(sample, "query", "SELECT id FROM post_versions", "--max-rows", "2")
    assert cli_result.exit_code == 0
    assert "truncated: showing the first 2 rows" in cli_result.output


def test_time_limit_stops_a_runaway_query(sample):
    conn = connect_readonly(sample)
    with pytest.raises(QueryTimeout):
        run_query(
            conn,
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT max(x) FROM c",
            time_limit_ms=50,
        )
    # The connection is usable again afterwards: the handler was removed.
    assert run_query(conn, "SELECT 1").rows == [(1,)]
    conn.close()


def test_bad_sql_and_missing_parameters_are_bad_input(sample):
    conn = connect_readonly(sample)
    with pytest.raises(BadQuery, match="no such table"):
        run_query(conn, "SELECT * FROM nope")
    with pytest.raises(BadQuery, match=":who"):
        run_query(conn, "SELECT :who")
    conn.close()
    result = run(sample, "query", "SELEC 1")
    assert result.exit_code == 2 and "SELEC" in result.output


def test_missing_archive_is_refused_and_not_created(tmp_path):
    missing = tmp_path / "none.db"
    result = run(missing, "query", "SELECT 1")
    assert result.exit_code == 2 and "no archive" in result.output
    assert not missing.exists()


@pytest.mark.parametrize(
    "sql",
    [
        "select 1;",
        "SELECT ';' AS semicolon -- trailing comment; DELETE",
        "/* lead */ WITH x AS (SELECT 1) SELECT * FROM x",
        'SELECT "a;b" FROM (SELECT 1 AS "a;b")',
        "with recursive c(n) as (select 1 union all select n + 1 from c where n < 3) select n from c",
    ],
)
def test_statement_check_accepts_ordinary_selects(sql):
    assert check_statement(sql).main == "SELECT"


def test_statement_check_never_trusts_the_tail():
    with pytest.raises(QueryRefused):
        check_statement("SELECT 1 /* ; */ ; DELETE FROM posts")
    with pytest.raises(QueryRefused):
        check_statement("")


def test_table_aligns_cjk_by_display_width():
    out = render_table(["频道", "text", "n"], [["新闻", "地铁3号线", 5], ["news", "ok", 12]])
    lines = out.splitlines()
    # The second column starts at the same terminal column on every line.
    starts = [display_width(line.split("  ")[0]) for line in lines]
    assert len(set(starts)) == 1
    assert display_width(lines[0]) <= max(display_width(line) for line in lines[2:])
    assert lines[2].endswith(" 5") and lines[3].endswith("12")  # numbers right-aligned
    assert display_width("地铁") == 4 and display_width("ab") == 2
    cut = render_table(["t"], [["长" * 100]], cell_width=10).splitlines()[2]
    assert display_width(cut) <= 10 and cut.endswith("…")
