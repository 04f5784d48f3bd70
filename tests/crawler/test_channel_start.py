"""A channel's start, once reached, is remembered: whichever way t.me shows it.

The test channel holds 60 messages, twenty a page. Each case shows its start
one way (``chanarchive.demo.site.START_CASES``): the empty page (the channel
header, no message, no throttling marker) answering ``?before=<first id>``,
a page without an "older" link, the message with id 1, the "Channel created"
service message. After one crawl the archive covers every id down to 1, the
next incremental crawl of the unchanged channel asks for one page, and
``crawl --full`` still walks every page.
"""

from __future__ import annotations

import pytest

from tests.crawling import channel_requests, crawl, query
from tests.helpers import summary

pytestmark = pytest.mark.slow

CASES = {
    # case id: (start case on the site, ids deleted at the start, the requests of a walk:
    # each page's ``before``, a throttled one twice: asked again once, then believed)
    "empty page below the first post": ("empty", 4, [None, 41, 21, 5]),
    "first page without an older link": ("no_link", 4, [None, 41, 21, 5]),
    "the message with id 1": ("empty", 0, [None, 41, 21]),
    "a Channel created message": ("created", 4, [None, 41, 21]),
    "throttled below the first post": ("throttled", 4, [None, 41, 21, 5, 5]),
}


def paths(name: str, befores: list[int | None]) -> list[str]:
    return [f"/s/{name}" + ("" if b is None else f"?before={b}") for b in befores]


@pytest.mark.parametrize("case", list(CASES))
def test_the_start_is_remembered_and_never_asked_for_again(site, tmp_path, case):
    db = tmp_path / "archive.db"
    shown, gone, befores = CASES[case]
    name = "origin"
    site.control("channel", name=name, posts=60, page_size=20)
    for post_id in range(1, gone + 1):
        site.control("delete", name=name, id=post_id)
    site.control("start", name=name, case=shown)
    url = f"{site.url}/s/{name}"
    retries = ["-s", "TELEGRAM_THROTTLE_RETRIES=1"]

    pages = len(set(befores))
    first = crawl(db, url, *retries)
    assert summary(first).startswith(
        f"crawled {pages} pages, posts {60 - gone} new / 0 changed / 0 unchanged / 0 deleted, "
    )
    assert summary(first).endswith(", 0 errors (ok)")  # its photos archived besides
    assert channel_requests(site, name) == paths(name, befores)
    assert query(db, "SELECT lo, hi FROM coverage") == [(1, 60)]
    # Every page is read as the channel's, the empty one too: never as a web post page.
    assert query(db, "SELECT DISTINCT page_type FROM snapshots") == [("channel",)]
    assert query(db, "SELECT COUNT(*) FROM channels") == [(1,)]

    site.reset_stats()
    again = crawl(db, url, *retries)
    assert summary(again) == (
        "crawled 1 pages, posts 0 new / 0 changed / 20 unchanged / 0 deleted, 0 errors (ok)"
    )
    assert channel_requests(site, name) == [f"/s/{name}"]
    # Nothing else either (the photos are archived): one page, after the host's robots.txt.
    assert [path for _method, path, _status in site.stats()] == ["/robots.txt", f"/s/{name}"]

    site.reset_stats()
    full = crawl(db, url, "--full", *retries)
    assert summary(full) == (
        f"crawled {pages} pages, posts 0 new / 0 changed / {60 - gone} unchanged"
        " / 0 deleted, 0 errors (ok)"
    )
    assert channel_requests(site, name) == paths(name, befores)
    assert query(db, "SELECT lo, hi FROM coverage") == [(1, 60)]


@pytest.mark.parametrize("case", ["empty page below the first post", "a Channel created message"])
def test_a_backfill_in_parallel_remembers_the_start_too(site, tmp_path, case):
    db = tmp_path / "archive.db"
    shown, gone, befores = CASES[case]
    name = "parallel"
    site.control("channel", name=name, posts=60, page_size=20)
    for post_id in range(1, gone + 1):
        site.control("delete", name=name, id=post_id)
    site.control("start", name=name, case=shown)
    url = f"{site.url}/s/{name}"

    first = crawl(db, url, "--full", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=4")
    assert summary(first).startswith(f"crawled {len(set(befores))} pages, posts {60 - gone} new")
    assert query(db, "SELECT lo, hi FROM coverage") == [(1, 60)]

    site.reset_stats()
    again = crawl(db, url)
    assert summary(again).startswith("crawled 1 pages, posts 0 new / 0 changed / 20 unchanged")
    assert channel_requests(site, name) == [f"/s/{name}"]
