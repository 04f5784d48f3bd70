"""The ingester against a real Redis and a real archive: each job and each delivery written once."""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import time
from datetime import UTC, datetime

import pytest
import redis

from archive import store
from archive.errors import ArchiveUnwritable
from archive.extract import extract_page
from archive.models import Capture
from archive.source import parse_source
from chanarchive.demo.site import render_channel_page
from crawler.distributed import serialize
from crawler.distributed.deliveries import Delivery
from crawler.distributed.frontier import Frontier
from crawler.distributed.ingest import Ingester, IngesterBusy, IngestOptions
from crawler.distributed.jobs import submit_crawls, wait_for_crawls
from crawler.distributed.published import PublishedView
from crawler.items import PageItem
from crawler.options import CrawlOptions
from tests.crawler.test_write_refused import limited
from tests.crawling import cli_argv
from tests.helpers import count
from tests.server import generated_channel

SOURCE = "http://127.0.0.1:9/s/twice"
#: Pages only: no media files or deletion checks asked for (no worker here to fetch them).
BARE = CrawlOptions(media="none", deletion_checks=0)


def fetched_page(url: str) -> PageItem:
    body = render_channel_page(generated_channel("twice", 30), page_size=20).encode("utf-8")
    capture = Capture(
        url=url,
        fetched_at=datetime.now(UTC).isoformat(),
        status=200,
        body=body,
        headers=[("Content-Type", "text/html; charset=utf-8")],
    )
    return PageItem(url, capture, extract_page(body, url, channel="twice"))


def test_a_job_and_a_delivery_handed_over_again_after_a_crash_are_written_once(redis_url, tmp_path):
    db = str(tmp_path / "archive.db")
    f = Frontier(redis.Redis.from_url(redis_url))
    [token] = submit_crawls(f, [parse_source(SOURCE)], BARE)
    job = f.server.lindex(f.jobs, 0)

    first = Ingester(db, redis_url)
    first.start()  # the job becomes a crawl row and its seed request
    lease, member = f.pop("w", ttl=30)
    meta = serialize.loads(member)["meta"]
    crawl = meta["crawl"]["id"]
    delivery = Delivery(crawl, meta["rkey"], lease, SOURCE, None, items=[fetched_page(SOURCE)])
    f.deliver("w", lease, crawl, json.dumps(delivery.to_record()), [])
    # The first ingester writes the delivery, then dies before acknowledging it, and
    # the job was not acknowledged either (as if it died right after beginning the crawl).
    first.batches._write(first.batches._read(first.batches._take()))
    f.server.rpush(f.jobs, job)
    first.db.close()
    f.server.delete(f.ingester_lock)  # its lock goes with it

    second = Ingester(db, redis_url)
    second.start()
    second.step()
    second.close()
    assert second.stats.repeated == 1 and second.stats.pages == 0
    [row] = wait_for_crawls(f, [token])
    assert (row["status"], row["pages"], row["posts_new"], row["errors"]) == ("ok", 1, 20, 0)
    assert count(db, "SELECT COUNT(*) FROM crawls") == 1
    assert count(db, "SELECT COUNT(*) FROM snapshots") == 1
    assert count(db, "SELECT COUNT(*) FROM post_versions") == 20
    assert count(db, "SELECT COUNT(*) FROM queued_deliveries") == 0  # kept only while it runs
    # Nothing of the crawl is left in Redis but its published row.
    assert sorted(k.decode() for k in f.server.keys("chanarchive:*")) == sorted(
        [f.coverage_key, f.result(token), f.lease_seq, f.workers]
    )
    assert PublishedView(f).coverage("twice") == [
        (11, 30)
    ]  # what the next crawl's workers start from


def test_a_second_ingester_on_the_same_redis_is_refused(redis_url, tmp_path):
    first = Ingester(str(tmp_path / "a.db"), redis_url)
    first.start()
    try:
        with pytest.raises(IngesterBusy, match="another ingester"):
            Ingester(str(tmp_path / "a.db"), redis_url).start()
    finally:
        first.close()


def test_a_delivery_that_cannot_be_read_is_an_error_of_its_crawl_not_a_stall(redis_url, tmp_path):
    db = str(tmp_path / "archive.db")
    f = Frontier(redis.Redis.from_url(redis_url))
    [token] = submit_crawls(f, [parse_source(SOURCE)], BARE)
    ingester = Ingester(db, redis_url)
    ingester.start()
    lease, member = f.pop("w", ttl=30)
    meta = serialize.loads(member)["meta"]
    record = {"v": 2, "crawl": meta["crawl"]["id"], "rkey": meta["rkey"], "source": SOURCE,
              "items": [{"type": "?"}]}  # fmt: skip
    f.deliver("w", lease, record["crawl"], json.dumps(record), [])
    ingester.step()
    ingester.close()
    [row] = wait_for_crawls(f, [token])
    assert (row["status"], row["pages"], row["errors"]) == ("failed", 0, 1)
    assert row["reason"] == "a delivery could not be read: item 0: unknown item type '?'"


def deliver_page(f: Frontier) -> None:
    """As a worker: lease the crawl's seed request and deliver its page."""
    lease, member = f.pop("w", ttl=30)
    meta = serialize.loads(member)["meta"]
    crawl = meta["crawl"]["id"]
    delivery = Delivery(crawl, meta["rkey"], lease, SOURCE, None, items=[fetched_page(SOURCE)])
    f.deliver("w", lease, crawl, json.dumps(delivery.to_record()), [])


def test_a_refused_write_is_waited_out_and_the_crawl_goes_on_once_the_archive_takes_it(
    redis_url, tmp_path, caplog
):
    db = str(tmp_path / "archive.db")
    f = Frontier(redis.Redis.from_url(redis_url))
    [token] = submit_crawls(f, [parse_source(SOURCE)], BARE)
    options = IngestOptions(block=0.01, fault_pause=0.01, fault_pause_max=0.04)
    ingester = Ingester(db, redis_url, options)
    ingester.start()
    deliver_page(f)
    ingester.db.execute("PRAGMA query_only = ON")  # as a full disk: every write refused
    caplog.set_level(logging.INFO, logger="crawler")
    waits = []
    ingester.stop_event.wait = lambda seconds: waits.append(seconds)  # its back-off, not slept
    for _ in range(6):
        ingester.step()
    refused = [r for r in caplog.records if "cannot be written" in r.getMessage()]
    assert len(refused) == 1  # said once, not once a round
    assert (
        refused[0]
        .getMessage()
        .startswith(f"the archive cannot be written: attempt to write a readonly database ({db})")
    )
    assert waits == [0.01, 0.02, 0.04, 0.04, 0.04]  # longer each time, up to its longest
    assert f.server.llen(f.items) == 1 and f.server.llen(f.items_processing) == 0  # put back
    assert count(db, "SELECT COUNT(*) FROM crawls WHERE status = 'running'") == 1
    assert count(db, "SELECT COUNT(*) FROM snapshots") == 0

    ingester.db.execute("PRAGMA query_only = OFF")  # room again
    ingester.step()
    ingester.close()
    assert any("takes writes again" in r.getMessage() for r in caplog.records)
    [row] = wait_for_crawls(f, [token])
    assert (row["status"], row["pages"], row["posts_new"], row["errors"]) == ("ok", 1, 20, 0)


def test_an_ingester_stopped_while_the_archive_refuses_says_so(redis_url, tmp_path):
    db = str(tmp_path / "archive.db")
    f = Frontier(redis.Redis.from_url(redis_url))
    submit_crawls(f, [parse_source(SOURCE)], BARE)
    ingester = Ingester(db, redis_url, IngestOptions(block=0.01, fault_pause=0.01))
    ingester.start()
    deliver_page(f)
    ingester.db.execute("PRAGMA query_only = ON")
    ingester.start = lambda: None  # started already
    rounds = []
    original = ingester.step

    def step():
        original()
        rounds.append(1)
        if len(rounds) == 3:
            ingester.stop()

    ingester.step = step
    with pytest.raises(ArchiveUnwritable) as stopped:
        ingester.run()
    assert str(stopped.value) == (
        f"the archive cannot be written: attempt to write a readonly database ({db}):"
        " stopped while waiting for it; 1 crawl stays running"
        " (an ingester that can write finishes them)"
    )
    assert f.server.llen(f.items) == 1  # its delivery waits for the next ingester


def test_the_ingest_command_on_a_full_disk_waits_and_stopped_exits_3_with_one_line(
    redis_url, tmp_path
):
    db = tmp_path / "archive.db"
    store.open_archive(db).close()
    f = Frontier(redis.Redis.from_url(redis_url))
    [token] = submit_crawls(f, [parse_source(SOURCE)], BARE)
    log = tmp_path / "ingest.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            cli_argv(db, "ingest", "--redis", redis_url),
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=limited(60_000),  # room for a crawl row in the log, not for a page
        )
        try:
            deadline = time.monotonic() + 30
            while f.server.zcard(f.requests) == 0:  # the job became a crawl and its seed
                assert time.monotonic() < deadline and proc.poll() is None, log.read_text()
                time.sleep(0.05)
            deliver_page(f)
            while "cannot be written" not in log.read_text():
                assert time.monotonic() < deadline and proc.poll() is None, log.read_text()
                time.sleep(0.05)
            time.sleep(3)  # it keeps trying, and says so no more than once
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=20) == 3
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    lines = log.read_text().strip().splitlines()
    assert "Traceback" not in log.read_text()
    assert sum("cannot be written" in line for line in lines) == 2, lines  # the log's, the end's
    assert lines[-1] == (
        f"Error: the archive cannot be written: disk I/O error ({db}): stopped while waiting"
        " for it; 1 crawl stays running (an ingester that can write finishes them)"
    )
    assert count(db, "SELECT COUNT(*) FROM crawls WHERE status = 'running'") == 1

    # With room again, an ingester writes the page and finishes the crawl.
    ingester = Ingester(str(db), redis_url, IngestOptions(block=0.01))
    ingester.start()
    ingester.step()
    ingester.close()
    [row] = wait_for_crawls(f, [token])
    assert (row["status"], row["pages"], row["posts_new"]) == ("ok", 1, 20)
