"""The per-source book of a crawl of many sources: outstanding work, time limits, closing."""

from __future__ import annotations

import socket

from crawler.state import SourceRuns


def test_a_source_is_idle_when_its_last_request_or_item_is_done():
    runs = SourceRuns({"@a": 1, "@b": 2})
    runs.hold("@a")  # its start request
    runs.hold("@a")  # the page item its callback yields
    assert runs.release("@a") is False  # the callback ended; its item is not written yet
    assert runs.release("@a") is True  # now nothing of @a is outstanding
    assert runs.crawl_id("@a") == 1 and runs.is_open("@a")
    assert runs.close("@a") == (True, 1)
    assert runs.close("@a") == (False, 1)  # closed once only
    runs.hold("@a")
    assert runs.release("@a") is False  # a closed source is never idle again
    assert runs.open_sources() == ["@b"]
    assert runs.is_open("@unknown")  # a source without a run (no crawl row) is not cut off


def test_a_time_limit_counts_from_the_first_request():
    runs = SourceRuns({"@a": 1, "@b": 2}, {"@a": 30})
    assert runs.time_left("@a", now=100.0) is None  # not started: its clock is not running
    assert runs.start("@a", now=100.0) is True
    assert runs.start("@a", now=105.0) is False
    assert runs.time_left("@a", now=110.0) == 20.0
    assert runs.time_limit("@a") == 30.0
    runs.start("@b", now=100.0)
    assert runs.time_left("@b", now=1e9) is None  # no limit


def test_rows_left_open_say_how_the_crawl_ended(tmp_path):
    from archive import store
    from crawler.local import close_runs

    db = store.open_archive(tmp_path / "archive.db")
    ended = {}
    for reason in ("finished", "shutdown", None):
        crawl_ids = {key: store.begin_crawl(db, key) for key in ("@done", "@open")}
        runs = SourceRuns(crawl_ids)
        runs.close("@done")  # closed as it ended, by the crawl itself
        store.finish_crawl(db, crawl_ids["@done"], status="ok")
        rows = close_runs(db, runs, crawl_ids, reason)
        ended[reason] = {row["source"]: (row["status"], row["reason"]) for row in rows}
    assert ended["finished"] == {"@done": ("ok", None), "@open": ("failed", "no page was fetched")}
    assert ended["shutdown"]["@open"] == ("failed", "stopped: shutdown")
    # Stopped before the spider ran (a SIGTERM while Scrapy started): stopped, not "no page".
    assert ended[None]["@open"] == ("failed", "stopped: before the crawl began")
    assert all(row["@done"] == ("ok", None) for row in ended.values())
    db.close()


def test_a_refusal_stops_every_run_and_no_source_is_idle_any_more():
    runs = SourceRuns({"@a": 1, "@b": 2})
    runs.hold("@a")
    assert runs.fail("the archive cannot be written: database or disk is full (a.db)") is True
    assert runs.fail("a later reason") is False  # the first is kept
    assert runs.fault.endswith("full (a.db)")
    assert not runs.is_open("@a") and not runs.is_open("@b") and not runs.is_open("@other")
    assert runs.release("@a") is False  # not idle: its row is closed at the end, as cut short


def test_rows_of_a_crawl_the_archive_stopped_are_cut_short_with_its_reason(tmp_path):
    from archive import store
    from crawler.local import close_runs

    db = store.open_archive(tmp_path / "archive.db")
    ids = {key: store.begin_crawl(db, key) for key in ("@done", "@paged", "@none")}
    store.finish_crawl(db, ids["@done"], status="ok")  # closed as it ended, before the refusal
    db.execute("UPDATE crawls SET pages = 1 WHERE id = ?", [ids["@paged"]])
    runs = SourceRuns(ids)
    runs.close("@done")
    reason = "the archive cannot be written: database or disk is full (archive.db)"
    runs.fail(reason)
    rows = close_runs(db, runs, ids, "archive_refused", pause=0)
    assert [(r["source"], r["status"], r["reason"]) for r in rows] == [
        ("@done", "ok", None),
        ("@paged", "partial", reason),
        ("@none", "failed", reason),
    ]
    db.close()


def test_a_row_the_archive_refuses_to_close_is_tried_again_a_moment_later(tmp_path, monkeypatch):
    from archive import store
    from crawler import local

    db = store.open_archive(tmp_path / "archive.db")
    ids = {"@a": store.begin_crawl(db, "@a")}
    db.execute("PRAGMA query_only = ON")  # every write refused: "attempt to write a readonly ..."
    waited = []

    def room_again(seconds):  # the pause before the second try: space is back meanwhile
        waited.append(seconds)
        db.execute("PRAGMA query_only = OFF")

    monkeypatch.setattr(local.time, "sleep", room_again)
    runs = SourceRuns(ids)
    [row] = local.close_runs(db, runs, ids, "finished", path="archive.db", pause=0.5)
    assert waited == [0.5]
    assert (row["status"], row["reason"]) == ("failed", "no page was fetched")  # as it would be
    assert runs.fault is None  # the refusal did not last: nothing to say
    db.close()


def test_a_row_the_archive_still_refuses_is_left_running_and_said_so(tmp_path, monkeypatch):
    from archive import store
    from crawler import local

    path = tmp_path / "archive.db"
    db = store.open_archive(path)
    ids = {"@a": store.begin_crawl(db, "@a"), "@b": store.begin_crawl(db, "@b")}
    db.execute("PRAGMA query_only = ON")
    monkeypatch.setattr(local.time, "sleep", lambda seconds: None)
    runs = SourceRuns(ids)
    runs.fail(f"the archive cannot be written: disk I/O error ({path})")
    rows = local.close_runs(db, runs, ids, "archive_refused", path=path)
    assert [row["status"] for row in rows] == ["running", "running"]
    line = local.stopped_line(runs.fault, True, rows, len(ids))
    assert line == (
        f"the archive cannot be written: disk I/O error ({path}): the crawl stopped;"
        " 2 of its crawl rows could not be closed (left running: the next crawl marks them failed)"
    )
    db.close()
    # The next crawl (another process: this one's rows name a process that is gone) does.
    db = store.open_archive(path)
    db.execute("UPDATE crawls SET worker = ?", [f"999999999@{socket.gethostname()}"])
    assert store.reap_interrupted_crawls(db) == 2
    assert {(r[0], r[1]) for r in db.execute("SELECT status, reason FROM crawls")} == {
        ("failed", "interrupted: the crawl process ended")
    }
    db.close()
