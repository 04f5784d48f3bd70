"""Backfill with several ``?before=`` pages in flight (crawler/backfill.py): the same archive."""

from __future__ import annotations

import random

import pytest

from archive.models import ChannelInfo, Page, Post
from crawler.plans.backfill import ConcurrentWalk
from tests.crawling import channel_requests, crawl, query


def tme_page(existing: list[int], before: int | None, size: int = 20) -> Page:
    """What t.me/s answers: the ``size`` newest existing ids below ``before``."""
    shown = [i for i in existing if before is None or i < before][-size:]
    posts = [Post(channel="c", post_id=str(i), url=f"https://t.me/c/{i}", source_url="",
                  raw_text=f"post {i}") for i in shown]  # fmt: skip
    return Page(url="https://t.me/s/c", kind="telegram", page_type="channel",
                channel=ChannelInfo(name="c"), posts=posts, before=before)  # fmt: skip


def walk_all(existing: list[int], concurrency: int, seed: int, size: int = 20):
    """Run a walk with answers arriving in random order; return the ids seen and pages asked."""
    rng = random.Random(seed)
    walk = ConcurrentWalk(concurrency)
    seen: set[int] = set()
    pending: list[int | None] = [None]
    asked = 0
    while pending:
        before = pending.pop(rng.randrange(len(pending)))
        asked += 1
        assert asked < 10 * len(existing) + 10, "the walk does not end"
        page = tme_page(existing, before, size)
        seen |= {int(p.post_id) for p in page.posts}
        pending += walk.next_befores(page)
        assert len(walk.in_flight) <= concurrency or walk.in_flight
    return seen, asked, walk


def channel_ids(rng: random.Random, top: int) -> list[int]:
    ids = set(range(rng.randint(1, 30), top + 1))
    for _ in range(rng.randint(0, 6)):  # runs of deleted ids, some longer than a page
        start = rng.randint(1, top)
        ids -= set(range(start, start + rng.choice([1, 3, 25, 60])))
    ids -= set(rng.sample(sorted(ids), k=min(len(ids) // 10, 40)))  # scattered deletions
    return sorted(ids | {top})


@pytest.mark.parametrize("seed", range(40))
def test_every_message_is_read_whatever_order_the_pages_come_back_in(seed):
    rng = random.Random(seed)
    existing = channel_ids(rng, rng.choice([15, 90, 400, 1000]))
    for concurrency in (1, 2, 4, 7):
        seen, _asked, walk = walk_all(existing, concurrency, seed, size=rng.choice([20, 20, 12]))
        assert seen == set(existing)
        assert walk.reached_start and walk.covered == [(1, max(existing))]


def test_a_dense_history_takes_hardly_more_pages_than_one_at_a_time():
    existing = list(range(1, 1001))
    seen, asked, _walk = walk_all(existing, 4, seed=1)
    assert seen == set(existing)
    assert asked <= 1000 // 20 + 1 + 4  # the 50 pages, the empty one below, a few guesses


def test_a_throttled_page_stops_new_windows():
    walk = ConcurrentWalk(4)
    first = walk.next_befores(tme_page(list(range(1, 201)), None))
    assert first == [181, 161, 141, 121]
    throttled = tme_page([], 161)
    throttled.throttled = True
    assert walk.next_befores(throttled) == []
    assert walk.next_befores(tme_page(list(range(1, 201)), 181)) == []
    assert not walk.reached_start


@pytest.mark.slow
def test_full_crawl_with_four_in_flight_archives_what_one_at_a_time_does(site, tmp_path):
    site.control("channel", name="backfill", posts=330, page_size=20)
    # The channel's first messages are gone, a run longer than a page, and scattered ones.
    gone = [*range(1, 8), *range(100, 133), 205, 207, 250, 301]
    for post_id in gone:
        site.control("delete", name="backfill", id=post_id)
    site.control("latency", name="backfill", seconds=0.05)
    url = f"{site.url}/s/backfill"
    one, four = tmp_path / "one.db", tmp_path / "four.db"
    assert crawl(one, url, "--full").returncode == 0
    site.control("reset_stats")
    done = crawl(four, url, "--full", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=4")
    assert done.returncode == 0, done.stderr
    befores = [p.split("before=")[1] for p in channel_requests(site, "backfill") if "before=" in p]
    assert len(befores) == len(set(befores))  # no page asked twice
    posts = "SELECT post_id, text, deleted_at IS NULL FROM posts ORDER BY post_num"
    assert query(four, posts) == query(one, posts)
    numbered = {int(row[0]) for row in query(four, posts) if row[0].isdigit()}
    assert numbered == set(range(1, 331)) - set(gone)
    assert query(four, "SELECT lo, hi FROM coverage") == query(one, "SELECT lo, hi FROM coverage")
    assert query(four, "SELECT status, pages > 0 FROM crawls") == [("ok", 1)]
