"""Crawling a mirror site that changes: one post each, full text, versions, deletions.

The site is ``tests/fixtures/mirror/site`` (a flat listing and flat post pages
with related-post blocks), served from a copy in ``tmp_path`` so the test can
change it between two real crawls (subprocesses, loopback only): post 102 is
edited, 103 removed (its page answers 404), 105 added, 101 pushed off the
listing (its page is still there), 104's related cards rotate.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.crawling import crawl, query
from tests.paths import FIXTURES as FIXTURES_DIR

FIXTURES = FIXTURES_DIR / "mirror"
SIGNATURE = "📢 本站内容转载自公开频道，仅供学习交流"

pytestmark = pytest.mark.slow


def posts(db: Path) -> dict[str, tuple]:
    rows = query(
        db,
        "SELECT p.post_id, p.current_version, p.deleted_at, p.title, p.text, v.raw_text,"
        " v.excerpt, p.published_at FROM posts p JOIN post_versions v"
        " ON v.post = p.id AND v.version = p.current_version",
    )
    return {row[0]: row[1:] for row in rows}


def test_crawl_archives_each_post_once_then_follows_edits_deletions_and_new_posts(
    tmp_path, make_site
):
    root = tmp_path / "static"
    shutil.copytree(FIXTURES / "site", root / "site")
    site = make_site(static=root)
    db = tmp_path / "archive.db"
    start = f"{site.url}/static/site/channel/"

    first = crawl(db, start, "--follow", "/post/", "--depth", "1")
    assert first.returncode == 0, first.stderr
    assert "5 pages, posts 4 new / 0 changed" in first.stdout
    archived = posts(db)
    assert sorted(archived) == ["101", "102", "103", "104"]  # ids from the URLs, once each
    version, deleted, title, text, raw, excerpt, published = archived["101"]
    assert (version, deleted, excerpt) == (1, None, 0)
    assert title == "青石桥夜市冬季营业时间调整"
    assert published == "2023-02-10T18:20:00+00:00"
    assert text == (
        "【夜市】青石桥夜市本周五起冬季营业时间调整为17:00至23:00。\n"
        "摊位编号不变，糖油粑粑摊位移到东门入口处。\n#夜市 #周末"
    )
    # The site's signature recurs on every post: learned, stripped from the clean
    # text, kept in the raw text, like the bot ad the built-in rules name.
    for _, _, _, text, raw, _, _ in archived.values():
        assert SIGNATURE in raw and "发送关键词" in raw
        assert SIGNATURE not in text and "发送关键词" not in text and "封面图片" not in text
        assert "相关推荐" not in raw and "城市马拉松报名开启" not in archived["101"][3]
    assert query(db, "SELECT COUNT(*) FROM snapshots")[0][0] == 5
    assert query(db, "SELECT kind FROM channels")[0][0] == "web"

    # The site changes.
    (root / "site" / "post" / "103.html").unlink()
    shutil.copytree(FIXTURES / "site_v2", root / "site", dirs_exist_ok=True)
    site.reset_stats()

    second = crawl(db, start, "--follow", "/post/", "--depth", "1")
    assert second.returncode == 0, second.stderr
    assert (
        "posts 1 new / 1 changed / 2 unchanged / 1 deleted, media 0 archived / 4 not archived, 0 errors"
        in second.stdout
    )
    archived = posts(db)
    assert archived["102"][0] == 2 and "恢复双向通行" in archived["102"][3]
    assert archived["103"][1] is not None  # deleted_at
    assert archived["105"][:2] == (1, None) and archived["105"][5] == 0
    assert archived["105"][3].startswith("【文化】市图书馆新馆今日试开放")
    assert archived["101"][0] == 1 and archived["104"][0] == 1  # rotated related cards: no version
    fetched = {path: status for _, path, status in site.stats()}
    # Gone from the listing: fetched again; 103 answers 404 (deleted), 101 is only pushed off.
    assert fetched["/static/site/post/103.html"] == 404
    assert fetched["/static/site/post/101.html"] == 200 and archived["101"][1] is None
    versions_102 = query(
        db,
        "SELECT v.version, v.text FROM post_versions v JOIN posts p ON p.id = v.post"
        " WHERE p.post_id = '102' ORDER BY v.version",
    )
    assert "封闭双向车道" in versions_102[0][1] and "恢复双向通行" in versions_102[1][1]


def test_a_mirror_posts_pictures_are_fetched_and_their_failures_kept(site, tmp_path):
    db = tmp_path / "archive.db"
    start = f"{site.url}/static/mirror/site/channel/"
    done = crawl(db, start, "--follow", "/post/", "--depth", "1")
    assert done.returncode == 0, done.stderr
    assert "0 errors (ok)" in done.stdout  # a missing picture is no page error
    # The fixture's pictures are not served: each was tried once, its reason kept.
    tried = query(db, "SELECT url, status, reason, attempts FROM media_urls ORDER BY url")
    assert tried == [
        (f"{site.url}/img/cover-{n}.jpg", "failed", "HTTP 404", 1) for n in (101, 102, 103, 104)
    ]
    linked = query(
        db,
        "SELECT p.post_id, pm.slot, pm.sha256 FROM post_media pm JOIN posts p ON p.id = pm.post"
        " ORDER BY p.post_id",
    )
    assert linked == [(str(n), "0", None) for n in (101, 102, 103, 104)]
