"""The per-source book of a crawl of many sources: outstanding work, time limits, closing."""

from __future__ import annotations

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
