"""The atomic steps of the shared frontier, against a real Redis."""

from __future__ import annotations

import redis
import scrapy

from crawler.distributed import serialize
from crawler.distributed.frontier import Child, Frontier, request_key, safe_url


def frontier(url: str) -> Frontier:
    return Frontier(redis.Redis.from_url(url))


def child(url: str, crawl: int = 1) -> Child:
    # As a worker's: the member names the crawl, so two crawls' requests never coincide.
    return Child(request_key("GET", url), 0, serialize.dumps({"url": url, "crawl": crawl}))


def test_a_crawl_queues_each_request_once_and_within_its_page_budget(redis_url):
    f = frontier(redis_url)
    assert f.enqueue(1, child("http://a.test/s/x")) is True
    assert f.enqueue(1, child("http://a.test/s/x")) is False  # the same crawl asked already
    assert f.enqueue(2, child("http://a.test/s/x", 2)) is True  # another crawl: a new fetch
    assert f.enqueue(3, child("http://a.test/1", 3), max_pages=2) is True
    assert f.enqueue(3, child("http://a.test/2", 3), max_pages=2) is True
    assert f.enqueue(3, child("http://a.test/3", 3), max_pages=2) is False  # out of pages
    assert f.server.zcard(f.requests) == 4
    assert f.server.scard(f.pending(1)) == 1 and f.server.scard(f.pending(3)) == 2


def test_a_lease_ends_in_one_delivery_with_its_children(redis_url):
    f = frontier(redis_url)
    f.enqueue(7, child("http://a.test/s/x"))
    token, member = f.pop("w1", ttl=30)
    assert serialize.loads(member) == {"url": "http://a.test/s/x", "crawl": 1}
    assert f.server.zcard(f.requests) == 0 and f.server.hlen(f.inflight("w1")) == 1
    assert f.pop("w1", ttl=30) is None

    kids = [child("http://a.test/s/x?before=30"), child("http://a.test/s/x")]  # one seen already
    assert f.deliver("w1", token, 7, '{"page": 1}', kids) == 1
    assert f.server.hlen(f.inflight("w1")) == 0
    assert f.server.lrange(f.items, 0, -1) == [b'{"page": 1}']
    assert f.server.scard(f.pending(7)) == 2  # the parent (until ingested) and its new child
    # A second delivery of the same lease does nothing at all.
    assert f.deliver("w1", token, 7, '{"page": 1}', [child("http://a.test/other")]) == -1
    assert f.server.llen(f.items) == 1 and f.server.zcard(f.requests) == 1


def test_the_leases_of_a_silent_worker_go_back_and_its_late_delivery_is_dropped(redis_url):
    f = frontier(redis_url)
    f.enqueue(1, child("http://a.test/1"))
    f.enqueue(1, child("http://a.test/2"))
    token, _ = f.pop("dead", ttl=30)
    f.pop("alive", ttl=30)
    assert f.acquire_host("dead", "a.test", "dead 1", ttl=60) == 0
    f.heartbeat("dead", ttl=-1)  # its deadline has passed
    assert f.reap() == 1
    assert f.server.zcard(f.requests) == 1 and f.server.hlen(f.inflight("alive")) == 1
    assert f.acquire_host("alive", "a.test", "alive 1", ttl=60) == 0  # its host lock was freed
    assert f.deliver("dead", token, 1, "{}", []) == -1  # came back to life too late
    assert f.server.llen(f.items) == 0


def test_a_retry_goes_back_to_the_queue_past_the_duplicate_filter(redis_url):
    f = frontier(redis_url)
    f.enqueue(1, child("http://a.test/1"))
    token, member = f.pop("w", ttl=30)
    assert f.continue_("w", token, 0, member) is True
    assert f.server.zcard(f.requests) == 1 and f.server.hlen(f.inflight("w")) == 0
    assert f.continue_("w", token, 0, member) is False  # the lease is spent


def test_one_request_at_a_time_per_host_then_the_delay(redis_url):
    f = frontier(redis_url)
    assert f.acquire_host("w1", "a.test", "w1 1", ttl=60) == 0
    assert f.acquire_host("w2", "a.test", "w2 1", ttl=60) == -1  # busy
    assert f.acquire_host("w2", "b.test", "w2 2", ttl=60) == 0  # another host is free
    assert f.release_host("w1", "a.test", "w2 1", delay=60) is False  # not the holder
    assert f.release_host("w1", "a.test", "w1 1", delay=60) is True
    assert f.acquire_host("w2", "a.test", "w2 3", ttl=60) > 50  # free, after the delay
    f.server.delete(f.host_next("b.test"))
    f.push_back_host("b.test", 120)  # a 429 with Retry-After: 120
    f.release_host("w2", "b.test", "w2 2", delay=0)
    assert f.acquire_host("w1", "b.test", "w1 2", ttl=60) > 100


def test_requests_travel_as_json_with_their_bytes():
    request = scrapy.Request(
        "http://a.test/s/x?before=5", headers={"X-Thing": "v"}, body=b"\x00\xff", meta={"a": 1}
    )
    data = serialize.loads(serialize.dumps(request.to_dict()))
    assert data["headers"] == {"X-Thing": [b"v"]} and data["body"] == b"\x00\xff"
    assert data["meta"] == {"a": 1} and data["url"] == "http://a.test/s/x?before=5"


def test_urls_keep_no_password_in_messages():
    assert safe_url("redis://user:secret@10.0.0.5:6379/1") == "redis://user:***@10.0.0.5:6379/1"
    assert safe_url("redis://:secret@h:1/0") == "redis://:***@h:1/0"
    assert safe_url("redis://h:1/0?password=secret&db=1") == "redis://h:1/0?password=***&db=1"
    assert safe_url("redis://secret@h:1/0") == "redis://:***@h:1/0"  # a bare user part too
    assert request_key("get", "http://A.test/x?b=2&a=1") == request_key(
        "GET", "http://a.test/x?a=1&b=2"
    )
