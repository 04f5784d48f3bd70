"""One source through every path a crawl can take, without options: the same effective options.

The options are one type (:class:`crawler.options.CrawlOptions`) with its
defaults written once; each path (a local crawl, a scheduled batch crawled
here, a scheduled batch queued for workers, ``crawl --redis``) carries them
its own way, and every crawl row records the options the crawl ran with.
"""

from __future__ import annotations

import json

import pytest

from crawler.options import CrawlOptions
from tests.cluster import Cluster
from tests.crawling import query, run_cli

pytestmark = pytest.mark.slow


def test_every_path_records_the_same_default_options(site, tmp_path, redis_url):
    for name in ("by_hand", "on_time", "queued_on_time", "queued_by_hand"):
        site.control("channel", name=name, posts=10, page_size=20)
    cluster = Cluster(tmp_path / "archive.db", redis_url)
    db = cluster.db
    try:
        done = run_cli(db, "crawl", f"{site.url}/s/by_hand")
        assert done.returncode == 0, done.stderr
        assert (
            run_cli(db, "sources", "add", f"{site.url}/s/on_time", "--every", "1h").returncode == 0
        )
        done = run_cli(db, "scheduler", "run", "--once")
        assert done.returncode == 0, done.stderr
        added = run_cli(db, "sources", "add", f"{site.url}/s/queued_on_time", "--every", "1h")
        assert added.returncode == 0, added.stderr
        cluster.ingester()
        cluster.worker()
        done = run_cli(db, "scheduler", "run", "--once", "--redis", redis_url)
        assert done.returncode == 0, done.stderr
        done = run_cli(db, "crawl", f"{site.url}/s/queued_by_hand", "--redis", redis_url)
        assert done.returncode == 0, done.stderr
    finally:
        cluster.stop()
    rows = query(db, "SELECT source, trigger, status, options FROM crawls ORDER BY id")
    assert [(source.rsplit("/", 1)[1], trigger, status) for source, trigger, status, _ in rows] == [
        ("by_hand", "manual", "ok"),
        ("on_time", "scheduled", "ok"),
        ("queued_on_time", "scheduled", "ok"),
        ("queued_by_hand", "manual", "ok"),
    ]
    defaults = CrawlOptions().to_record()
    assert defaults["media"] == "photos" and defaults["depth"] == 1  # written once, in the type
    for source, _trigger, _status, options in rows:
        assert json.loads(options) == defaults, source
