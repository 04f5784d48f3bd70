"""The per-source book of a crawl of many sources: outstanding work, time limits, closing."""

from __future__ import annotations

from crawler.runs import SourceRuns


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
