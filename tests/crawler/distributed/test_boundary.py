"""Redis is a boundary: jobs, queued requests and deliveries planted in a real Redis are each
dropped, answered and counted, never a crash and never a wedge; the good work around them is done.

The worker's queue and the ingester run here in this process against a real redis-server
and a real archive; ``test_redis_cluster.py`` does the same through the command line.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
import redis

from archive import store
from archive.errors import BadInput
from archive.extract import extract_page
from archive.extract.embed import embed_url
from archive.models import Capture, MediaFetch, MediaRef
from archive.source import parse_source
from chanarchive.demo.site import render_channel_page, render_embed
from crawler.distributed import serialize
from crawler.distributed.deliveries import Delivery, refused_delivery
from crawler.distributed.frontier import Frontier, request_key
from crawler.distributed.ingest import Ingester
from crawler.distributed.jobs import new_tokens, read_result, submit_crawls, wait_for_crawls
from crawler.distributed.published import PublishedView
from crawler.distributed.requests import CrawlContext, seed_child
from crawler.distributed.worker.leases import WorkerLink
from crawler.distributed.worker.scheduler import LeaseQueue
from crawler.distributed.worker.spider import WorkerSpider
from crawler.items import CheckItem, ErrorItem, MediaItem, PageItem
from crawler.options import CrawlOptions
from tests.server import generated_channel

SITE = "http://127.0.0.1:9"
SOURCE = f"{SITE}/s/bounded"
#: Pages only: nothing planned beside them (no worker here to fetch it).
BARE = CrawlOptions(media="none", deletion_checks=0)
NOW = "2026-12-07T10:00:00+00:00"


def frontier(url: str) -> Frontier:
    return Frontier(redis.Redis.from_url(url))


def rows(db, sql: str, params=()) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def capture(url: str, body: bytes) -> Capture:
    return Capture(url, datetime.now(UTC).isoformat(), 200, body,
                   [("Content-Type", "text/html; charset=utf-8")])  # fmt: skip


def channel_page(url: str, name: str = "bounded", deleted: tuple[int, ...] = ()) -> PageItem:
    channel = generated_channel(name, 30)
    for post_id in deleted:
        channel.delete(post_id)
    body = render_channel_page(channel, page_size=20).encode("utf-8")
    return PageItem(SOURCE, capture(url, body), extract_page(body, url, channel=name))


def check(post_id: int, outcome: str, *, body: bytes | None = None, url: str | None = None):
    url = url or embed_url(SOURCE, "bounded", post_id)
    answer = capture(url, body) if body is not None else None
    return CheckItem(SOURCE, "bounded", str(post_id), url, outcome, 200, "", NOW, answer)


def record(crawl: int, rkey: str, *items, source: str = SOURCE) -> str:
    return serialize.dumps(Delivery(crawl, rkey, 0, source, None, items=list(items)).to_record())


class Worker:
    """A worker's queue, as its Scrapy scheduler uses it (no engine, no downloads)."""

    def __init__(self, url: str) -> None:
        self.link = WorkerLink(frontier(url), lease_ttl=30)
        self.spider = WorkerSpider(link=self.link)
        self.stats = {}
        self.spider.crawler = SimpleNamespace(
            engine=None,
            stats=SimpleNamespace(
                inc_value=lambda k, n=1: self.stats.__setitem__(k, self.stats.get(k, 0) + n)
            ),
        )
        self.queue = LeaseQueue(self.link.frontier.server, self.spider,
                                self.link.frontier.requests, serialize)  # fmt: skip

    def pop(self):
        request = self.queue.pop()
        if request is not None:
            self.link.starting.discard(request.meta["lease"])
        return request


def plant(f: Frontier, data, *, score: float = -100) -> None:
    """A member put in the queue by hand, as anyone who can write to Redis may."""
    raw = data if isinstance(data, str | bytes) else serialize.dumps(data)
    f.server.zadd(f.requests, {raw: score})


def test_a_worker_drops_what_it_cannot_read_answers_its_lease_and_goes_on(
    redis_url, tmp_path, caplog
):
    f = frontier(redis_url)
    context = CrawlContext(4, parse_source(SOURCE), BARE)
    good = seed_child(context)
    f.enqueue(4, good)
    seed = serialize.loads(good.member)
    marker = tmp_path / "imported"
    # Would write the marker if ever imported (the module is on no path anyway).
    bad = [
        {**seed, "_class": "os.system"},
        {**seed, "url": "file:///etc/passwd", "meta": {**seed["meta"], "rkey": "a" * 24}},
        {**seed, "callback": "close", "meta": {**seed["meta"], "rkey": "b" * 24}},
        {**seed, "meta": {**seed["meta"], "crawl": "?"}},  # names no crawl: its lease is dropped
        "[" * 50_000,
        b"\xff not even text",
    ]
    for i, data in enumerate(bad):
        plant(f, data, score=-100 - i)
    worker = Worker(redis_url)
    with caplog.at_level(logging.WARNING):
        request = worker.pop()
    assert request is not None and request.url == SOURCE and request.callback.__name__ == "parse"
    assert worker.stats == {"chanarchive/requests_refused": len(bad)}
    assert not marker.exists()
    # Only the good request is held; each bad one was answered: a refused delivery when it
    # names its crawl and key, else its lease dropped. None comes back.
    assert f.server.hlen(f.inflight(worker.link.wid)) == 1
    assert f.server.zcard(f.requests) == 0
    delivered = {d["rkey"]: d for d in map(json.loads, f.server.lrange(f.items, 0, -1))}
    assert sorted((d["crawl"], rkey, d["items"]) for rkey, d in delivered.items()) == sorted(
        [(4, seed["meta"]["rkey"], []), (4, "a" * 24, []), (4, "b" * 24, [])]
    )
    assert "no class" in delivered[seed["meta"]["rkey"]]["refused"]
    assert "file:///" in delivered["a" * 24]["refused"]
    assert "('close', 'on_error') is not a callback pair" in delivered["b" * 24]["refused"]
    lines = [r.getMessage() for r in caplog.records if "Dropped a queued request" in r.message]
    assert len(lines) == len(bad) and all("\n" not in line for line in lines)
    assert not [r for r in caplog.records if r.exc_info]


def test_a_refused_request_is_kept_with_its_crawl_and_the_crawl_ends(redis_url, tmp_path):
    db = str(tmp_path / "archive.db")
    f = frontier(redis_url)
    [token] = submit_crawls(f, [parse_source(SOURCE)], BARE)
    ingester = Ingester(db, redis_url)
    ingester.start()
    lease, member = f.pop("w", ttl=30)
    seed = serialize.loads(member)
    crawl, rkey = seed["meta"]["crawl"]["id"], seed["meta"]["rkey"]
    f.deliver("w", lease, crawl, serialize.dumps(refused_delivery(crawl, rkey, "a bad one")), [])
    ingester.step()
    ingester.close()
    [row] = wait_for_crawls(f, [token])
    assert (row["status"], row["errors"]) == ("failed", 1)
    assert row["reason"] == "a queued request could not be read: a bad one"
    assert ingester.stats.refused == 1


BAD_JOBS = [
    b"[]",
    b'"x"',
    b'{"source": 5}',
    b"not json",
    b"[" * 100_000,
    b"\xff\xfe",
    json.dumps(
        {
            "v": 1,
            "token": "t-media",
            "source": "@xyzzy",
            "trigger": "manual",
            "options": {"media": 5},
        }
    ).encode(),  # fmt: skip
    json.dumps(
        {
            "v": 1,
            "token": "t-profile",
            "source": "@xyzzy",
            "trigger": "manual",
            "options": {"profile": "/etc/passwd"},
        }
    ).encode(),  # fmt: skip
    json.dumps(
        {"v": 1, "token": "t-huge", "source": "http://a.test/" + "x" * 100_000, "trigger": "manual"}
    ).encode(),  # fmt: skip
    json.dumps(
        {"v": 1, "token": "t-key", "source": "@xyzzy", "trigger": "manual", "pickle": "x"}
    ).encode(),  # fmt: skip
    json.dumps({"v": 1, "token": "../../x", "source": "@xyzzy", "trigger": "manual"}).encode(),
    json.dumps(
        {
            "v": 1,
            "token": "t-nan",
            "source": "@xyzzy",
            "trigger": "manual",
            "options": {"max_pages": float("nan")},
        }
    ).encode(),  # fmt: skip
]


def test_bad_jobs_are_dropped_one_by_one_and_the_good_job_after_them_runs(redis_url, tmp_path):
    db = str(tmp_path / "archive.db")
    f = frontier(redis_url)
    f.server.rpush(f.jobs, *BAD_JOBS)
    # One left in the processing list by an ingester that died: it comes back first.
    f.server.rpush(f.jobs_processing, b'{"v": 1, "source": 5}')
    [token] = submit_crawls(f, [parse_source(SOURCE)], BARE)
    for _ in range(2):  # the first ingester dies at once: the next starts over the same jobs
        ingester = Ingester(db, redis_url)
        ingester.start()
        ingester.close()
    assert ingester.stats.dropped == 0 and ingester.stats.jobs == 0  # nothing left to read
    assert f.server.llen(f.jobs) == 0 and f.server.llen(f.jobs_processing) == 0
    assert rows(db, "SELECT source, status FROM crawls") == [(SOURCE, "running")]
    assert f.server.zcard(f.requests) == 1  # the good job's seed
    # A waiter of a refused job with a token is told why, rather than left waiting.
    [media, profile] = wait_for_crawls(f, ["t-media", "t-profile"])
    assert media["status"] == "failed" and media["id"] is None
    assert media["reason"].startswith("refused by the ingester: media must be one of")
    assert "names its profile, not a file" in profile["reason"]
    assert f.server.get(f.result("../../x")) is None
    assert f.server.get(f.result(token)) is None  # still running


def test_a_job_replayed_under_a_known_token_for_another_source_begins_nothing(redis_url, tmp_path):
    db = str(tmp_path / "archive.db")
    f = frontier(redis_url)
    [token] = submit_crawls(f, [parse_source(SOURCE)], BARE)
    ingester = Ingester(db, redis_url)
    ingester.start()
    f.server.delete(f.requests, f.seen(1))  # as if the seed was never queued
    submit_crawls(f, [parse_source("@durov")], CrawlOptions(media="all"), tokens=[token])
    submit_crawls(f, [parse_source(SOURCE)], CrawlOptions(media="all"), tokens=[token])
    ingester.step()
    ingester.close()
    assert ingester.stats.dropped == 1
    # The same job again: its seed is queued from the row, as the crawl asked first.
    [member] = f.server.zrange(f.requests, 0, -1)
    assert CrawlContext.from_meta(serialize.loads(member)["meta"]).options == BARE
    assert rows(db, "SELECT COUNT(*) FROM crawls") == [(1,)]


@pytest.fixture
def crawl(redis_url, tmp_path):
    """A running crawl of SOURCE whose first page is written; what it waits for is planted."""
    db = str(tmp_path / "archive.db")
    f = frontier(redis_url)
    [token] = submit_crawls(f, [parse_source(SOURCE)], BARE)
    ingester = Ingester(db, redis_url)
    ingester.start()
    lease, member = f.pop("w", ttl=30)
    meta = serialize.loads(member)["meta"]
    crawl_id = meta["crawl"]["id"]
    f.server.sadd(f.pending(crawl_id), "f" * 24)  # a request still out: the crawl runs on
    f.deliver("w", lease, crawl_id, record(crawl_id, meta["rkey"], channel_page(SOURCE)), [])
    ingester.step()
    assert ingester.stats.pages == 1
    # A page where posts 23, 25 to 27 are gone: they go missing (BARE asks no checks).
    asked = f"{SOURCE}?again"
    f.server.sadd(f.pending(crawl_id), request_key("GET", asked))
    f.server.rpush(f.items, record(crawl_id, request_key("GET", asked),
                                   channel_page(asked, deleted=(23, 25, 26, 27))))  # fmt: skip
    ingester.step()
    missing = rows(db, "SELECT post_id FROM posts WHERE missing_since IS NOT NULL ORDER BY 1")
    assert missing == [("23",), ("25",), ("26",), ("27",)]
    # Another channel of the same site, archived by an earlier crawl.
    other = f"{SITE}/s/other"
    store.ingest_page(ingester.db, None, capture(other, b""), channel_page(other, "other").page)
    yield SimpleNamespace(db=db, f=f, id=crawl_id, token=token, ingester=ingester)
    ingester.close()


def ask(f: Frontier, crawl_id: int, url: str, *, side: bool = False) -> str:
    """The key of a request the crawl queued (as the ingester or a worker would have)."""
    rkey = request_key("GET", url)
    f.server.sadd(f.pending(crawl_id), rkey)
    f.server.sadd(f.side_seen(crawl_id) if side else f.seen(crawl_id), rkey)
    return rkey


def test_deliveries_the_crawl_never_asked_for_are_dropped_and_kept_with_it(crawl):
    f, c = crawl.f, crawl.id
    not_found = b'<div class="tgme_widget_message_error">Post not found</div>'
    alive = render_embed(generated_channel("bounded", 30), 25).encode()

    def embed(post_id: int) -> str:
        return embed_url(SOURCE, "bounded", post_id)

    media_url = f"{SITE}/media/x.jpg"
    fetched = MediaFetch(media_url, NOW, True, b"\xff\xd8", "image/jpeg", 200)
    planted = {
        "wrong types": json.dumps(
            {"v": 2, "crawl": c, "rkey": ask(f, c, f"{SITE}/a"), "source": SOURCE, "items": "x"}
        ),  # fmt: skip
        "an unknown request key": record(c, "0" * 24, channel_page(f"{SOURCE}?x")),
        "another source": record(
            c, ask(f, c, f"{SITE}/b"), ErrorItem("@durov", None, "fetch", "?"), source="@durov"
        ),  # fmt: skip
        "a page from another origin": record(
            c, ask(f, c, "http://evil.test/s/bounded"), channel_page("http://evil.test/s/bounded")
        ),
        "a page answering a side request": record(
            c, ask(f, c, f"{SOURCE}?side", side=True), channel_page(f"{SOURCE}?side")
        ),
        "a check at another URL than queued": record(
            c, ask(f, c, embed(27), side=True), check(24, "deleted", body=not_found)
        ),
        "a check of a post not missing": record(
            c, ask(f, c, embed(24), side=True), check(24, "deleted", body=not_found)
        ),
        "a deletion without its evidence": record(
            c, ask(f, c, embed(23), side=True), check(23, "deleted")
        ),
        "a deletion whose answer shows the post": record(
            c, ask(f, c, embed(25), side=True), check(25, "deleted", body=alive)
        ),
        "a check not at the post's embed": record(
            c,
            ask(f, c, f"{SITE}/bounded/25", side=True),
            check(25, "failed", url=f"{SITE}/bounded/25"),
        ),  # fmt: skip
        "media of another channel's post": record(
            c,
            ask(f, c, media_url, side=True),
            MediaItem(SOURCE, media_url, [MediaRef("other", "3", "0")], fetched),
        ),  # fmt: skip
        "a crawl of no queue here": record(999, "1" * 24, channel_page(f"{SOURCE}?y")),
        "not JSON": "{",
        "too deep": "[" * 100_000,
    }
    f.server.rpush(f.items, *planted.values())
    while f.server.llen(f.items):
        crawl.ingester.step()
    errors = [r[0] for r in rows(crawl.db, "SELECT message FROM crawl_errors WHERE crawl_id = ?"
                                 " ORDER BY id", [c])]  # fmt: skip
    expected = [
        "a delivery's items must be a list",
        "request 000000000000000000000000 is none crawl 1 waits for",
        "a delivery for source '@durov'",
        "a page from evil.test, not from 127.0.0.1:9",
        "a page item does not answer a side request",
        "is not the URL queued",
        "a check of post bounded/24, which is not missing: not kept",
        "a deletion of bounded/23 without the answer that said so",
        "a deletion of bounded/25 whose answer says: the embed shows the post",
        "a check at http://127.0.0.1:9/bounded/25, not the embed of bounded/25",
        "media of post other/3, not of this crawl's channel: not linked",
    ]
    assert len(errors) == len(expected), "\n".join(errors)
    for message, wanted in zip(errors, expected, strict=True):
        assert wanted in message, (wanted, message)
    # Nothing of it was written: no page of another origin, no deletion, no foreign link.
    assert rows(crawl.db, "SELECT COUNT(*) FROM snapshots WHERE url LIKE 'http://evil%'") == [(0,)]
    assert rows(crawl.db, "SELECT COUNT(*) FROM posts WHERE deleted_at IS NOT NULL") == [(0,)]
    assert rows(crawl.db, "SELECT COUNT(*) FROM deletion_checks") == [(0,)]
    assert rows(crawl.db, "SELECT COUNT(*) FROM post_media") == [(0,)]
    assert crawl.ingester.stats.dropped == 8  # the rest: written, their items refused alone
    # The good work around them is done: a deletion with its evidence is kept.
    f.server.rpush(f.items, record(c, ask(f, c, embed(26), side=True),
                                   check(26, "deleted", body=not_found)))  # fmt: skip
    crawl.ingester.step()
    assert rows(crawl.db, "SELECT post_id FROM posts WHERE deleted_at IS NOT NULL") == [("26",)]
    [(snapshot,)] = rows(crawl.db, "SELECT snapshot FROM deletion_checks")
    assert snapshot is not None
    # And the crawl ends: every request it asked for is answered.
    f.server.delete(f.pending(c))
    crawl.ingester.crawls.check(None)
    [row] = wait_for_crawls(f, [crawl.token])
    assert row["status"] in ("ok", "partial") and row["errors"] == len(expected)


def test_published_values_that_do_not_fit_are_taken_as_nothing_published(redis_url, caplog):
    f = frontier(redis_url)
    view = PublishedView(f)
    f.server.hset(f.coverage_key, "a", json.dumps([[1, 20], [30, 40]]))
    f.server.hset(f.coverage_key, "b", json.dumps([["1", 20]]))
    f.server.hset(f.coverage_key, "c", "[" * 100_000)
    f.server.hset(f.known_key, "d", json.dumps({"urls": {"1": "http://a/1"}, "listings": {}}))
    f.server.hset(f.known_key, "e", json.dumps({"urls": [], "listings": {}}))
    assert view.coverage("a") == [(1, 20), (30, 40)]
    with caplog.at_level(logging.WARNING):
        assert view.coverage("b") == view.coverage("c") == []
        assert view.known_posts("e").urls == {}
    assert view.known_posts("d").urls == {"1": "http://a/1"}
    assert len([r for r in caplog.records if "Ignored the published" in r.message]) == 3


def test_a_waiter_reads_only_rows_that_fit(redis_url):
    f = frontier(redis_url)
    [token] = new_tokens(1)
    f.server.set(f.result(token), b"[]")
    told = []
    # A row that does not fit is not the ingester's: waited past, said once.
    import threading

    def later():
        row = {"id": 3, "source": SOURCE, "status": "ok", "reason": None, "started_at": NOW,
               "finished_at": NOW, "pages": 1, "posts_new": 1, "posts_changed": 0,
               "posts_unchanged": 0, "posts_deleted": 0, "errors": 0}  # fmt: skip
        f.server.set(f.result(token), json.dumps(row))

    timer = threading.Timer(0.6, later)
    timer.start()
    [row] = wait_for_crawls(f, [token], notice=told.append)
    timer.join()
    unreadable = [line for line in told if "cannot be read" in line]
    assert row["id"] == 3 and len(unreadable) == 1


def test_keys_of_the_wrong_shape_are_said_in_one_line_and_the_ingester_goes_on(
    redis_url, tmp_path, caplog
):
    from crawler.distributed.ingest import IngesterBusy

    db = str(tmp_path / "archive.db")
    f = frontier(redis_url)
    # A lock that is not a lock: the ingester says so and does not start.
    f.server.rpush(f.ingester_lock, "x")
    with pytest.raises(IngesterBusy, match="is not one of ours"):
        Ingester(db, redis_url).start()
    f.server.delete(f.ingester_lock)
    # A dead worker's leases, one as POP writes them and one not; a host's next turn garbled.
    f.server.zadd(f.workers, {"ghost": 0})
    f.server.hset(f.inflight("ghost"), mapping={"1": "no newline", "2": "-3\nkept"})
    f.server.set(f.host_next("a.test"), "soon")
    assert f.reap() == 1 and f.server.zrange(f.requests, 0, -1) == [b"kept"]
    assert f.acquire_host("w", "a.test", "w 1", ttl=60) == 0
    f.server.delete(f.requests)
    # What is published, and a crawl's pending requests, of another type than ours.
    f.server.set(f.coverage_key, "not a hash")
    [token] = submit_crawls(f, [parse_source(SOURCE)], BARE)
    ingester = Ingester(db, redis_url)
    ingester.start()
    lease, member = f.pop("w", ttl=30)
    meta = serialize.loads(member)["meta"]
    crawl_id = meta["crawl"]["id"]
    f.server.sadd(f.pending(crawl_id), "f" * 24)  # a request still out: the crawl runs on
    f.deliver("w", lease, crawl_id, record(crawl_id, meta["rkey"], channel_page(SOURCE)), [])
    with caplog.at_level(logging.ERROR):
        ingester.step()  # the page is written; publishing it is refused by Redis
        f.server.delete(f.pending(crawl_id))
        f.server.set(f.pending(crawl_id), "not a set")
        f.server.rpush(f.items, record(crawl_id, "c" * 24, channel_page(f"{SOURCE}?2")))
        ingester._last_check = 0
        ingester.step()  # the delivery is dropped; finding the crawl's end is refused
    ingester.close()
    assert ingester.stats.pages == 1 and ingester.stats.dropped == 1
    said = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any(m.startswith("could not publish what the archive holds") for m in said)
    assert any(m.startswith("could not look for finished crawls") for m in said)
    assert not [r for r in caplog.records if r.exc_info]
    assert f.server.get(f.result(token)) is None  # not finished: it still waits (as told)


def test_a_finished_row_without_media_counts_reads_them_as_none_archived():
    # An ingester of an older release publishes no media counts: read as 0, not refused.
    row = {"id": 3, "source": SOURCE, "status": "ok", "reason": None, "started_at": NOW,
           "finished_at": NOW, "pages": 1, "posts_new": 1, "posts_changed": 0,
           "posts_unchanged": 0, "posts_deleted": 0, "errors": 0}  # fmt: skip
    read = read_result(json.dumps(row))
    assert (read["media_archived"], read["media_failed"]) == (0, 0)
    with pytest.raises(BadInput, match="media_failed is not a count"):
        read_result(json.dumps({**row, "media_archived": 2, "media_failed": "many"}))
