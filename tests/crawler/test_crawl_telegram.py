"""End to end: the real CLI crawls the loopback test server into a real SQLite file."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
from datetime import datetime

import pytest

from archive.extract.telegram import parse_views
from chanarchive.demo.site import format_count
from tests.crawling import FAST, channel_requests, cli_argv, crawl, export, made_archive, query
from tests.helpers import summary

pytestmark = pytest.mark.slow


def served_views(site, name: str, post_id: int) -> int:
    channel = site.control("get", name=name)["channel"]
    return next(p["views"] for p in channel["posts"] if p["id"] == post_id)


def test_channel_archived_in_full_then_only_its_newest_page(site, tmp_path):
    db = tmp_path / "archive.db"
    site.control("channel", name="cityline", posts=50, page_size=20)
    url = f"{site.url}/s/cityline"

    first = crawl(db, url)
    assert summary(first) == (
        "crawled 3 pages, posts 50 new / 0 changed / 0 unchanged / 0 deleted,"
        " media 7 archived / 0 not archived, 0 errors (ok)"  # every 7th post has a photo
    )
    assert channel_requests(site, "cityline") == [
        "/s/cityline",
        "/s/cityline?before=31",
        "/s/cityline?before=11",
    ]
    records = {r["post_id"]: r for r in export(db)}
    assert sorted(records, key=int) == [str(i) for i in range(1, 51)]
    seven = records["7"]
    assert seven["channel"] == "cityline"
    assert seven["url"] == "https://t.me/cityline/7"
    assert seven["version"] == 1 and seven["edited"] is False and seven["deleted_at"] is None
    assert datetime.fromisoformat(seven["published_at"]).utcoffset() is not None
    assert "测试消息第7条" in seven["text"] and seven["raw_text"].startswith("Test post 7")
    assert isinstance(seven["views"], int) and seven["views"] > 0
    assert [m["type"] for m in seven["media"]] == ["photo"]  # every 7th post has a photo
    assert seven["source_url"].startswith(f"{site.url}/s/cityline")
    assert any(link.startswith("http") for link in records["10"]["links"])  # every 10th a URL
    views_before = records["50"]["views"]
    assert views_before == parse_views(format_count(served_views(site, "cityline", 50)))

    # The channel changes: an edit, a deletion, new posts, more views.
    site.control("edit", name="cityline", id=45, text="Test post 45 — 更正：地铁延长运营至午夜。")
    site.control("delete", name="cityline", id=48)
    assert site.control("add", name="cityline", count=3)["ids"] == [51, 52, 53]
    site.control("views", name="cityline", factor=2)
    site.reset_stats()

    second = crawl(db, url)
    # The newest page now shows 33..53 without 48: 3 new, 45 changed, 16 as they were.
    assert summary(second) == (
        "crawled 1 pages, posts 3 new / 1 changed / 16 unchanged / 1 deleted, 0 errors (ok)"
    )
    assert channel_requests(site, "cityline") == ["/s/cityline"]

    records = {r["post_id"]: r for r in export(db)}
    assert len(records) == 53
    assert records["45"]["version"] == 2 and records["45"]["edited"] is True
    assert "更正" in records["45"]["text"]
    assert records["48"]["deleted_at"] is not None and records["48"]["version"] == 1
    assert records["50"]["views"] == parse_views(format_count(served_views(site, "cityline", 50)))
    assert records["50"]["views"] > views_before
    assert all(records[str(i)]["version"] == 1 for i in range(1, 45))
    versions = [r for r in export(db, "--all-versions") if r["post_id"] == "45"]
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[0]["text"] != versions[1]["text"]
    # View counts are a time series, never a version.
    assert query(db, "SELECT COUNT(*) FROM post_versions")[0][0] == 54
    assert query(
        db, "SELECT COUNT(*) FROM post_views v JOIN posts p ON p.id = v.post WHERE p.post_id = '50'"
    ) == [(2,)]
    crawls = query(db, "SELECT status, pages, posts_new, posts_deleted FROM crawls ORDER BY id")
    assert crawls == [("ok", 3, 50, 0), ("ok", 1, 3, 1)]


def test_full_walks_the_whole_history_again(site, tmp_path):
    db = tmp_path / "archive.db"
    site.control("channel", name="fullwalk", posts=30, page_size=10)
    url = f"{site.url}/s/fullwalk"
    assert crawl(db, url).returncode == 0
    site.reset_stats()
    done = crawl(db, url, "--full")
    assert summary(done).startswith("crawled 3 pages, posts 0 new / 0 changed / 30 unchanged")
    assert len(channel_requests(site, "fullwalk")) == 3


def test_max_pages_bounds_a_crawl_and_the_next_one_fills_the_gap(site, tmp_path):
    db = tmp_path / "archive.db"
    site.control("channel", name="bounded", posts=50, page_size=20)
    url = f"{site.url}/s/bounded"
    assert summary(crawl(db, url, "--max-pages", "2")).startswith("crawled 2 pages, posts 40 new")
    site.reset_stats()
    # Incremental: the newest page is known, so it jumps straight to what is missing.
    assert summary(crawl(db, url)).startswith("crawled 2 pages, posts 10 new / 0 changed / 20")
    assert channel_requests(site, "bounded") == ["/s/bounded", "/s/bounded?before=11"]
    assert query(db, "SELECT COUNT(*) FROM posts")[0][0] == 50


def test_throttled_empty_page_is_retried_not_taken_as_the_end(site, tmp_path):
    db = tmp_path / "archive.db"
    site.control("channel", name="throttled", posts=45, page_size=20)
    site.control("throttle", name="throttled", count=2)
    done = crawl(db, f"{site.url}/s/throttled")
    assert summary(done).startswith("crawled 3 pages, posts 45 new")
    assert channel_requests(site, "throttled")[:3] == ["/s/throttled"] * 3


def test_throttling_that_never_ends_fails_the_crawl_and_the_next_resumes(site, tmp_path):
    db = tmp_path / "archive.db"
    site.control("channel", name="stubborn", posts=45, page_size=20)
    url = f"{site.url}/s/stubborn"
    assert crawl(db, url, "--max-pages", "1").returncode == 0
    site.control("throttle", name="stubborn", count=100)
    done = crawl(db, url, "--full", "-s", "TELEGRAM_THROTTLE_RETRIES=1")
    # Its first page never showed a message: the channel could not be read this time.
    assert done.returncode == 1, done.stderr
    assert done.stdout.strip().endswith("1 errors (failed)")
    (reason,) = query(db, "SELECT reason FROM crawls ORDER BY id DESC LIMIT 1")[0]
    assert reason.startswith("throttled:")
    # Nothing was taken for deleted, and the next crawl completes the history.
    assert query(db, "SELECT COUNT(*) FROM posts WHERE deleted_at IS NOT NULL") == [(0,)]
    site.control("throttle", name="stubborn", count=0)
    assert summary(crawl(db, url)).startswith("crawled 3 pages, posts 25 new / 0 changed / 20")


def test_missing_older_link_continues_from_the_lowest_id(site, tmp_path):
    db = tmp_path / "archive.db"
    site.control("channel", name="nolink", posts=45, page_size=20)
    site.control("drop_more", name="nolink", count=5)
    assert summary(crawl(db, f"{site.url}/s/nolink")).startswith("crawled 3 pages, posts 45 new")


def test_preview_markup_is_recognised_on_any_host_and_url(site, tmp_path):
    db = tmp_path / "archive.db"
    done = crawl(db, f"{site.url}/static/telegram/zh_channel_local.html")
    # The static copy ignores ?before=: the walk notices and stops instead of looping.
    assert summary(done).startswith("crawled 2 pages")
    assert query(db, "SELECT name, kind FROM channels") == [("shanhai_notes", "telegram")]
    assert query(db, "SELECT MIN(post_num), MAX(post_num) FROM posts") == [(201, 205)]


def test_retry_after_is_honoured(site, tmp_path):
    db = tmp_path / "archive.db"
    done = crawl(db, f"{site.url}/retry-after/slow?n=1&after=2")
    assert summary(done).startswith("crawled 1 pages")
    statuses = [status for _m, path, status in site.stats() if path.startswith("/retry-after/")]
    assert statuses == [429, 200]
    started, finished = query(db, "SELECT started_at, finished_at FROM crawls")[0]
    waited = datetime.fromisoformat(finished) - datetime.fromisoformat(started)
    assert waited.total_seconds() >= 2  # the host was paused for Retry-After


def test_every_fetch_failing_exits_1_with_the_reason_kept(site, tmp_path):
    db = made_archive(tmp_path / "archive.db")
    done = crawl(db, f"{site.url}/status/503", "-s", "RETRY_TIMES=1")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1].startswith("Error: every fetch failed:")
    assert "HTTP 503" in done.stderr
    assert query(db, "SELECT status, errors, reason FROM crawls") == [
        ("failed", 1, f"http: HTTP 503 ({site.url}/status/503)")
    ]
    assert [s for _m, p, s in site.stats() if p == "/status/503"] == [503, 503]


def test_unreachable_host_fails_cleanly(tmp_path):
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    db = made_archive(tmp_path / "archive.db")
    done = crawl(db, f"http://127.0.0.1:{port}/s/nobody", "-s", "RETRY_TIMES=0")
    assert done.returncode == 1
    (status, reason) = query(db, "SELECT status, reason FROM crawls")[0]
    assert status == "failed" and reason.startswith("fetch:")


def test_garbage_page_is_kept_and_the_crawl_goes_on(site, tmp_path):
    db = tmp_path / "archive.db"
    done = crawl(db, f"{site.url}/garbage")
    assert done.returncode == 0, done.stderr
    assert query(db, "SELECT http_status, content_sha256 IS NOT NULL FROM snapshots") == [(200, 1)]
    assert query(db, "PRAGMA integrity_check") == [("ok",)]


def test_bad_source_is_refused_and_nothing_is_written(tmp_path):
    db = tmp_path / "archive.db"
    done = crawl(db, "durov")
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "Error: unknown source 'durov': give @name, t.me/name, https://t.me/s/name or an http(s) URL"
    )
    assert not db.exists()


def test_killed_crawl_leaves_a_sound_archive_that_the_next_crawl_completes(site, tmp_path):
    db = tmp_path / "archive.db"
    site.control("channel", name="killme", posts=400, page_size=20)
    url = f"{site.url}/s/killme"
    proc = subprocess.Popen(
        cli_argv(db, "crawl", url, "-s", "DOWNLOAD_DELAY=0.25"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        pages = 0
        while pages < 4 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
            if db.exists():
                try:
                    pages = query(db, "SELECT COUNT(*) FROM snapshots")[0][0]
                except sqlite3.OperationalError:
                    pages = 0  # the schema is being created
        assert pages >= 4 and proc.poll() is None, "the crawl ended before it could be killed"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()

    assert query(db, "PRAGMA integrity_check") == [("ok",)]
    kept = query(db, "SELECT COUNT(*) FROM posts")[0][0]
    # Whole pages only: one transaction per page.
    assert kept % 20 == 0 and kept == 20 * query(db, "SELECT COUNT(*) FROM snapshots")[0][0]
    assert query(db, "SELECT status FROM crawls") == [("running",)]

    done = crawl(db, url)
    assert done.returncode == 0, done.stderr
    assert query(db, "SELECT COUNT(*), COUNT(DISTINCT post_id) FROM posts") == [(400, 400)]
    assert query(db, "SELECT COUNT(*) FROM post_versions") == [(400,)]
    assert query(db, "SELECT status, reason FROM crawls ORDER BY id") == [
        ("failed", "interrupted: the crawl process ended"),
        ("ok", None),
    ]
    assert query(db, "SELECT lo, hi FROM coverage") == [(1, 400)]


@pytest.mark.parametrize(
    "path, settings, kind, message",
    [
        ("/private/page", [], "robots", "Forbidden by robots.txt"),
        ("/delay?s=5", ["-s", "DOWNLOAD_TIMEOUT=1", "-s", "RETRY_TIMES=0"], "fetch", "timed out ("),
        ("/drop", ["-s", "RETRY_TIMES=0"], "fetch", "connection lost"),
        ("/big?mb=2", ["-s", "DOWNLOAD_MAXSIZE=1000000"], "fetch", "too large: "),
    ],
    ids=["robots", "timeout", "dropped", "too-big"],
)
def test_fetch_faults_are_recorded_with_their_reason(site, tmp_path, path, settings, kind, message):
    db = made_archive(tmp_path / "archive.db")
    done = crawl(db, f"{site.url}{path}", *settings)
    assert done.returncode == 1, done.stderr
    (status, reason) = query(db, "SELECT status, reason FROM crawls")[0]
    assert status == "failed"
    errors = query(db, "SELECT kind, message FROM crawl_errors")
    assert len(errors) == 1 and errors[0][0] == kind and errors[0][1].startswith(message), errors
    assert reason.startswith(f"{kind}:")
    assert query(db, "PRAGMA integrity_check") == [("ok",)]


def test_two_crawls_write_one_archive_at_once(site, tmp_path):
    db = tmp_path / "archive.db"
    for name in ("left", "right"):
        site.control("channel", name=name, posts=120, page_size=10)
    procs = [
        subprocess.Popen(
            cli_argv(db, "crawl", f"{site.url}/s/{name}", *FAST),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("left", "right")
    ]
    outputs = [proc.communicate(timeout=120) for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], outputs
    assert query(db, "SELECT ch.name, COUNT(*) FROM posts p JOIN channels ch ON ch.id = p.channel_id"
                     " GROUP BY ch.name ORDER BY ch.name") == [("left", 120), ("right", 120)]  # fmt: skip
    assert query(db, "SELECT status, pages FROM crawls") == [("ok", 12), ("ok", 12)]
    assert query(db, "PRAGMA integrity_check") == [("ok",)]


def test_the_start_once_reached_is_never_probed_again(site, tmp_path):
    """A channel whose first posts are gone, and whose empty page below them is Telegram's
    "no messages" answer: the start is proved once, remembered, and never probed again."""
    db = tmp_path / "archive.db"
    site.control("channel", name="from_five", posts=60, page_size=20)
    for post_id in range(1, 5):
        site.control("delete", name="from_five", id=post_id)
    site.control("start", name="from_five", case="throttled")
    site.control("drop_more", name="from_five", count=2)  # under load: full pages lose the link
    url = f"{site.url}/s/from_five"
    done = crawl(db, url, "--full", "-s", "TELEGRAM_THROTTLE_RETRIES=1")
    assert done.stdout.strip().endswith("0 errors (ok)"), done.stdout
    assert query(db, "SELECT lo, hi FROM coverage") == [(1, 60)]
    assert query(db, "SELECT COUNT(*) FROM posts") == [(56,)]
    site.reset_stats()
    assert summary(crawl(db, url)).startswith("crawled 1 pages, posts 0 new")
    assert channel_requests(site, "from_five") == ["/s/from_five"]


def test_since_stops_the_walk_at_the_first_page_older_than_asked(site, tmp_path):
    db = tmp_path / "archive.db"
    site.control("channel", name="recent_only", posts=100, page_size=20)  # post N: N hours in
    url = f"{site.url}/s/recent_only"
    done = crawl(db, url, "--full", "--since", "2026-01-03T09:00:00+00:00")  # post 48's time
    assert summary(done).startswith("crawled 3 pages, posts 60 new")  # 41..100: whole pages
    assert channel_requests(site, "recent_only") == [
        "/s/recent_only",
        "/s/recent_only?before=81",
        "/s/recent_only?before=61",
    ]
    recorded = query(db, "SELECT json_extract(options, '$.since') FROM crawls")
    assert recorded == [("2026-01-03T09:00:00.000000+00:00",)]
    bad = crawl(db, url, "--since", "last tuesday")
    assert bad.returncode == 2 and "bad since 'last tuesday'" in bad.stderr
