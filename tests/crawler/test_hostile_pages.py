"""Hostile pages crawled through the real command line never damage or poison the archive.

The archive first holds ``victim_news``, crawled from one server; a second
server (another origin) then serves each page of ``tests/hostile.py``.
After every case the archive passes ``PRAGMA integrity_check``, no version
of the victim's posts changed, what could not be read is recorded as an
error (the crawl is never "ok" then), and what could be read is kept.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from archive.source import is_channel_name, is_web_channel_name
from tests.conftest import start_site
from tests.crawling import FAST, crawl, query, run_cli
from tests.hostile import VICTIM
from tests.safety import integrity

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sites():
    victim, hostile = start_site(), start_site()
    victim.control("channel", name=VICTIM, posts=12)
    yield victim, hostile
    victim.stop()
    hostile.stop()


@pytest.fixture(scope="module")
def victim_archive(sites, tmp_path_factory) -> Path:
    victim, _ = sites
    db = tmp_path_factory.mktemp("victim") / "archive.db"
    done = crawl(db, f"{victim.url}/s/{VICTIM}", "--full")
    assert done.returncode == 0, done.stderr
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return db


@pytest.fixture
def archive(victim_archive, tmp_path) -> Path:
    db = tmp_path / "archive.db"
    shutil.copy(victim_archive, db)
    return db


def victim_rows(db: Path) -> list[tuple]:
    return query(
        db,
        "SELECT p.post_id, p.deleted_at, p.current_version, v.version, v.raw_text, v.source_url"
        " FROM posts p JOIN channels c ON c.id = p.channel_id JOIN post_versions v ON v.post = p.id"
        " WHERE c.name = ? ORDER BY p.post_num, v.version",
        [VICTIM],
    )


def last_crawl(db: Path) -> dict:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        row = dict(conn.execute("SELECT * FROM crawls ORDER BY id DESC LIMIT 1").fetchone())
        row["error_messages"] = [
            r[0]
            for r in conn.execute(
                "SELECT message FROM crawl_errors WHERE crawl_id = ? ORDER BY id", [row["id"]]
            )
        ]
        return row
    finally:
        conn.close()


def crawl_case(db: Path, hostile, name: str, *args: str) -> dict:
    before = victim_rows(db)
    done = crawl(db, f"{hostile.url}/hostile/{name}", "--max-pages", "1", *args)
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode in (0, 1), done.stderr
    assert integrity(db) == "ok"
    assert victim_rows(db) == before, "the victim's posts changed"
    return last_crawl(db)


def posts_of(db: Path, channel: str) -> dict[str, tuple]:
    return {
        row[0]: row[1:]
        for row in query(
            db,
            "SELECT p.post_id, p.text, p.views, p.published_at FROM posts p"
            " JOIN channels c ON c.id = p.channel_id WHERE c.name = ?",
            [channel],
        )
    }


@pytest.mark.parametrize("case", ["claim", "claim_range"])
def test_a_page_claiming_another_channel_writes_none_of_it(archive, sites, case):
    _, hostile = sites
    row = crawl_case(archive, hostile, case)
    assert row["status"] != "ok" and row["posts_new"] == row["posts_changed"] == 0
    assert any(VICTIM in m and "not written" in m for m in row["error_messages"])
    history = run_cli(archive, "history", f"{VICTIM}/3")
    assert history.returncode == 0 and "POISON" not in history.stdout


def test_a_message_of_another_channel_is_left_out_and_said(archive, sites):
    _, hostile = sites
    row = crawl_case(archive, hostile, "mixed")
    assert set(posts_of(archive, "mixed_chan")) == {"1"}
    assert row["status"] == "partial"
    assert any("another channel" in m for m in row["error_messages"])


@pytest.mark.parametrize("case", ["dotdot", "absolute", "slash", "no_header_dotdot", "script_name"])
def test_a_page_never_names_a_file_or_a_bad_channel(archive, sites, tmp_path, case):
    _, hostile = sites
    row = crawl_case(archive, hostile, case)
    assert row["status"] != "ok"
    names = [r[0] for r in query(archive, "SELECT name FROM channels")]
    assert all(is_channel_name(n) or is_web_channel_name(n) for n in names), names
    out = tmp_path / "feeds" / "sub"
    out.mkdir(parents=True)
    before = sorted(p for p in tmp_path.rglob("*") if p != archive and "feeds" not in p.parts)
    done = run_cli(archive, "export", "--format", "atom", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert {p.name for p in out.iterdir()} == {f"{n}.atom" for n in names}
    after = sorted(p for p in tmp_path.rglob("*") if p != archive and "feeds" not in p.parts)
    assert [p for p in after if not p.name.startswith("archive.db")] == [
        p for p in before if not p.name.startswith("archive.db")
    ]


def test_ids_no_int_can_hold_lose_only_themselves(archive, sites):
    _, hostile = sites
    row = crawl_case(archive, hostile, "big_id")
    assert set(posts_of(archive, "bigid_chan")) == {"1", "2"}
    assert row["status"] == "partial" and len(row["error_messages"]) == 2
    row = crawl_case(archive, hostile, "odd_ids")
    assert set(posts_of(archive, "oddid_chan")) == {"1", "3"}
    assert len(row["error_messages"]) == 5


def test_a_repeated_id_is_kept_once_and_makes_no_versions(archive, sites):
    _, hostile = sites
    for _ in range(2):
        crawl_case(archive, hostile, "duplicate_ids")
    rows = query(
        archive,
        "SELECT v.version, v.raw_text FROM post_versions v JOIN posts p ON p.id = v.post"
        " JOIN channels c ON c.id = p.channel_id WHERE c.name = 'dup_chan'",
    )
    assert rows == [(1, "first text")]


def test_counts_and_dates_out_of_range_are_left_empty(archive, sites):
    _, hostile = sites
    crawl_case(archive, hostile, "huge_counts")
    assert {views for _, views, _ in posts_of(archive, "counts_chan").values()} == {None}
    assert query(archive, "SELECT subscribers FROM channels WHERE name = 'counts_chan'") == [
        (None,)
    ]
    crawl_case(archive, hostile, "bad_dates")
    assert {when for *_, when in posts_of(archive, "dates_chan").values()} == {None}


@pytest.mark.parametrize(("case", "kept"), [("deep", {"1"}), ("huge_attribute", {"2"})])
def test_markup_beyond_the_parser_is_reported_never_silent(archive, sites, case, kept):
    _, hostile = sites
    row = crawl_case(archive, hostile, case)
    assert row["status"] == "partial", row
    channel = "deep_chan" if case == "deep" else "attr_chan"
    assert kept <= set(posts_of(archive, channel))
    assert row["error_messages"]


@pytest.mark.parametrize("content_type", ["text/html", "application/octet-stream", "image/png"])
def test_binary_bodies_make_no_post(archive, sites, content_type):
    _, hostile = sites
    count = query(archive, "SELECT COUNT(*) FROM posts")[0][0]
    done = crawl(archive, f"{hostile.url}/hostile/binary?ct={content_type}", "--max-pages", "1")
    assert "Traceback" not in done.stderr
    row = last_crawl(archive)
    assert row["status"] != "ok" and "not a page" in row["error_messages"][0]
    assert query(archive, "SELECT COUNT(*) FROM posts")[0][0] == count
    assert query(archive, "SELECT COUNT(*) FROM snapshots WHERE crawl_id = ?", [row["id"]]) == [
        (1,)
    ]


def test_a_utf16_preview_page_is_read_as_telegram(archive, sites):
    _, hostile = sites
    crawl_case(archive, hostile, "utf16")
    assert [t for t, *_ in posts_of(archive, "wide_chan").values()] == ["宽字符页面的第一条消息"]


def test_a_listing_of_thousands_keeps_a_bounded_number_and_says_so(archive, sites):
    _, hostile = sites
    row = crawl_case(archive, hostile, "huge_listing")
    host = hostile.url.split("//", 1)[1]
    assert len(posts_of(archive, host)) == 1000
    assert any("only the first 1000" in m for m in row["error_messages"])


def test_a_redirect_to_another_host_is_not_archived(archive, sites):
    victim, hostile = sites
    port = hostile.url.rsplit(":", 1)[1]
    target = f"http://localhost:{port}/hostile/claim"
    before = query(archive, "SELECT COUNT(*) FROM snapshots")[0][0]
    hostile.reset_stats()
    done = crawl(archive, f"{hostile.url}/redirect?to={target}", "--max-pages", "1", *FAST)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    row = last_crawl(archive)
    # Another origin on loopback: not even fetched.
    assert row["status"] == "failed" and row["error_messages"][0].startswith(
        f"refused: redirected to {target}, where localhost resolves to 127.0.0.1"
    )
    assert [path for _, path, _ in hostile.stats()] == ["/robots.txt", f"/redirect?to={target}"]
    # Allowed to reach it, the crawl fetches it and still keeps nothing of it.
    done = crawl(archive, f"{hostile.url}/redirect?to={target}", "--max-pages", "1",
                 "--allow-private-hosts", *FAST)  # fmt: skip
    assert done.returncode == 1 and "Traceback" not in done.stderr
    row = last_crawl(archive)
    assert row["status"] == "failed" and "another host" in row["error_messages"][0]
    assert query(archive, "SELECT COUNT(*) FROM snapshots")[0][0] == before
    assert integrity(archive) == "ok"
