"""The scheduler's tables, written through the store: ``sources``, ``notify_targets``, ``notifications``.

Each write is what the scheduler did with its own SQL before these
functions took it over: the same rows, the same columns left alone.
"""

from __future__ import annotations

from archive.store import begin_crawl, crawl_row, cut_crawl, open_archive
from archive.store.crawls import set_crawl_reason
from archive.store.notifications import (
    move_watermark,
    record_notification,
    set_notify_targets,
)
from archive.store.sources import (
    delete_source,
    save_sources,
    set_interval,
    set_next_runs,
    set_source_paused,
)

ROW = {
    "key": "@news",
    "kind": "telegram",
    "url": "https://t.me/s/news",
    "host": "t.me",
    "every_seconds": 600,
    "cron": None,
    "jitter": 0,
    "adaptive": 1,
    "min_seconds": 600,
    "max_seconds": 7200,
    "options": "{}",
    "time_limit": None,
}


def source(db, key: str = "@news") -> dict:
    cursor = db.execute("SELECT * FROM sources WHERE key = ?", [key])
    names = [d[0] for d in cursor.description]
    row = cursor.fetchone()
    return dict(zip(names, row, strict=True)) if row else None


def test_sources_rows_are_inserted_updated_paused_and_removed_as_the_scheduler_says(tmp_path):
    db = open_archive(tmp_path / "archive.db")
    seen = []

    def merge(old: dict, new: dict) -> dict:
        seen.append((old["key"], old["interval_seconds"]))
        return {**new, "interval_seconds": 5000}

    # New: inserted as given; left-out columns take their defaults (a new source is active).
    assert save_sources(db, [ROW], merge=merge) == 1
    new = source(db)
    assert {k: new[k] for k in ROW} == ROW
    assert new["paused"] == 0 and new["next_run_at"] is None and new["interval_seconds"] is None
    assert new["created_at"] == new["updated_at"]
    assert seen == []

    # Adaptive interval: its reason always, its time only when it moved.
    set_interval(db, "@news", 4000, "6 a day", changed=True)
    moved = source(db)
    assert (moved["interval_seconds"], moved["interval_reason"]) == (4000, "6 a day")
    assert moved["interval_changed_at"] > new["created_at"]
    assert moved["updated_at"] == new["updated_at"]  # not a change of the schedule
    set_interval(db, "@news", 4100, "still 6 a day", changed=False)
    kept = source(db)
    assert (kept["interval_seconds"], kept["interval_reason"]) == (4100, "still 6 a day")
    assert kept["interval_changed_at"] == moved["interval_changed_at"]

    # Existing: updated with what merge says, in one transaction with the other rows.
    other = {**ROW, "key": "https://example.org/", "kind": "url", "host": "example.org"}
    other["url"] = other["key"]
    assert save_sources(db, [{**ROW, "every_seconds": 900}, other], merge=merge) == 1
    assert seen == [("@news", 4100)]
    updated = source(db)
    assert (updated["every_seconds"], updated["interval_seconds"]) == (900, 5000)
    assert updated["created_at"] == new["created_at"]
    assert updated["updated_at"] > new["updated_at"]
    assert updated["interval_reason"] == "still 6 a day"  # merge left it alone

    # Pause and resume move updated_at (a running scheduler looks again).
    set_source_paused(db, "@news", True)
    paused = source(db)
    assert paused["paused"] == 1 and paused["updated_at"] > updated["updated_at"]
    set_source_paused(db, "@news", False)
    assert source(db)["paused"] == 0

    # Next runs: as planned, None when paused; unchanged ones are not written.
    set_next_runs(db, {"@news": "2030-01-01T00:00:00+00:00", "https://example.org/": None})
    assert source(db)["next_run_at"] == "2030-01-01T00:00:00+00:00"
    assert source(db, "https://example.org/")["next_run_at"] is None
    set_next_runs(db, {})

    # Removing a source removes where its changes were announced, nothing else.
    set_notify_targets(db, "@news", {"json://127.0.0.1:1/a": "json://127.0.0.1:1/a"})
    set_notify_targets(db, "https://example.org/", {"json://127.0.0.1:1/b": "json://…"})
    crawl_id = begin_crawl(db, "@news", trigger="scheduled")
    delete_source(db, "@news")
    assert source(db) is None
    assert db.execute("SELECT source FROM notify_targets").fetchall() == [("https://example.org/",)]
    assert crawl_row(db, crawl_id)["source"] == "@news"


def test_notify_targets_keep_a_watermark_that_only_a_sent_message_moves(tmp_path):
    db = open_archive(tmp_path / "archive.db")
    a, b, c = (f"json://127.0.0.1:1/{name}" for name in "abc")
    set_notify_targets(db, "@news", {a: "json://…/a", b: "json://…/b"})
    rows = db.execute(
        "SELECT url, shown, added_at, notified_until FROM notify_targets ORDER BY url"
    ).fetchall()
    assert [(url, shown) for url, shown, *_ in rows] == [(a, "json://…/a"), (b, "json://…/b")]
    start = rows[0][2]
    assert all(added == until == start for *_, added, until in rows)  # told from now on

    # Kept targets keep their watermark, new ones start now, others are dropped.
    set_notify_targets(db, "@news", {b: "json://…/b", c: "json://…/c"})
    marks = dict(db.execute("SELECT url, notified_until FROM notify_targets").fetchall())
    assert set(marks) == {b, c} and marks[b] == start and marks[c] > start

    def target(url: str) -> tuple:
        return db.execute(
            "SELECT notified_until, last_attempt_at, last_sent_at, failures, last_error"
            " FROM notify_targets WHERE url = ?",
            [url],
        ).fetchone()

    message = dict(source="@news", changes=2, title="2 new", body="…")
    t1, t2, t3 = (
        "2030-01-01T00:00:01+00:00",
        "2030-01-01T00:00:02+00:00",
        "2030-01-01T00:00:03+00:00",
    )
    record_notification(
        db, url=b, shown="json://…/b", attempted_at=t1, after=start, until=t1, error="HTTP 500",
        **message,
    )  # fmt: skip
    assert target(b) == (start, t1, None, 1, "HTTP 500")
    record_notification(
        db, url=b, shown="json://…/b", attempted_at=t2, after=start, until=t2, error=None, **message
    )
    assert target(b) == (t2, t2, t2, 0, None)
    # A message composed from an old watermark does not move it back.
    record_notification(
        db, url=b, shown="json://…/b", attempted_at=t3, after=start, until=t1, error=None, **message
    )
    assert target(b)[0] == t2
    assert db.execute(
        "SELECT target, attempted_at, status, changes, after, until, title, body, error"
        " FROM notifications ORDER BY id"
    ).fetchall() == [
        ("json://…/b", t1, "failed", 2, start, t1, "2 new", "…", "HTTP 500"),
        ("json://…/b", t2, "sent", 2, start, t2, "2 new", "…", None),
        ("json://…/b", t3, "sent", 2, start, t1, "2 new", "…", None),
    ]

    # Nothing to tell: the watermark moves on, from where it stood only.
    move_watermark(db, "@news", b, after=t2, until=t3)
    move_watermark(db, "@news", b, after=start, until=t1)
    assert target(b)[0] == t3
    assert db.execute("SELECT COUNT(*) FROM notifications").fetchone() == (3,)


def test_a_stopped_crawl_says_why_the_scheduler_stopped_it(tmp_path):
    db = open_archive(tmp_path / "archive.db")
    crawl_id = begin_crawl(db, "@news", trigger="scheduled")
    cut_crawl(db, crawl_id, "stopped: shutdown")
    set_crawl_reason(db, crawl_id, "stopped: the scheduler was stopped")
    row = crawl_row(db, crawl_id)
    assert (row["status"], row["reason"]) == ("failed", "stopped: the scheduler was stopped")
