"""A crawl told to stop (SIGTERM, SIGINT) ends at once, whatever its delays.

Each crawl here waits 60 s between two requests to its host (``DOWNLOAD_DELAY=60``),
or has a page in flight that the host answers only after 90 s: Scrapy's own graceful
stop waited for both. The tests assert no time: they give the stopped process
:data:`STOP_WAIT` seconds to end, which only a stop that waits out neither can do,
and check what it left: what it had fetched written, its rows closed as stopped, and
nothing asked for after the signal.
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
from tests.crawling import FAST, channel_requests, cli_argv, query

pytestmark = pytest.mark.slow

#: How long a stopped process is waited for before the test fails: shorter than the delay
#: and the latency below, so that a stop which waits out either never ends in time.
STOP_WAIT = 30
#: 60 s between two requests to the host, and no robots.txt first: the newest page comes
#: at once, the next one (and the newest page's photos) is 60 s away.
SLOW = ["-s", "DOWNLOAD_DELAY=60", "-s", "ROBOTSTXT_OBEY=False", "-s", "BACKOFF_BASE=0.05"]
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


def stop(proc: subprocess.Popen, signum: int) -> tuple[str, str]:
    """Send ``signum``; the process's output once it has ended by itself."""
    proc.send_signal(signum)
    try:
        return proc.communicate(timeout=STOP_WAIT)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f"still running {STOP_WAIT} s after the signal:\n{err}") from None


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_crawl_waiting_out_a_long_delay_stops_at_once(site, tmp_path, signum):
    db = tmp_path / "archive.db"
    site.control("channel", name="patient", posts=200, page_size=20)
    argv = cli_argv(db, "crawl", f"{site.url}/s/patient", "--full", *SLOW)
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # The newest page is written; the next one (and the page's photos) wait out the delay.
    wait_until(lambda: pages_written(db) >= 1, "the newest page is written", proc)

    out, err = stop(proc, signum)
    # As before: a crawl stopped after it archived pages is partial, and exits 0.
    assert proc.returncode == 0, err
    assert out.strip().endswith("0 errors (partial)"), out
    assert query(db, "SELECT status, reason, pages, errors FROM crawls") == [
        ("partial", "stopped: shutdown", 1, 0)
    ]
    assert query(db, "SELECT COUNT(*) FROM posts") == [(FIRST_PAGE_POSTS,)]
    # The photos cut off are no failure: a later crawl fetches them.
    assert query(db, "SELECT COUNT(*) FROM crawl_errors") == [(0,)]
    assert channel_requests(site, "patient") == ["/s/patient"]  # nothing asked after the stop
    assert "Traceback" not in err, err
    # The page's photos were cut off unasked, and recorded as nothing: the next crawl
    # fetches them.
    slots = "SELECT post, slot, sha256 IS NOT NULL, reason FROM post_media ORDER BY post, slot"
    cut = query(db, slots)
    assert cut and all(stored == 0 and reason is None for _p, _s, stored, reason in cut), cut
    again = subprocess.run(
        cli_argv(db, "crawl", f"{site.url}/s/patient", *FAST), capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    fetched = {(post, slot): stored for post, slot, stored, _r in query(db, slots)}
    assert [fetched[(post, slot)] for post, slot, _st, _r in cut] == [1] * len(cut)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_crawl_with_a_page_in_flight_stops_at_once(site, tmp_path, signum):
    db = tmp_path / "archive.db"
    site.control("channel", name="sluggish", posts=200, page_size=20)
    site.control("latency", name="sluggish", seconds=90, older=1)  # ?before= pages: 90 s late
    argv = cli_argv(
        db, "crawl", f"{site.url}/s/sluggish", "--full", "--media", "none",
        "-s", "DOWNLOAD_DELAY=0", "-s", "ROBOTSTXT_OBEY=False", "-s", "DOWNLOAD_TIMEOUT=120",
    )  # fmt: skip
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_until(lambda: pages_written(db) >= 1, "the newest page is written", proc)
    held = ["/s/sluggish?before=181"]
    wait_until(lambda: site.control("held", name="sluggish")["held"] == held, "in flight", proc)

    out, err = stop(proc, signum)
    assert proc.returncode == 0, err
    assert query(db, "SELECT status, reason, pages, errors FROM crawls") == [
        ("partial", "stopped: shutdown", 1, 0)
    ]
    assert query(db, "SELECT COUNT(*) FROM posts") == [(FIRST_PAGE_POSTS,)]
    assert "Traceback" not in err, err


def test_a_batch_crawl_process_stops_at_once_on_the_schedulers_sigterm(site, tmp_path):
    """``python -m crawler.batch``, stopped as the scheduler stops it (SIGTERM, then SIGKILL
    after the grace): it ends by itself, its rows closed as stopped."""
    db = tmp_path / "archive.db"
    site.control("channel", name="batched", posts=200, page_size=20)
    source = f"{site.url}/s/batched"
    archive = open_archive(db)
    crawl_ids = begin_crawls(archive, [source], trigger="scheduled")
    archive.close()
    options = CrawlOptions.from_record(
        {"full": True, "settings": {"DOWNLOAD_DELAY": "60", "ROBOTSTXT_OBEY": "False"}}
    )
    child = CrawlProcess()
    try:
        assert child.hand(
            {"db": str(db), "crawl_ids": crawl_ids, "time_limits": {},
             "options": options.to_record()}
        )  # fmt: skip
        wait_until(lambda: pages_written(db) >= 1, "the newest page is written", child.proc)
        child.stop(grace=STOP_WAIT)  # SIGTERM; SIGKILL only after the grace
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


def test_a_worker_stops_at_once_and_hands_its_leases_back(site, cluster):
    site.control("channel", name="shared", posts=200, page_size=20)
    ingester = cluster.ingester()
    # 60 s between two requests to the host, across workers (the cluster's politeness).
    slow = cluster.worker("-v", "-s", "DOWNLOAD_DELAY=60", "-s", "ROBOTSTXT_OBEY=False")
    waiting = cluster.crawl(f"{site.url}/s/shared", "--full")
    cluster.wait_for_pages(1, waiting)
    # The next page is leased to the worker, and waits for the host's next turn.
    wait_until(lambda: cluster.worker_leases(slow) >= 1, "the worker holds a lease", slow)

    stop(slow, signal.SIGTERM)
    assert slow.returncode == 0, cluster.output(slow)
    assert cluster.worker_leases(slow) == 0
    assert "leases handed back" in cluster.output(slow)
    assert "Traceback" not in cluster.output(slow)

    # What it held went back to the queue: another worker finishes the crawl, nothing lost
    # (polite on its own: the host's shared turn is still 60 s away).
    cluster.worker("-s", "ROBOTSTXT_OBEY=False", "-s", "POLITENESS_SCOPE=worker")
    out = cluster.finish(waiting)
    assert out.strip().splitlines()[-1].startswith("crawled 10 pages, posts 200 new"), out
    assert query(cluster.db, "SELECT COUNT(*), COUNT(DISTINCT post_id) FROM posts") == [(200, 200)]
    assert ingester.poll() is None
