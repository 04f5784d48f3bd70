"""Adaptive recrawl: the interval follows how often the channel posts, within the user's bounds."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

from archive.store import begin_crawl, finish_crawl, open_archive, write_transaction
from archive.store.sources import set_interval
from chanarchive.cli import cli
from crawler.downloadermiddlewares.backoff import SharedBackoff
from scheduler.batches.planning import host_backoff
from scheduler.sources import adaptive
from scheduler.sources.scheduled import Adaptive

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def archive_with_posts(path: Path, key: str, times: list[datetime], *, dated: bool = True):
    """An archive where source ``key`` crawled a channel whose posts appeared at ``times``."""
    db = open_archive(path)
    with write_transaction(db):
        channel_id = db.execute(
            "INSERT INTO channels (name, kind, first_seen) VALUES (?, 'telegram', ?)",
            [key.lstrip("@"), (NOW - timedelta(days=90)).isoformat()],
        ).lastrowid
        for number, when in enumerate(times, 1):
            db.execute(
                "INSERT INTO posts (channel_id, post_id, post_num, published_at, first_seen)"
                " VALUES (?, ?, ?, ?, ?)",
                [channel_id, str(number), number, when.isoformat() if dated else None,
                 when.isoformat()],
            )  # fmt: skip
    crawl_id = begin_crawl(db, key, channel_id=channel_id, trigger="scheduled")
    finish_crawl(db, crawl_id, status="ok")
    # The first crawl finished before the posts here were first seen.
    db.execute(
        "UPDATE crawls SET finished_at = ? WHERE id = ?",
        [(NOW - timedelta(days=60)).isoformat(), crawl_id],
    )
    return db


def test_a_busy_channel_is_crawled_often_enough_to_see_about_ten_posts_a_crawl(tmp_path):
    # 48 posts, one every 10 minutes, over the last 8 hours: 6 posts an hour.
    times = [NOW - timedelta(minutes=10 * i) for i in range(48)]
    db = archive_with_posts(tmp_path / "a.db", "@busy", times)
    got = adaptive.suggest_interval(db, "@busy", Adaptive(600, 86400), now=NOW)
    assert got.posts == 48
    assert 6000 <= got.seconds <= 6200  # 10 posts at 6 an hour: about 100 minutes
    assert "48 posts (published)" in got.reason
    assert "every 1h4" in got.reason


def test_bounds_hold_both_ways(tmp_path):
    burst = [NOW - timedelta(minutes=i) for i in range(50)]  # 50 posts in the last hour
    db = archive_with_posts(tmp_path / "a.db", "@burst", burst)
    fast = adaptive.suggest_interval(db, "@burst", Adaptive(1200, 86400), now=NOW)
    assert fast.seconds == 1200
    assert "kept within bounds 20m..1d: every 20m" in fast.reason

    quiet = [NOW - timedelta(days=12), NOW - timedelta(days=25)]
    db = archive_with_posts(tmp_path / "b.db", "@quiet", quiet)
    slow = adaptive.suggest_interval(db, "@quiet", Adaptive(600, 3 * 86400), now=NOW)
    assert slow.seconds == 3 * 86400
    assert "kept within bounds 10m..3d" in slow.reason

    silent = [NOW - timedelta(days=200)]
    db = archive_with_posts(tmp_path / "c.db", "@silent", silent)
    none = adaptive.suggest_interval(db, "@silent", Adaptive(600, 7200), now=NOW)
    assert none.seconds == 7200
    assert none.reason.startswith("no posts in the last 30 days")


def test_undated_posts_use_first_seen_after_the_first_crawl(tmp_path):
    times = [NOW - timedelta(hours=2 * i) for i in range(12)]  # one every 2 h: 12 a day
    db = archive_with_posts(tmp_path / "a.db", "http://mirror.example/c", times, dated=False)
    got = adaptive.suggest_interval(db, "http://mirror.example/c", Adaptive(60, 86400), now=NOW)
    assert "(first seen)" in got.reason
    assert 18 * 3600 <= got.seconds <= 20 * 3600  # 10 posts at ~0.5 an hour


def test_no_channel_no_suggestion(tmp_path):
    db = open_archive(tmp_path / "a.db")
    assert adaptive.suggest_interval(db, "@never", Adaptive(), now=NOW) is None


def test_small_changes_are_not_worth_a_reschedule():
    assert adaptive.worth_changing(None, 600)
    assert not adaptive.worth_changing(6000, 6300)
    assert adaptive.worth_changing(6000, 9000)


def test_list_says_why_an_adaptive_interval_is_what_it_is(tmp_path):
    db_path = tmp_path / "a.db"
    runner = CliRunner()
    added = runner.invoke(
        cli, ["--db", str(db_path), "sources", "add", "@busy", "--adaptive", "--max", "12h"]
    )
    assert added.output == "scheduled @busy: every 1h (adaptive 10m..12h)\n"
    db = open_archive(db_path)
    set_interval(db, "@busy", 6000, "6 a day: every 1h40m", changed=True)
    db.close()
    listed = runner.invoke(cli, ["--db", str(db_path), "sources", "list"]).output
    assert "every 1h40m (adaptive 10m..12h)" in listed
    assert "@busy: 6 a day: every 1h40m" in listed
    [record] = json.loads(
        runner.invoke(cli, ["--db", str(db_path), "sources", "list", "--format", "json"]).output
    )
    assert record["every_seconds"] == 6000
    assert record["interval_reason"] == "6 a day: every 1h40m"
    # Re-adding with narrower bounds keeps the learned interval, brought within them.
    runner.invoke(cli, ["--db", str(db_path), "sources", "add", "@busy", "--adaptive",
                        "--max", "1h"])  # fmt: skip
    [record] = json.loads(
        runner.invoke(cli, ["--db", str(db_path), "sources", "list", "--format", "json"]).output
    )
    assert record["every_seconds"] == 3600


def test_a_429_backoff_is_shared_through_the_archive(tmp_path):
    db_path = tmp_path / "a.db"
    db = open_archive(db_path)
    shared = SharedBackoff(str(db_path))
    shared.save("example.org", 30, "HTTP 429, Retry-After")
    shared.save("example.org", 5, "HTTP 429")  # a shorter pause never shortens a longer one
    left, why = shared.load("example.org")
    assert 25 < left <= 30
    assert why == "HTTP 429, Retry-After"
    assert host_backoff(db, "example.org")[1] == "HTTP 429, Retry-After"
    assert shared.load("other.org") is None
    assert host_backoff(db, "example.org", now=datetime.now(UTC) + timedelta(minutes=1)) is None
    shared.close()
