"""``gaps`` and ``crawl --fill-gaps`` through the real command line, on the loopback server.

A channel is archived whole, one post is deleted (its embed confirms it), one
leaves the listing with no look allowed (undecided), then new posts come and a
crawl bounded to one page leaves a hole below them.
"""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.crawling import channel_requests, crawl, query, run_cli
from tests.helpers import summary

pytestmark = pytest.mark.slow


def gaps(db, *args):
    done = run_cli(db, "gaps", *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_hole_a_deletion_and_an_undecided_post_then_fill_gaps_fetches_only_the_hole(
    site, tmp_path
):
    db = tmp_path / "archive.db"
    url = f"{site.url}/s/holey"
    site.control("channel", name="holey", posts=30, page_size=10)
    assert crawl(db, url).returncode == 0  # 1..30, walked to the start
    site.control("delete", name="holey", id=5)
    assert crawl(db, url, "--full").returncode == 0  # 5 confirmed by its embed
    site.control("hide", name="holey", id=12)
    assert crawl(db, url, "--full", "--deletion-checks", "0").returncode == 0  # 12 undecided
    site.control("add", name="holey", count=25)  # 31..55
    # only 46..55: 31..45 a hole (no look at 12 either: it stays undecided)
    assert crawl(db, url, "--max-pages", "1", "--deletion-checks", "0").returncode == 0

    (found,) = json.loads(gaps(db, "holey", "--format", "json"))
    assert found["channel"] == "holey"
    assert found["newest_id"] == 55
    assert found["archived"] == [[1, 30], [46, 55]]
    assert found["holes"] == [[31, 45]]
    assert found["never_seen"] == []
    assert found["deleted"] == [[5, 5]]
    assert found["missing"] == [[12, 12]]
    assert found["hidden"] == []
    assert found["pages"] == [
        {"before": 46, "url": f"{url}?before=46", "hole": [31, 45], "pages": 1}
    ]
    rows = list(csv.DictReader(io.StringIO(gaps(db, "--format", "csv"))))
    assert [(r["what"], r["lo"], r["hi"]) for r in rows] == [
        ("archived", "1", "30"),
        ("archived", "46", "55"),
        ("holes", "31", "45"),
        ("deleted", "5", "5"),
        ("missing", "12", "12"),
        ("page", "31", "45"),
    ]
    text = gaps(db)
    assert "holes       31-45" in text and f"{url}?before=46" in text

    site.reset_stats()
    done = crawl(db, url, "--fill-gaps")
    assert done.returncode == 0, done.stderr
    # ?before=46 shows 36..45, ?before=36 shows 26..35: the hole is filled, nothing else asked.
    assert channel_requests(site, "holey") == ["/s/holey?before=46", "/s/holey?before=36"]
    assert summary(done).startswith("crawled 2 pages, posts 15 new")
    assert query(db, "SELECT COUNT(*) FROM posts WHERE post_num BETWEEN 31 AND 45") == [(15,)]
    (after,) = json.loads(gaps(db, "holey", "--format", "json"))
    assert after["archived"] == [[1, 55]] and after["holes"] == [] and after["pages"] == []

    site.reset_stats()  # nothing left to fill: nothing fetched
    done = crawl(db, url, "--fill-gaps")
    assert done.returncode == 0 and "holey: no gaps to fill" in done.stdout
    assert channel_requests(site, "holey") == []


def test_gaps_refuses_what_it_cannot_read(site, tmp_path):
    db = tmp_path / "archive.db"
    site.control("channel", name="small", posts=3)
    assert crawl(db, f"{site.url}/s/small").returncode == 0
    before = db.read_bytes()
    for args in (
        ["gaps", "nosuch"],
        ["crawl", "@nosuch", "--fill-gaps"],
        ["crawl", f"{site.url}/s/small", "--fill-gaps", "--full"],
        ["crawl", f"{site.url}/static/page.html", "--fill-gaps"],
    ):
        done = run_cli(db, *args)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert db.read_bytes() == before
