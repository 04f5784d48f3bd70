"""Redis is a boundary, through the command line: workers and an ingester as real processes on a
real Redis, with jobs, queued requests and deliveries planted in it as anyone who can reach it
may. Each bad one is dropped and counted, none stops a process, and the crawl around them is
done. A Redis with a password works, and a wrong password is one line and exit status 2.
"""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from archive.extract.embed import embed_url
from archive.models import Capture, MediaFetch, MediaRef
from crawler.distributed import serialize
from crawler.distributed.deliveries import Delivery
from crawler.distributed.frontier import Frontier, request_key
from crawler.items import CheckItem, MediaItem, PageItem
from tests.cluster import Cluster
from tests.crawling import cli_argv, query
from tests.redis_server import RedisServer

pytestmark = pytest.mark.slow

#: A module that leaves a mark when it is imported: a worker must never import it.
MARKER_MODULE = """
import pathlib
pathlib.Path({path!r}).write_text("imported")

class Evil:
    pass
"""
NOT_FOUND = b'<div class="tgme_widget_message_error">Post not found</div>'
NOW = "2026-12-07T10:00:00+00:00"


@pytest.fixture
def cluster(tmp_path, redis_url):
    cluster = Cluster(tmp_path / "distributed.db", redis_url)
    yield cluster
    cluster.stop()


def frontier(cluster: Cluster) -> Frontier:
    return Frontier(cluster.redis)


def queue_without_waiting(cluster: Cluster, *args: str) -> tuple[int, str]:
    """``crawl --redis --no-wait``; then, once the ingester began it, (crawl id, job token)."""
    proc = cluster.crawl(*args, "--no-wait")
    out = cluster.finish(proc, timeout=60)
    token = re.search(r"\(job ([0-9a-f]+)\)", out).group(1)
    deadline = time.monotonic() + 60
    while True:
        found = []
        if cluster.db.exists():  # a connection would make the file: only once the ingester has
            try:
                found = query(
                    cluster.db, "SELECT crawl_id FROM queued_crawls WHERE token = ?", [token]
                )
            except sqlite3.OperationalError:  # the ingester is still making the archive
                pass
        if found:
            return found[0][0], token
        assert time.monotonic() < deadline, "the ingester never began the crawl"
        time.sleep(0.1)


def finished_row(cluster: Cluster, token: str, timeout: float = 120) -> dict:
    f = frontier(cluster)
    deadline = time.monotonic() + timeout
    while (raw := f.server.get(f.result(token))) is None:
        assert time.monotonic() < deadline, "the crawl never finished"
        time.sleep(0.1)
    return json.loads(raw)


def asked(f: Frontier, crawl_id: int, url: str, *, side: bool = False) -> str:
    """Mark a request as queued by the crawl (so the crawl waits for its answer)."""
    rkey = request_key("GET", url)
    f.server.sadd(f.pending(crawl_id), rkey)
    f.server.sadd(f.side_seen(crawl_id) if side else f.seen(crawl_id), rkey)
    return rkey


def errors_of(cluster: Cluster, crawl_id: int) -> list[str]:
    return [m for (m,) in query(cluster.db, "SELECT message FROM crawl_errors WHERE crawl_id = ?"
                                " ORDER BY id", [crawl_id])]  # fmt: skip


def assert_clean(cluster: Cluster, *procs: subprocess.Popen) -> None:
    for proc in procs:
        assert proc.poll() is None, cluster.output(proc)  # still working
        assert "Traceback" not in cluster.output(proc), cluster.output(proc)


def test_requests_planted_in_the_queue_are_refused_and_the_workers_go_on(tmp_path, site, cluster):
    site.control("channel", name="planted", posts=30, page_size=20)
    source = f"{site.url}/s/planted"
    ingester = cluster.ingester()
    crawl_id, token = queue_without_waiting(cluster, source)
    f = frontier(cluster)
    [(seed_member, _)] = f.server.zrange(f.requests, 0, 0, withscores=True)
    seed = serialize.loads(seed_member)
    # A module on the workers' path that marks its import: named by a planted request.
    (tmp_path / "pkg").mkdir()
    marker = tmp_path / "imported.txt"
    (tmp_path / "pkg" / "planted_marker.py").write_text(MARKER_MODULE.format(path=str(marker)))

    def bad(n: int, **changes) -> str:
        data = serialize.loads(serialize.dumps(seed))  # a copy
        meta = dict(data["meta"], rkey=asked(f, crawl_id, f"{site.url}/planted/{n}"))
        data.update(changes.pop("top", {}))
        meta.update(changes)
        data["meta"] = meta
        return serialize.dumps(data)

    planted = [
        bad(1, top={"_class": "planted_marker.Evil"}),
        bad(2, top={"callback": "close"}),
        bad(3, top={"url": "file:///etc/passwd"}),
        bad(4, proxy="http://10.0.0.1:3128"),
        serialize.dumps({**seed, "meta": {**seed["meta"], "crawl": None}}),  # names no crawl
        b"\xff\x00 not a request",
    ]
    f.server.zadd(f.requests, {member: -100 for member in planted})
    env = {"PYTHONPATH": str(tmp_path / "pkg")}
    workers = [cluster.worker(env=env), cluster.worker(env=env)]

    row = finished_row(cluster, token)
    assert (row["pages"], row["posts_new"], row["errors"]) == (2, 30, 4)
    refusals = errors_of(cluster, crawl_id)
    assert all(m.startswith("a queued request could not be read: ") for m in refusals)
    assert any("names no class" in m for m in refusals)
    assert any("('close', 'on_error') is not a callback pair" in m for m in refusals)
    assert any("must be an http(s) URL" in m for m in refusals)
    assert any("unknown key 'proxy'" in m for m in refusals)
    assert not marker.exists()
    assert f.server.zcard(f.requests) == 0
    assert not [k for k in f.server.scan_iter("chanarchive:inflight:*") if f.server.hlen(k)]
    time.sleep(0.5)
    assert_clean(cluster, ingester, *workers)
    logs = "".join(cluster.output(w) for w in workers)
    assert logs.count("Dropped a queued request that cannot be read") == len(planted)

    # The workers go on: the next crawl is done as usual.
    site.control("add", name="planted", count=2)
    out = cluster.finish(cluster.crawl(source))
    assert "posts 2 new /" in out and out.strip().endswith("0 errors (ok)"), out


BAD_JOBS = [
    b"[]",
    b'"x"',
    b'{"source": 5}',
    b"{",
    b"[" * 100_000,
    json.dumps(
        {
            "v": 1,
            "token": "bad-media",
            "source": "@xyzzy",
            "trigger": "manual",
            "options": {"media": 5},
        }
    ).encode(),  # fmt: skip
    json.dumps(
        {
            "v": 1,
            "token": "bad-profile",
            "source": "@xyzzy",
            "trigger": "manual",
            "options": {"profile": "/etc/passwd"},
        }
    ).encode(),  # fmt: skip
    json.dumps(
        {
            "v": 1,
            "token": "bad-size",
            "trigger": "manual",
            "source": "http://a.test/" + "x" * 200_000,
        }
    ).encode(),  # fmt: skip
]


def test_jobs_and_deliveries_planted_in_redis_are_dropped_and_counted(site, cluster):
    site.control("channel", name="ledger", posts=30, page_size=20)
    source = f"{site.url}/s/ledger"
    f = frontier(cluster)
    f.server.rpush(f.jobs, *BAD_JOBS)
    f.server.rpush(f.jobs_processing, b'{"source": 5}')  # left by an ingester that died on it
    ingester = cluster.ingester()
    worker = cluster.worker()
    first = cluster.finish(cluster.crawl(source))  # the good job after them runs
    assert first.strip().endswith(
        "posts 30 new / 0 changed / 0 unchanged / 0 deleted, media 4 archived / 0 not archived, 0 errors (ok)"
    )
    assert cluster.output(ingester).count("dropped a job that cannot be read") == len(BAD_JOBS) + 1
    # A waiter of a refused job is told why.
    refused = json.loads(f.server.get(f.result("bad-profile")))
    assert refused["status"] == "failed" and "names its profile, not a file" in refused["reason"]

    # The next crawl waits for its first page while deliveries are planted for it.
    worker.terminate()
    worker.wait(timeout=30)
    crawl_id, token = queue_without_waiting(cluster, source)
    other = "http://evil.test/s/ledger"
    body = b"<html><body>not the source's</body></html>"

    def delivery(url: str, *items, side: bool = False) -> str:
        rkey = asked(f, crawl_id, url, side=side)
        return serialize.dumps(Delivery(crawl_id, rkey, 0, source, None, list(items)).to_record())

    def check(post_id: int, evidence: bool) -> CheckItem:
        url = embed_url(source, "ledger", post_id)
        answer = Capture(url, NOW, 200, NOT_FOUND) if evidence else None
        return CheckItem(source, "ledger", str(post_id), url, "deleted", 200, "", NOW, answer)

    media = f"{site.url}/media/planted.jpg"
    f.server.rpush(
        f.items,
        json.dumps({"v": 2, "crawl": crawl_id, "rkey": asked(f, crawl_id, f"{site.url}/x"),
                    "source": source, "items": [{"type": "page", "source": source,
                                                          "capture": 5, "page": None}]}),  # fmt: skip
        serialize.dumps(Delivery(crawl_id, "0" * 24, 0, source, None, []).to_record()),
        delivery(other, PageItem(source, Capture(other, NOW, 200, body), None)),
        delivery(embed_url(source, "ledger", 20), check(20, evidence=True), side=True),
        delivery(embed_url(source, "ledger", 21), check(21, evidence=False), side=True),
        delivery(media, MediaItem(source, media, [MediaRef("someone_else", "3", "0")],
                                  MediaFetch(media, NOW, True, b"\xff\xd8")), side=True),
    )  # fmt: skip
    worker = cluster.worker()
    row = finished_row(cluster, token)
    assert row["pages"] >= 1 and (row["posts_new"], row["posts_deleted"]) == (0, 0), row
    messages = errors_of(cluster, crawl_id)
    for wanted in (
        "a delivery could not be read: item 0: page item.capture: must be an object",
        f"request {'0' * 24} is none crawl {crawl_id} waits for",
        "a page from evil.test, not from 127.0.0.1:",
        "a check of post ledger/20, which is not missing: not kept",
        "a deletion of ledger/21 without the answer that said so",
        "media of post someone_else/3, not of this crawl's channel: not linked",
    ):
        assert sum(wanted in m for m in messages) == 1, (wanted, messages)
    assert len(messages) == 6 == row["errors"]
    assert query(cluster.db, "SELECT COUNT(*) FROM posts WHERE deleted_at IS NOT NULL") == [(0,)]
    assert query(cluster.db, "SELECT COUNT(*) FROM snapshots WHERE url LIKE '%evil%'") == [(0,)]
    assert query(cluster.db, "SELECT COUNT(*) FROM post_media WHERE url = ?", [media]) == [(0,)]
    assert_clean(cluster, ingester, worker)


@pytest.fixture(scope="module")
def locked_redis():
    server = RedisServer(password="s3cret-word")
    yield server
    server.stop()


def test_a_redis_with_a_password_works_and_a_wrong_one_is_one_line(tmp_path, site, locked_redis):
    url = locked_redis.url
    assert ":s3cret-word@" in url
    wrong = url.replace("s3cret-word", "not-it")
    none = url.replace(":s3cret-word@", "")
    db = tmp_path / "a.db"
    for given in (wrong, none):
        for command in (["crawl", "@durov", "--redis", given], ["worker", "--redis", given],
                        ["ingest", "--redis", given], ["scheduler", "run", "--redis", given]):  # fmt: skip
            done = subprocess.run(cli_argv(db, *command), capture_output=True, text=True,
                                  timeout=60)  # fmt: skip
            out = done.stdout + done.stderr
            assert done.returncode == 2, (command, out)
            assert out.strip().count("\n") == 0 and "refused the login" in out, out
            assert f"127.0.0.1:{locked_redis.port}/0" in out and "Traceback" not in out
            assert "not-it" not in out and "s3cret" not in out
    assert not db.exists()

    site.control("channel", name="locked", posts=5, page_size=20)
    cluster = Cluster(tmp_path / "locked.db", url)
    try:
        cluster.redis.flushall()
        ingester = cluster.ingester()
        worker = cluster.worker()
        out = cluster.finish(cluster.crawl(f"{site.url}/s/locked"))
        assert out.strip().endswith(
            "posts 5 new / 0 changed / 0 unchanged / 0 deleted, 0 errors (ok)"
        )
        for proc in (ingester, worker):
            assert "s3cret" not in cluster.output(proc)
        assert_clean(cluster, ingester, worker)
        done = subprocess.run(
            cli_argv(cluster.db, "scheduler", "run", "--once", "--redis", url),
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert "s3cret" not in done.stderr
    finally:
        cluster.stop()
    assert Path(tmp_path / "locked.db").exists()
