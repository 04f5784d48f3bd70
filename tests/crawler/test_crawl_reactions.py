"""Reactions over two crawls through the real CLI and the loopback server (issue 11)."""

from __future__ import annotations

import csv
import io
import json

import pytest

from archive.export import FIELDS
from tests.crawling import crawl, export, query, run_cli

pytestmark = pytest.mark.slow


def test_reactions_over_two_crawls_make_a_series_never_a_version(site, tmp_path):
    db = tmp_path / "archive.db"
    site.control("channel", name="harbour", posts=14)
    site.control("reactions", name="harbour", id=9, set="👍:5,❤:2,⭐:1200,custom:77:3")
    url = f"{site.url}/s/harbour"

    first = crawl(db, url)
    assert first.returncode == 0, first.stderr
    records = {r["post_id"]: r for r in export(db)}
    assert records["9"]["reactions"] == {"👍": 5, "❤": 2, "⭐": 1200, "custom:77": 3}
    assert records["6"]["reactions"] == {"👍": 18, "❤": 6}  # generated: every 6th post
    assert records["5"]["reactions"] is None

    site.control("reactions", name="harbour", id=9, set="👍:1500,❤:2")
    second = crawl(db, url)
    assert second.returncode == 0, second.stderr
    assert (
        second.stdout.strip()
        .splitlines()[-1]
        .startswith("crawled 1 pages, posts 0 new / 0 changed / 14 unchanged / 0 deleted")
    )

    rows = query(
        db,
        "SELECT r.reactions FROM post_reactions r JOIN posts p ON p.id = r.post"
        " WHERE p.post_id = '9' ORDER BY r.observed_at",
    )
    assert [json.loads(r[0]) for r in rows] == [
        {"custom:77": 3, "⭐": 1200, "❤": 2, "👍": 5},
        {"❤": 2, "👍": 1500},
    ]
    # the unchanged reactions of post 6 were not written again
    assert query(
        db,
        "SELECT COUNT(*) FROM post_reactions r JOIN posts p ON p.id = r.post WHERE p.post_id = '6'",
    ) == [(1,)]
    assert query(db, "SELECT COUNT(*) FROM post_versions") == [(14,)]
    latest = {r["post_id"]: r for r in export(db)}["9"]
    assert latest["reactions"] == {"👍": 1500, "❤": 2} and latest["version"] == 1
    done = run_cli(db, "export", "--format", "csv")
    assert done.returncode == 0, done.stderr
    table = {row["post_id"]: row for row in csv.DictReader(io.StringIO(done.stdout))}
    assert list(table["9"]) == FIELDS
    assert json.loads(table["9"]["reactions"]) == {"👍": 1500, "❤": 2}
    assert table["5"]["reactions"] == ""
