"""The ingester against a real Redis and a real archive: each job and each delivery written once."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import redis

from archive.extract import extract_page
from archive.models import Capture
from archive.source import parse_source
from chanarchive.demo.site import render_channel_page
from crawler.distributed import serialize
from crawler.distributed.deliveries import Delivery
from crawler.distributed.frontier import Frontier
from crawler.distributed.ingest import Ingester, IngesterBusy
from crawler.distributed.jobs import submit_crawls, wait_for_crawls
from crawler.distributed.published import PublishedView
from crawler.items import PageItem
from crawler.options import CrawlOptions
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
