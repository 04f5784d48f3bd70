"""The archive's own pages (``archive.serve.plugin``), read over HTTP without a browser.

What a person sees in Chromium is in ``test_pages_browser.py``; here: the
HTML each page serves, its status, escaping of hostile text, reactions when
the archive keeps them, and the plugin reaching bare ``datasette``.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import subprocess
import sys
import urllib.parse
from pathlib import Path

import pytest

from archive import store
from archive.models import Capture, ChannelInfo, Page, Post
from archive.serve.app import make_datasette
from archive.store import open_archive
from tests.sample_archive import T1, T2, build_sample_archive, file_state


def fetch(db: Path, *paths: str) -> list[tuple[int, str]]:
    """GET each path from an in-process Datasette on ``db``: (status, body)."""
    ds = make_datasette(db)

    async def get_all():
        await ds.invoke_startup()
        out = []
        for path in paths:
            response = await ds.client.get(path)
            out.append((response.status_code, response.text))
        return out

    return asyncio.run(get_all())


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    return build_sample_archive(tmp_path_factory.mktemp("pages") / "archive.db")


def test_home_page_leads_with_the_channels(sample):
    [(status, page)] = fetch(sample, "/")
    assert status == 200
    channels = page.index("<h2>Channels")
    assert channels < page.index("<h2>Latest changes") < page.index("Tables, views and canned")
    assert page.index("<h1>") < channels
    # The internal tables are there, folded away.
    assert re.search(r'<details class="internal">\s*<summary>', page)
    assert page.index('/archive/boilerplate"') > page.index('<details class="internal">')
    rows = re.findall(r"<tr>\s*<td><a href=\"/-/channel/([^\"]+)\">", page)
    assert sorted(rows) == ["mirror_blog", "news_cn"]
    news = page[page.index('href="/-/channel/news_cn"') :].split("</tr>")[0]
    cells = re.findall(r'<td class="num">([^<]*)</td>', news)
    assert cells == ["7", "1", "1"]  # posts, edits found, deletions found
    assert "<td>城市新闻</td>" in news and '<span class="status-partial">partial</span>' in news


def test_channel_page_draws_activity_and_lists_changes_and_crawls(sample):
    [(status, page)] = fetch(sample, "/-/channel/news_cn")
    assert status == 200
    assert "<h1>城市新闻" in page
    svg = page[page.index('<svg class="chart activity"') : page.index("</svg>") + 6]
    totals = dict(re.findall(r'<g class="series (\w+)" data-total="(\d+)"', svg))
    assert totals == {"posts": "7", "edits": "1", "deletions": "1"}
    assert 'data-unit="day"' in svg and "<rect" in svg
    assert "2026-11-27: 1 edit</title>" in svg and "2026-11-27: 1 deletion</title>" in svg
    assert "<del>地铁</del><ins>轻轨</ins>" in page
    # The first crawl's six posts are one line; the edit, deletion and new post of the second.
    assert page.count('class="change change-') == 4
    assert "6 posts archived on 2026-11-26 (the channel's first crawl)" in page
    # Its crawls, the newest first, with their errors.
    statuses = re.findall(r'<tr class="crawl crawl-(\w+)">', page)
    assert statuses == ["partial", "ok", "ok"]
    assert "http: HTTP 503 Service Unavailable" in page


def test_post_page_marks_each_edit_and_draws_views(sample):
    [(status, page)] = fetch(sample, "/-/post/news_cn/3")
    assert status == 200
    assert page.index('id="v2"') < page.index('id="v1"')  # newest first
    v2 = page[page.index('id="v2"') : page.index('id="v1"')]
    assert "<del>地铁</del><ins>轻轨</ins>3号线" in v2
    assert "预计<ins>明</ins>年<del>底</del><ins>春节</ins>前开通" in v2
    assert "captured 2026-11-27 10:00:00 UTC" in v2 and "https://t.me/s/news_cn" in v2
    assert '<svg class="chart line views"' in page and 'data-points="2"' in page
    assert "No reactions seen." in page  # the archive keeps reactions (0013), none for this post
    [(_, photo)] = fetch(sample, "/-/post/news_cn/4")
    assert '<a href="https://cdn.example/4.jpg" rel="noreferrer nofollow">' in photo
    [(_, gone)] = fetch(sample, "/-/post/news_cn/5")
    assert "Deleted: a crawl found this post gone at 2026-11-27 10:00:00 UTC" in gone
    [(web_status, web)] = fetch(sample, "/-/post/mirror_blog/hello-world")
    assert web_status == 200 and "镜像站文章" in web


def test_unknown_channels_and_posts_get_a_plain_404(sample):
    results = fetch(sample, "/-/channel/nobody", "/-/post/news_cn/999", "/-/post/nobody/1")
    assert [status for status, _ in results] == [404, 404, 404]
    assert "There is no channel called “nobody” here." in results[0][1]
    assert "The channel news_cn has no post 999 in this archive." in results[1][1]
    assert '<a href="/-/channel/news_cn">' in results[1][1]
    assert all("<h1>Not found</h1>" in body for _, body in results)


def test_reactions_are_drawn_when_the_archive_keeps_them(tmp_path):
    db = build_sample_archive(tmp_path / "archive.db")
    conn = sqlite3.connect(db)  # as another part of chanarchive may write them
    conn.execute(  # migration 0013_reactions makes it; older archives may lack it
        "CREATE TABLE IF NOT EXISTS post_reactions (post INTEGER, observed_at TEXT, reactions TEXT)"
    )
    conn.executemany(
        "INSERT INTO post_reactions VALUES ((SELECT id FROM posts WHERE post_id = '3'), ?, ?)",
        [(T1, json.dumps({"👍": 10, "🔥": 2})), (T2, json.dumps({"👍": 25, "🔥": 7, "😢": 1}))],
    )
    conn.commit()
    conn.close()
    [(status, page), (_, other)] = fetch(db, "/-/post/news_cn/3", "/-/post/news_cn/1")
    assert status == 200
    svg = page[page.index('<svg class="chart line reactions"') :]
    svg = svg[: svg.index("</svg>")]
    assert 'data-series="3"' in svg
    assert "👍: 25 at 2026-11-27" in svg and "🔥 7</text>" in svg
    assert "<h2>Reactions</h2>" in other and "No reactions seen." in other


def _hostile_archive(path: Path) -> Path:
    db = open_archive(path)
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    post = Post(
        channel="evil",
        post_id="1",
        url="javascript:alert(1)",
        source_url="javascript:alert(2)",
        raw_text=evil,
        text=evil,
        media=[{"type": "photo", "url": "javascript:alert(3)"}],
        views=5,
    )
    page = Page(
        url="https://t.me/s/evil",
        kind="telegram",
        page_type="channel",
        channel=ChannelInfo(name="evil", title=evil, description=evil),
        posts=[post],
    )
    crawl = store.begin_crawl(db, "@evil")
    store.ingest_page(db, crawl, Capture(page.url, T1, 200, b"x"), page)
    edited = Post(**{**post.__dict__, "text": evil + " </del><b>bold</b>", "raw_text": evil})
    store.ingest_page(db, crawl, Capture(page.url, T2, 200, b"y"), Page(**{**page.__dict__, "posts": [edited]}))  # fmt: skip
    store.record_error(db, crawl, "https://t.me/s/evil?x=<script>", "parse", evil)
    store.finish_crawl(db, crawl)
    db.close()
    return path


def test_hostile_text_is_shown_as_text_everywhere(tmp_path):
    db = _hostile_archive(tmp_path / "hostile.db")
    for status, page in fetch(db, "/", "/-/channel/evil", "/-/post/evil/1"):
        assert status == 200
        assert "<script>alert" not in page and "<img src=x" not in page
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
        assert 'href="javascript:' not in page and "<b>bold</b>" not in page
        assert "<script>" not in re.sub(r"<script>\s*document\.body\.addEventListener", "", page)


def test_bare_datasette_has_the_pages_and_the_guard(tmp_path):
    db = build_sample_archive(tmp_path / "archive.db")
    conn = sqlite3.connect(db)
    conn.execute(
        "INSERT INTO notify_targets (source, url, shown, notified_until)"
        " VALUES ('@news_cn', 'json://user:secret@host/x', 'json://user:****@host/x', ?)",
        [T1],
    )
    conn.commit()
    conn.close()
    before = file_state(db)

    def get(path: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "datasette", str(db), "--get", path],
            capture_output=True,
            text=True,
            timeout=60,
        )

    home = get("/")
    assert home.returncode == 0 and "<h2>Channels" in home.stdout
    assert "<del>地铁</del>" in get("/-/post/news_cn/3").stdout
    sql = urllib.parse.quote("SELECT url, shown FROM notify_targets")
    rows = json.loads(get(f"/archive.json?_shape=array&sql={sql}").stdout)
    assert rows == [{"url": None, "shown": "json://user:****@host/x"}]
    attach = urllib.parse.quote(f"ATTACH DATABASE '{tmp_path / 'evil.db'}' AS evil")
    get(f"/archive.json?sql={attach}")
    assert not (tmp_path / "evil.db").exists()
    assert file_state(db)["db"] == before["db"]

    plain = tmp_path / "plain.db"
    sqlite3.connect(plain).execute("CREATE TABLE t (x)").connection.close()
    other = subprocess.run(
        [sys.executable, "-m", "datasette", str(plain), "--get", "/"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert other.returncode == 0
    assert "<h2>Channels" not in other.stdout and 'href="/plain"' in other.stdout
