"""A crawl told to stop (SIGTERM, SIGINT) is gone within seconds, whatever its delays.

Each crawl here waits 20 s between two requests to its host (``DOWNLOAD_DELAY=20``), or
has a page in flight that the host answers only after 30 s; Scrapy's own graceful stop
waited for both. The process must end within :data:`STOP_BOUND` seconds of the signal
(the goal is 5 s; the bound leaves room for a loaded machine), with what it had
fetched written and its rows closed as stopped. The measured times are recorded as the
tests' ``stop_seconds`` property (``pytest --junitxml``) and printed (``pytest -s``).
"""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest

from archive.store import begin_crawls, open_archive
from crawler.options import CrawlOptions
from scheduler.batches.processes import CrawlProcess
from tests.cluster import Cluster
from tests.crawling import channel_requests, cli_argv, query

pytestmark = pytest.mark.slow

#: Seconds a stopped crawl may take to end: the goal is 5.
STOP_BOUND = 8.0
#: The politeness of these crawls: 20 s between two requests to the host, and no robots.txt
#: first, so the newest page comes at once and the next one is 20 s away.
SLOW = ["-s", "DOWNLOAD_DELAY=20", "-s", "ROBOTSTXT_OBEY=False", "-s", "BACKOFF_BASE=0.05"]
#: The newest page of the test channel shows posts 181..200.
FIRST_PAGE_POSTS = 20


def wait_until(condition, what: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert proc.poll() is None, f"the process ended before {what}"
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.05)


def pages_written(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        return query(db, "SELECT COALESCE(SUM(pages), 0) FROM crawls")[0][0]
    except Exception:  # the archive is being made
        return 0


def stop_and_time(proc: subprocess.Popen, signum: int, record_property, what: str) -> float:
    """Send ``signum``; the seconds until the process is gone (recorded and printed)."""
    started = time.monotonic()
    proc.send_signal(signum)
    try:
        proc.wait(timeout=120)
    finally:
        took = time.monotonic() - started
        record_property("stop_seconds", round(took, 2))
        print(f"{what}: {signal.Signals(signum).name} -> gone in {took:.2f} s")
    return took


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_crawl_with_a_long_delay_stops_at_once(site, tmp_path, signum, record_property):
    db = tmp_path / "archive.db"
    site.control("channel", name="patient", posts=200, page_size=20)
    argv = cli_argv(db, "crawl", f"{site.url}/s/patient", "--full", *SLOW)
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # The newest page is written; the next one (and the page's photos) wait out the delay.
    wait_until(lambda: pages_written(db) >= 1, "the newest page is written", proc)
    time.sleep(0.5)

    took = stop_and_time(proc, signum, record_property, "crawl, DOWNLOAD_DELAY=20")
    out, err = proc.communicate()
    assert took < STOP_BOUND, err
    # As before: a crawl stopped after it archived pages is partial, and exits 0.
    assert proc.returncode == 0, err
    assert out.strip().endswith("0 errors (partial)"), out
    assert query(db, "SELECT status, reason, pages, errors FROM crawls") == [
        ("partial", "stopped: shutdown", 1, 0)
    ]
    assert query(db, "SELECT COUNT(*) FROM posts") == [(FIRST_PAGE_POSTS,)]
    assert channel_requests(site, "patient") == ["/s/patient"]  # nothing asked after the stop
    assert "Traceback" not in err, err


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_crawl_with_a_page_in_flight_stops_at_once(site, tmp_path, signum, record_property):
    db = tmp_path / "archive.db"
    site.control("channel", name="sluggish", posts=200, page_size=20)
    argv = cli_argv(
        db, "crawl", f"{site.url}/s/sluggish", "--full", "--media", "none",
        "-s", "DOWNLOAD_DELAY=3", "-s", "ROBOTSTXT_OBEY=False",
    )  # fmt: skip
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_until(lambda: pages_written(db) >= 1, "the newest page is written", proc)
    # From now on the host answers a page after 30 s; the next page goes out within 4.5 s
    # of the first (the delay, give or take half), and is in flight when the signal comes.
    site.control("latency", name="sluggish", seconds=30)
    time.sleep(6)

    took = stop_and_time(proc, signum, record_property, "crawl, a page in flight for 30 s")
    out, err = proc.communicate()
    assert took < STOP_BOUND, err
    assert proc.returncode == 0, err
    assert query(db, "SELECT status, reason, pages, errors FROM crawls") == [
        ("partial", "stopped: shutdown", 1, 0)
    ]
    assert query(db, "SELECT COUNT(*) FROM posts") == [(FIRST_PAGE_POSTS,)]
    assert "Traceback" not in err, err


def test_a_batch_crawl_process_stops_at_once_on_the_schedulers_sigterm(
    site, tmp_path, record_property
):
    """``python -m crawler.batch``, stopped as the scheduler stops it (SIGTERM, then SIGKILL
    after the grace): it ends by itself, its rows closed as stopped."""
    db = tmp_path / "archive.db"
    site.control("channel", name="batched", posts=200, page_size=20)
    source = f"{site.url}/s/batched"
    archive = open_archive(db)
    crawl_ids = begin_crawls(archive, [source], trigger="scheduled")
    archive.close()
    options = CrawlOptions.from_record(
        {"full": True, "settings": {"DOWNLOAD_DELAY": "20", "ROBOTSTXT_OBEY": "False"}}
    )
    child = CrawlProcess()
    try:
        assert child.hand(
            {"db": str(db), "crawl_ids": crawl_ids, "time_limits": {},
             "options": options.to_record()}
        )  # fmt: skip
        wait_until(lambda: pages_written(db) >= 1, "the newest page is written", child.proc)
        time.sleep(0.5)
        started = time.monotonic()
        child.stop(grace=30)  # SIGTERM; SIGKILL only after 30 s
        took = time.monotonic() - started
        record_property("stop_seconds", round(took, 2))
        print(f"batch crawl process, DOWNLOAD_DELAY=20: SIGTERM -> gone in {took:.2f} s")
        assert took < STOP_BOUND, child.last_line()
        assert child.returncode() == 0, child.last_line()  # ended by itself, not killed
    finally:
        child.close()
    assert query(db, "SELECT status, reason, pages FROM crawls") == [
        ("partial", "stopped: shutdown", 1)
    ]
    assert query(db, "SELECT COUNT(*) FROM posts") == [(FIRST_PAGE_POSTS,)]


@pytest.fixture
def cluster(tmp_path, redis_url):
    cluster = Cluster(tmp_path / "distributed.db", redis_url)
    yield cluster
    cluster.stop()


def test_a_worker_stops_at_once_and_hands_its_leases_back(site, cluster, record_property):
    site.control("channel", name="shared", posts=200, page_size=20)
    ingester = cluster.ingester()
    # 20 s between two requests to the host, across workers (the cluster's politeness).
    slow = cluster.worker("-v", "-s", "DOWNLOAD_DELAY=20", "-s", "ROBOTSTXT_OBEY=False")
    waiting = cluster.crawl(f"{site.url}/s/shared", "--full")
    cluster.wait_for_pages(1, waiting)
    # The next page is leased to the worker, and waits for the host's next turn.
    wait_until(lambda: cluster.worker_leases(slow) >= 1, "the worker holds a lease", slow)
    time.sleep(0.5)

    took = stop_and_time(slow, signal.SIGTERM, record_property, "worker, DOWNLOAD_DELAY=20")
    assert took < STOP_BOUND, cluster.output(slow)
    assert slow.returncode == 0, cluster.output(slow)
    assert cluster.worker_leases(slow) == 0
    assert "leases handed back" in cluster.output(slow)
    assert "Traceback" not in cluster.output(slow)

    # What it held went back to the queue: another worker finishes the crawl, nothing lost.
    cluster.worker("-s", "ROBOTSTXT_OBEY=False")
    out = cluster.finish(waiting)
    assert out.strip().splitlines()[-1].startswith("crawled 10 pages, posts 200 new"), out
    assert query(cluster.db, "SELECT COUNT(*), COUNT(DISTINCT post_id) FROM posts") == [(200, 200)]
    assert ingester.poll() is None
