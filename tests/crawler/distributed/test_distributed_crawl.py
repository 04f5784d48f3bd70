"""End to end: workers and an ingester, as real CLI processes, archive loopback channels.

The Redis is a real redis-server; the site is the tests' loopback server.
"""

from __future__ import annotations

import shutil

import pytest

from tests.cluster import Cluster
from tests.crawling import crawl, export, query, run_cli
from tests.media_site import media_bytes, media_requests, media_sha256, serve_media_channel
from tests.paths import FIXTURES

MIRROR = FIXTURES / "mirror"

pytestmark = pytest.mark.slow

BACKFILL = (
    "crawled 150 pages, posts 3000 new / 0 changed / 0 unchanged / 0 deleted,"
    " media 428 archived / 0 not archived, 0 errors (ok)"
)


@pytest.fixture
def cluster(tmp_path, redis_url):
    cluster = Cluster(tmp_path / "distributed.db", redis_url)
    yield cluster
    cluster.stop()


def last_line(text: str) -> str:
    return text.strip().splitlines()[-1]


def comparable(records: list[dict]) -> list[dict]:
    """Export records without what differs between two crawls of the same pages: the times."""
    out = []
    for record in records:
        record = dict(record)
        record["captured_at"] = None  # when this crawl saw the version first
        record["deleted_at"] = record["deleted_at"] is not None  # when this crawl found it gone
        out.append(record)
    return sorted(out, key=lambda r: (r["channel"], int(r["post_id"]), r["version"]))


def test_two_workers_archive_two_versions_as_a_local_crawl_does(tmp_path, make_site, cluster):
    """A Telegram channel and a mirror site change between two crawls, made both ways."""
    root = tmp_path / "static"
    shutil.copytree(MIRROR / "site", root / "site")
    site = make_site(static=root)
    local = tmp_path / "local.db"
    site.control("channel", name="twins", posts=50, page_size=20)
    sources = [f"{site.url}/s/twins", f"{site.url}/static/site/channel/", "--follow", "/post/"]
    cluster.ingester()
    workers = [cluster.worker(), cluster.worker()]

    outputs = []
    for round_ in (1, 2):
        if round_ == 2:  # an edit, a deletion, new posts, more views; the mirror likewise
            site.control(
                "edit", name="twins", id=45, text="Test post 45 — 更正：地铁延长运营至午夜。"
            )
            site.control("delete", name="twins", id=48)
            site.control("hide", name="twins", id=47)  # gone from the listing, not deleted
            site.control("add", name="twins", count=3)
            site.control("views", name="twins", factor=2)
            (root / "site" / "post" / "103.html").unlink()
            shutil.copytree(MIRROR / "site_v2", root / "site", dirs_exist_ok=True)
        # Both archive the photos (every 7th post has one, served by the same site) and
        # look at the embeds of the posts that left the listing.
        here = crawl(local, *sources)
        assert here.returncode == 0, here.stderr
        there = cluster.finish(cluster.crawl(*sources))
        outputs.append((here.stdout, there))

    for here, there in outputs:  # the same summary, source by source
        assert here.splitlines() == there.splitlines()
    assert (
        outputs[1][0]
        .splitlines()[0]
        .endswith("1 pages, posts 3 new / 1 changed / 16 unchanged / 1 deleted, 0 errors (ok)")
    )
    assert "posts 1 new / 1 changed / 2 unchanged / 1 deleted" in outputs[1][0]
    archived = comparable(export(cluster.db, "--all-versions"))
    assert archived == comparable(export(local, "--all-versions"))
    photos = [m for r in archived if r["channel"] == "twins" for m in r["media"]]
    assert photos and all(len(m.get("sha256") or "") == 64 for m in photos)
    rows = (
        "SELECT source, status, pages, posts_new, posts_changed, posts_unchanged, posts_deleted,"
        " errors FROM crawls ORDER BY id"
    )
    assert query(cluster.db, rows) == query(local, rows)
    # 47 and 48 left the listing; their embeds decided: 48 deleted, 47 alive and missing.
    looks = (
        "SELECT p.post_id, d.outcome, p.missing_since IS NOT NULL, p.deleted_at IS NOT NULL,"
        " s.page_type FROM deletion_checks d JOIN posts p ON p.id = d.post"
        " JOIN snapshots s ON s.id = d.snapshot ORDER BY p.post_num"
    )
    assert (
        query(cluster.db, looks)
        == query(local, looks)
        == [
            ("47", "alive", 1, 0, "embed"),
            ("48", "deleted", 0, 1, "embed"),
        ]
    )
    for worker in workers:  # scrapy-redis under Scrapy 2.19, adapted: no deprecation warning
        log = cluster.output(worker)
        assert "Deprecat" not in log and "Traceback" not in log, log


def test_workers_archive_each_media_file_once_and_the_crawl_ends_after_them(site, cluster):
    url = serve_media_channel(site, "dpics", posts=6, shared=1, preview=1, video=1)
    site.control("media_size", file="dpics-3.jpg", bytes=300_000)
    cluster.ingester()
    cluster.worker()
    cluster.worker()
    first = cluster.finish(cluster.crawl(url, "--media-max-size", "100K"))
    assert last_line(first).endswith("0 errors (ok)"), first  # media never fail a crawl
    fetched = media_requests(site)
    assert sorted(fetched) == sorted(
        [f"/media/dpics-{i}.jpg" for i in (1, 2, 3, 4)]
        + ["/media/dpics-same~5.jpg", "/media/dpics-same~6.jpg", "/media/dpics-preview.jpg"]
        + ["/media/dpics-thumb.jpg"]
    )
    # The crawl returned once every file was written: the export has them all now.
    by_id = {r["post_id"]: r["media"] for r in export(cluster.db)}
    for post_id in ("1", "2", "4"):
        assert by_id[post_id][0]["sha256"] == media_sha256(f"dpics-{post_id}.jpg")
    assert by_id["5"][0]["sha256"] == by_id["6"][0]["sha256"] == media_sha256("dpics-same~5.jpg")
    assert by_id["1"][1]["thumb"]["sha256"] == media_sha256("dpics-thumb.jpg")
    assert "sha256" not in by_id["3"][0]  # over --media-max-size: kept as a failure, with why
    [(status, reason)] = query(
        cluster.db, "SELECT status, reason FROM media_urls WHERE url LIKE '%dpics-3.jpg%'"
    )
    assert status == "failed" and "too large" in reason
    assert query(cluster.db, "SELECT COUNT(*) FROM media_files") == [(6,)]
    size = query(cluster.db, "SELECT size FROM media_files WHERE sha256 = ?",
                 [media_sha256("dpics-thumb.jpg")])  # fmt: skip
    assert size == [(len(media_bytes("dpics-thumb.jpg")),)]

    # The files go away and the page's signed URLs change: only the failed one is tried again.
    site.control("media", state="gone")
    second = cluster.finish(cluster.crawl(url, "--media-max-size", "100K"))
    assert last_line(second).endswith("0 errors (ok)"), second
    assert media_requests(site) == [*fetched, "/media/dpics-3.jpg"]
    assert {r["post_id"]: r["media"] for r in export(cluster.db)} == by_id
    assert query(cluster.db, "SELECT COUNT(*) FROM post_media WHERE sha256 IS NULL"
                 " AND slot = '0' AND attempts = 2") == [(1,)]  # fmt: skip


def test_a_worker_killed_in_a_backfill_loses_and_repeats_nothing(site, cluster):
    site.control("channel", name="backfill", posts=3000, page_size=20)
    site.control("latency", name="backfill", seconds=0.02)  # a page takes a moment to come
    ingester = cluster.ingester()
    workers = [cluster.worker(), cluster.worker()]
    waiting = cluster.crawl(f"{site.url}/s/backfill")
    cluster.wait_for_pages(40, waiting)
    cluster.kill_busy_worker(workers)

    assert last_line(cluster.finish(waiting)) == BACKFILL
    assert_backfilled_once(cluster.db)
    # The request it held went back to the queue when its heartbeat stopped.
    assert "requests of workers that stopped answering" in cluster.output(ingester)


def test_an_ingester_killed_in_a_backfill_loses_and_repeats_nothing(site, cluster):
    site.control("channel", name="backfill", posts=3000, page_size=20)
    site.control("latency", name="backfill", seconds=0.02)
    ingester = cluster.ingester()
    cluster.worker()
    cluster.worker()
    waiting = cluster.crawl(f"{site.url}/s/backfill")
    cluster.wait_for_pages(40, waiting)
    ingester.kill()
    ingester.wait()
    cluster.ingester()

    assert last_line(cluster.finish(waiting)) == BACKFILL
    assert_backfilled_once(cluster.db)


def assert_backfilled_once(db) -> None:
    assert query(db, "SELECT COUNT(*), COUNT(DISTINCT post_id) FROM posts") == [(3000, 3000)]
    assert query(db, "SELECT COUNT(*), MAX(version) FROM post_versions") == [(3000, 1)]
    assert query(db, "SELECT COUNT(*), COUNT(DISTINCT url) FROM snapshots") == [(150, 150)]
    assert query(db, "SELECT status, pages, posts_new, errors FROM crawls") == [
        ("ok", 150, 3000, 0)
    ]


def test_the_scheduler_queues_due_crawls_for_the_workers(site, cluster):
    site.control("channel", name="timely", posts=30, page_size=20)
    url = f"{site.url}/s/timely"
    added = run_cli(cluster.db, "sources", "add", url, "--every", "1h")
    assert added.returncode == 0, added.stderr
    cluster.ingester()
    cluster.worker()
    done = run_cli(cluster.db, "scheduler", "run", "--once", "--redis", cluster.redis_url)
    assert done.returncode == 0, done.stderr
    assert "ok, 2 pages, 30 new" in done.stderr
    assert query(cluster.db, "SELECT trigger, status, pages FROM crawls") == [
        ("scheduled", "ok", 2)
    ]
