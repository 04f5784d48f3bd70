"""A small archive with a history, built through the real write path, for the read-side tests.

Not a test module itself (it holds no tests): the query, search, history,
export and serve tests import :func:`build_sample_archive` from here. The
archive is written with ``archive.store.ingest_page``, the one write path,
so it has the real schema, triggers and full-text index:

- crawl 1 (``T1``): channel ``news_cn`` posts 1–6; site ``mirror_blog`` one post;
- crawl 2 (``T2``): post 3 edited (地铁 → 轻轨), post 5 deleted (gone from the page, its
  embed confirming it), post 7 new, views grown;
  its page came gzip-compressed and chunked (headers as Scrapy left them);
- crawl 3 (``T3``): the same page again, byte for byte (a revisit in WARC);
  one fetch failed (a crawl error).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from archive import store
from archive.models import Capture, ChannelInfo, Page, Post
from archive.store import open_archive

T1 = "2026-11-26T10:00:00.000000+00:00"
T2 = "2026-11-27T10:00:00.000000+00:00"
T3 = "2026-11-28T10:00:00.000000+00:00"
BETWEEN_1_2 = "2026-11-26T18:00:00+00:00"

AD = "🔍 发送关键词来寻找群组、频道或视频。启动SOSO机器人"

TEXTS = {
    1: "今天晴，气温十八度，适合出行。",
    2: "城市马拉松路线公布：从滨江公园出发，经南湖大道到体育中心。",
    3: "地铁3号线南延段今日起试运行，预计年底前开通。",
    4: "市美术馆推出夜场开放，每周五、周六延长至21:00。",
    5: "有网友在解放路公交站捡到一个黑色钱包，失主请联系本频道。",
    6: "Weather update: sunny, 18°C. 地铁二号线每四分钟一班。",
    7: "南湖隧道今晨已恢复双向通行，滨江路绕行提示同步取消。",
}
EDITED_3 = "轻轨3号线南延段今日起试运行，预计明年春节前开通。"


def _post(i: int, text: str, views: int, *, edited: bool = False) -> Post:
    return Post(
        channel="news_cn",
        post_id=str(i),
        url=f"https://t.me/news_cn/{i}",
        source_url="https://t.me/s/news_cn",
        published_at=f"2026-11-{10 + i:02d}T08:00:00+00:00",
        raw_text=f"{text}\n{AD}",
        text=text,
        views=views,
        edited=edited,
        links=[f"https://example.com/{i}"] if i == 2 else [],
        media=[{"type": "photo", "url": f"https://cdn.example/{i}.jpg", "width": 800}]
        if i == 4
        else [],
    )


def _page(ids: list[int], views: int, texts: dict[int, str]) -> Page:
    return Page(
        url="https://t.me/s/news_cn",
        kind="telegram",
        page_type="channel",
        channel=ChannelInfo(
            name="news_cn",
            title="城市新闻",
            description="本地新闻，每天更新。",
            source_url="https://t.me/s/news_cn",
        ),
        posts=[
            _post(i, texts.get(i) or TEXTS[i], views * i, edited=i in texts and i in TEXTS)
            for i in ids
        ],
    )


def _capture(body: bytes, when: str, *, wire_encoded: bool = False) -> Capture:
    headers = [("Content-Type", "text/html; charset=utf-8"), ("Server", "test")]
    if wire_encoded:
        # What the server sent, as Scrapy keeps it after decoding the body.
        headers += [("Content-Encoding", "gzip"), ("Transfer-Encoding", "chunked")]
    headers.append(("Content-Length", "17"))  # no longer the stored body's length
    return Capture(
        url="https://t.me/s/news_cn", fetched_at=when, status=200, body=body, headers=headers
    )


def _mirror_page() -> Page:
    post = Post(
        channel="mirror_blog",
        post_id="hello-world",
        url="https://mirror.example/hello-world",
        source_url="https://mirror.example/hello-world",
        published_at="2026-11-20",
        title="镜像站文章",
        raw_text="这是一篇镜像站上的文章，讲述城市交通的变化。",
        text="这是一篇镜像站上的文章，讲述城市交通的变化。",
    )
    return Page(
        url=post.url,
        kind="web",
        page_type="post",
        channel=ChannelInfo(name="mirror_blog", kind="web", title="Mirror Blog"),
        posts=[post],
    )


def build_sample_archive(path: Path, *, crawls: int = 3) -> Path:
    """Write the sample archive at ``path`` (see the module doc; its first ``crawls``)."""
    db = open_archive(path)
    try:
        crawl = store.begin_crawl(db, "@news_cn")
        store.ingest_page(
            db, crawl, _capture(b"<html>page one</html>", T1), _page([1, 2, 3, 4, 5, 6], 100, {})
        )
        mirror = Capture(
            url="https://mirror.example/hello-world",
            fetched_at=T1,
            status=200,
            body="<html>镜像</html>".encode(),
            headers=[("Content-Type", "text/html; charset=utf-8")],
        )
        store.ingest_page(db, crawl, mirror, _mirror_page())
        store.finish_crawl(db, crawl)
        if crawls < 2:
            return path

        second = _page([1, 2, 3, 4, 6, 7], 150, {3: EDITED_3})
        crawl = store.begin_crawl(db, "@news_cn")
        store.ingest_page(
            db, crawl, _capture(b"<html>page two</html>", T2, wire_encoded=True), second
        )
        # 5 left the listing (missing); its embed then confirmed the deletion.
        store.record_deletion_check(
            db, crawl, "news_cn", "5", url="https://t.me/news_cn/5?embed=1",
            outcome=store.CHECK_DELETED, checked_at=T2, http_status=200, reason="Post not found",
        )  # fmt: skip
        store.finish_crawl(db, crawl)
        if crawls < 3:
            return path

        crawl = store.begin_crawl(db, "@news_cn")
        store.ingest_page(
            db, crawl, _capture(b"<html>page two</html>", T3, wire_encoded=True), second
        )
        store.record_error(
            db, crawl, "https://t.me/s/news_cn?before=1", "http", "HTTP 503 Service Unavailable"
        )
        store.finish_crawl(db, crawl)
    finally:
        db.close()
    return path


def file_state(path: Path) -> dict[str, str | None]:
    """SHA-256 of the archive file and of its -wal (None when there is no -wal)."""
    state: dict[str, str | None] = {}
    for suffix in ("", "-wal"):
        file = Path(f"{path}{suffix}")
        state[suffix or "db"] = (
            hashlib.sha256(file.read_bytes()).hexdigest() if file.exists() else None
        )
    return state
