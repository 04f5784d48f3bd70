"""The write path: versions, views, deletions, snapshots, coverage, atomicity."""

import socket
import sqlite3
import subprocess
import sys

import pytest

from archive import store
from archive.models import ERROR_FETCH, ERROR_HTTP, Capture, ChannelInfo, Page, Post
from archive.store import ingest, open_archive

AD = "🔍 发送关键词来寻找群组、频道或视频。启动SOSO机器人"


@pytest.fixture
def db(tmp_path):
    database = open_archive(tmp_path / "archive.db")
    yield database
    database.close()


def tg_page(ids, *, before=None, texts=None, views=100, edited=(), throttled=False):
    texts = texts or {}
    posts = [
        Post(
            channel="news_cn",
            post_id=str(i),
            url=f"https://t.me/news_cn/{i}",
            source_url="https://t.me/s/news_cn",
            published_at=f"2026-11-{1 + i % 28:02d}T08:00:00+00:00",
            raw_text=texts.get(i, f"第{i}条消息：城市地铁新线路今日开通。\n{AD}"),
            views=views,
            edited=i in edited,
        )
        for i in ids
    ]
    return Page(url="https://t.me/s/news_cn", kind="telegram", page_type="channel",
                channel=ChannelInfo(name="news_cn", title="城市新闻"), posts=posts,
                before=before, throttled=throttled)  # fmt: skip


def capture(body=b"<html>page</html>", when="2026-11-26T10:00:00+00:00"):
    return Capture(url="https://t.me/s/news_cn", fetched_at=when, status=200, body=body,
                   headers=[("Content-Type", "text/html; charset=utf-8")])  # fmt: skip


def rows(db, sql, params=()):
    return db.execute(sql, params).fetchall()


def test_first_crawl_archives_posts_with_clean_and_raw_text(db):
    crawl = store.begin_crawl(db, "@news_cn")
    result = store.ingest_page(db, crawl, capture(), tg_page(range(1, 21)))
    assert (result.new, result.changed, result.unchanged, result.deleted) == (20, 0, 0, 0)
    text, raw = rows(db, "SELECT text, raw_text FROM post_versions WHERE post = 1")[0]
    assert AD in raw
    assert AD not in text and text == "第1条消息：城市地铁新线路今日开通。"
    row = store.finish_crawl(db, crawl)
    assert row["status"] == "ok" and row["pages"] == 1 and row["posts_new"] == 20
    assert row["channel_id"] is not None


def test_edit_makes_version_two_and_views_never_do(db):
    store.ingest_page(db, None, capture(), tg_page(range(1, 21), views=100))
    result = store.ingest_page(
        db, None, capture(when="2026-11-27T10:00:00+00:00"),
        tg_page(range(1, 21), views=250, texts={7: "第7条消息（更正）：新线路明日开通。"}, edited={7}),
    )  # fmt: skip
    assert (result.new, result.changed, result.unchanged) == (0, 1, 19)
    versions = rows(db, "SELECT version, v.text, v.edited FROM post_versions v JOIN posts p"
                        " ON p.id = v.post WHERE p.post_id = '7' ORDER BY version")  # fmt: skip
    assert [v[0] for v in versions] == [1, 2]
    assert versions[1][1] == "第7条消息（更正）：新线路明日开通。" and versions[1][2] == 1
    assert rows(db, "SELECT COUNT(*) FROM post_versions")[0][0] == 21
    # Views: one row per post per change, none when unchanged.
    assert rows(db, "SELECT COUNT(*) FROM post_views")[0][0] == 40
    store.ingest_page(
        db, None, capture(when="2026-11-28T10:00:00+00:00"), tg_page(range(1, 21), views=250)
    )
    assert rows(db, "SELECT COUNT(*) FROM post_views")[0][0] == 40
    assert rows(db, "SELECT views FROM posts WHERE post_id = '3'")[0][0] == 250


def test_same_body_is_stored_once(db):
    store.ingest_page(db, None, capture(b"same"), tg_page(range(1, 3)))
    result = store.ingest_page(db, None, capture(b"same"), tg_page(range(1, 3)))
    assert not result.body_stored
    assert rows(db, "SELECT COUNT(*) FROM snapshots")[0][0] == 2
    assert rows(db, "SELECT COUNT(*) FROM bodies")[0][0] == 1
    size, compression = rows(db, "SELECT size, compression FROM bodies")[0]
    assert (size, compression) == (4, "zlib")


def confirm(db, post_id, outcome, when, crawl=None, **fields):
    """A look at ``news_cn/post_id``'s embed that said ``outcome``, as a crawl writes it."""
    return store.record_deletion_check(
        db, crawl, "news_cn", str(post_id), url=f"https://t.me/news_cn/{post_id}?embed=1",
        outcome=outcome, checked_at=when, **fields,
    )  # fmt: skip


def test_post_missing_inside_the_page_range_is_missing_until_its_embed_confirms(db):
    store.ingest_page(db, None, capture(), tg_page(range(1, 41)))
    later = capture(when="2026-11-27T09:00:00+00:00")
    result = store.ingest_page(db, None, later, tg_page([i for i in range(21, 44) if i != 30]))
    assert (result.deleted, result.missing, result.new) == (0, 1, 3)
    assert rows(db, "SELECT COUNT(*) FROM posts WHERE deleted_at IS NOT NULL") == [(0,)]
    assert rows(db, "SELECT post_id, missing_since FROM posts WHERE missing_since IS NOT NULL") == [
        ("30", "2026-11-27T09:00:00+00:00")
    ]
    assert store.pending_deletion_checks(db, "news_cn") == [30]
    # Posts below the page's range are not judged.
    assert (
        rows(db, "SELECT COUNT(*) FROM posts WHERE post_num < 21 AND missing_since IS NULL")[0][0]
        == 20
    )
    assert confirm(db, 30, "deleted", "2026-11-27T09:00:05+00:00", http_status=200)
    assert rows(db, "SELECT post_id, deleted_at, missing_since FROM posts"
                    " WHERE deleted_at IS NOT NULL") == [
        ("30", "2026-11-27T09:00:05+00:00", None)
    ]  # fmt: skip
    assert store.pending_deletion_checks(db, "news_cn") == []
    assert rows(db, "SELECT COUNT(*) FROM post_versions v JOIN posts p ON p.id = v.post"
                    " WHERE p.post_id = '30'")[0][0] == 1  # fmt: skip


def test_before_page_range_reaches_up_to_before(db):
    store.ingest_page(db, None, capture(), tg_page(range(1, 41)))
    # Page before=41 shows 21..39: 40 is gone although it is above the page's highest id.
    result = store.ingest_page(db, None, capture(), tg_page(range(21, 40), before=41))
    assert (result.deleted, result.missing) == (0, 1)
    assert rows(db, "SELECT post_id FROM posts WHERE missing_since IS NOT NULL") == [("40",)]


def test_the_newest_page_misses_a_deleted_newest_post(db):
    store.ingest_page(db, None, capture(), tg_page(range(1, 21)))
    # The newest page now ends at 18: 19 and 20 are gone although above its highest id.
    result = store.ingest_page(db, None, capture(), tg_page(range(1, 19)))
    assert result.missing == 2
    assert store.pending_deletion_checks(db, "news_cn") == [19, 20]
    # An older page (before=N) stands only for its own range.
    assert store.ingest_page(db, None, capture(), tg_page(range(1, 5), before=6)).missing == 1


def test_throttled_or_empty_pages_delete_nothing(db):
    store.ingest_page(db, None, capture(), tg_page(range(1, 41)))
    assert (
        store.ingest_page(db, None, capture(), tg_page([], before=41, throttled=True)).deleted == 0
    )
    assert store.ingest_page(db, None, capture(), tg_page([], before=41)).deleted == 0
    assert rows(db, "SELECT COUNT(*) FROM posts WHERE deleted_at IS NOT NULL")[0][0] == 0
    assert rows(db, "SELECT COUNT(*) FROM posts WHERE missing_since IS NOT NULL")[0][0] == 0


def test_post_that_comes_back_is_no_longer_deleted(db):
    store.ingest_page(db, None, capture(), tg_page(range(1, 11)))
    store.ingest_page(db, None, capture(), tg_page([i for i in range(1, 11) if i != 5]))
    confirm(db, 5, "deleted", "2026-11-26T10:00:01+00:00")
    result = store.ingest_page(db, None, capture(), tg_page(range(1, 11)))
    assert result.changed == 1
    assert rows(db, "SELECT deleted_at, missing_since FROM posts WHERE post_id = '5'") == [
        (None, None)
    ]


def test_a_missing_post_seen_again_is_simply_listed(db):
    store.ingest_page(db, None, capture(), tg_page(range(1, 11)))
    store.ingest_page(db, None, capture(), tg_page([i for i in range(1, 11) if i != 5]))
    result = store.ingest_page(db, None, capture(), tg_page(range(1, 11)))
    assert (result.changed, result.deleted, result.missing) == (0, 0, 0)
    assert rows(db, "SELECT deleted_at, missing_since FROM posts WHERE post_id = '5'") == [
        (None, None)
    ]
    assert rows(db, "SELECT COUNT(*) FROM post_deletions") == [(0,)]


def test_every_check_is_kept_and_only_an_error_block_deletes(db):
    crawl = store.begin_crawl(db, "@news_cn")
    store.ingest_page(db, crawl, capture(), tg_page(range(1, 11)))
    store.ingest_page(
        db, crawl, capture(when="2026-11-27T10:00:00+00:00"), tg_page([1, 2, 3, 4, 8, 9, 10])
    )
    assert store.pending_deletion_checks(db, "news_cn") == [5, 6, 7]
    assert store.pending_deletion_checks(db, "news_cn", limit=2) == [5, 6]
    t = "2026-11-27T10:00:0{}+00:00"
    confirm(db, 5, "deleted", t.format(1), crawl, http_status=200, reason="Post not found")
    confirm(db, 6, "alive", t.format(2), crawl, http_status=200, reason="the embed shows the post")
    confirm(db, 7, "failed", t.format(3), crawl, http_status=503, reason="HTTP 503")
    assert rows(db, "SELECT post_id, deleted_at IS NOT NULL, missing_since IS NOT NULL"
                    " FROM posts WHERE post_num IN (5, 6, 7) ORDER BY post_num") == [
        ("5", 1, 0), ("6", 0, 1), ("7", 0, 1)
    ]  # fmt: skip
    # Alive: kept, missing from the listing, not looked at again unless a listing misses it
    # again; failed: undecided, looked at again by the next crawl.
    assert store.pending_deletion_checks(db, "news_cn") == [7]
    assert rows(db, "SELECT p.post_id, d.crawl_id, d.outcome, d.http_status, d.reason, d.url"
                    " FROM deletion_checks d JOIN posts p ON p.id = d.post ORDER BY d.id") == [
        ("5", crawl, "deleted", 200, "Post not found", "https://t.me/news_cn/5?embed=1"),
        ("6", crawl, "alive", 200, "the embed shows the post", "https://t.me/news_cn/6?embed=1"),
        ("7", crawl, "failed", 503, "HTTP 503", "https://t.me/news_cn/7?embed=1"),
    ]  # fmt: skip
    row = store.finish_crawl(db, crawl)
    assert row["posts_deleted"] == 1 and row["status"] == "ok"
    assert rows(db, "SELECT deleted_at FROM post_deletions") == [(t.format(1),)]
    # A second confirmation of a deleted post changes nothing but the record.
    confirm(db, 5, "deleted", t.format(4), crawl)
    assert rows(db, "SELECT COUNT(*) FROM post_deletions") == [(1,)]


def test_a_check_from_another_host_or_of_an_unknown_post_is_not_kept(db):
    crawl = store.begin_crawl(db, "@news_cn")
    store.ingest_page(db, crawl, capture(), tg_page(range(1, 4)))
    assert not store.record_deletion_check(
        db, crawl, "news_cn", "2", url="http://127.0.0.1:9/news_cn/2?embed=1",
        outcome="deleted", checked_at="2026-11-27T10:00:00+00:00",
    )  # fmt: skip
    assert not confirm(db, 99, "deleted", "2026-11-27T10:00:00+00:00", crawl)
    assert rows(db, "SELECT COUNT(*) FROM deletion_checks") == [(0,)]
    assert rows(db, "SELECT COUNT(*) FROM posts WHERE deleted_at IS NOT NULL") == [(0,)]
    assert rows(db, "SELECT kind FROM crawl_errors") == [("ingest",), ("ingest",)]
    assert "which the archive does not hold" in rows(db, "SELECT message FROM crawl_errors")[1][0]
    with pytest.raises(ValueError):
        confirm(db, 2, "maybe", "2026-11-27T10:00:00+00:00")


def test_coverage_merges_adjacent_pages(db):
    store.ingest_page(db, None, capture(), tg_page(range(41, 61)))
    store.ingest_page(db, None, capture(), tg_page(range(21, 41), before=41))
    assert store.coverage(db, "news_cn") == [(21, 60)]
    store.ingest_page(db, None, capture(), tg_page([], before=21))  # the start of the channel
    assert store.coverage(db, "news_cn") == [(1, 60)]
    store.ingest_page(db, None, capture(), tg_page([], before=5, throttled=True))
    assert store.coverage(db, "news_cn") == [(1, 60)]


def test_a_post_seen_twice_in_one_crawl_counts_once(db):
    crawl = store.begin_crawl(db, "@news_cn")
    store.ingest_page(db, crawl, capture(), tg_page(range(1, 21)))
    store.ingest_page(db, crawl, capture(), tg_page(range(15, 21)))
    row = store.finish_crawl(db, crawl)
    assert (row["posts_new"], row["posts_unchanged"], row["pages"]) == (20, 0, 2)


def test_listing_excerpt_never_overwrites_full_text(db):
    full = tg_page([1], texts={1: "全文：第一段。\n第二段。"})
    store.ingest_page(db, None, capture(), full)
    excerpt = tg_page([1], texts={1: "全文：第一段。"})
    excerpt.posts[0].excerpt = True
    result = store.ingest_page(db, None, capture(), excerpt)
    assert result.changed == 0
    assert rows(db, "SELECT text, current_version FROM posts") == [("全文：第一段。\n第二段。", 1)]


def test_failure_inside_a_page_leaves_nothing_of_it(db, monkeypatch):
    store.ingest_page(db, None, capture(), tg_page(range(1, 6)))
    before = rows(db, "SELECT COUNT(*) FROM snapshots")[0][0]
    calls = {"n": 0}
    real = ingest._insert_views

    def explode(*args):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disk on fire")
        return real(*args)

    monkeypatch.setattr(ingest, "_insert_views", explode)
    with pytest.raises(RuntimeError):
        store.ingest_page(db, None, capture(), tg_page(range(1, 11), views=999))
    assert rows(db, "SELECT COUNT(*) FROM snapshots")[0][0] == before
    assert rows(db, "SELECT COUNT(*) FROM posts")[0][0] == 5
    assert rows(db, "SELECT COUNT(*) FROM post_views WHERE views = 999")[0][0] == 0


def test_error_and_status(db):
    crawl = store.begin_crawl(db, "@news_cn")
    store.record_error(db, crawl, "https://t.me/s/news_cn", ERROR_HTTP, "HTTP 503")
    row = store.finish_crawl(db, crawl)
    assert row["status"] == "failed" and row["errors"] == 1
    assert row["reason"] == "http: HTTP 503 (https://t.me/s/news_cn)"
    crawl = store.begin_crawl(db, "@news_cn")
    store.ingest_page(db, crawl, capture(), tg_page(range(1, 3)))
    store.record_error(db, crawl, "https://t.me/s/news_cn?before=1", ERROR_FETCH, "timed out")
    assert store.finish_crawl(db, crawl)["status"] == "partial"


def test_crawl_of_a_dead_process_is_marked_interrupted(db):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()  # fmt: skip
    crawl = store.begin_crawl(db, "@news_cn")
    db.execute(
        "UPDATE crawls SET worker = ? WHERE id = ?", [f"{dead}@{socket.gethostname()}", crawl]
    )
    alive = store.begin_crawl(db, "@other")
    assert store.reap_interrupted_crawls(db) == 1
    assert store.crawl_row(db, crawl)["status"] == "failed"
    assert "interrupted" in store.crawl_row(db, crawl)["reason"]
    assert store.crawl_row(db, alive)["status"] == "running"


def test_search_finds_chinese_substrings_where_the_default_tokenizer_does_not(db):
    store.ingest_page(
        db, None, capture(), tg_page([1], texts={1: "城市地铁新线路今日开通，市民可免费试乘。"})
    )
    hits = rows(db, "SELECT rowid FROM posts_fts WHERE posts_fts MATCH ?", ['"免费试乘"'])
    assert len(hits) == 1
    # The same text under FTS5's default tokenizer: a CJK run is one token, substrings miss.
    plain = sqlite3.connect(":memory:")
    plain.execute("CREATE VIRTUAL TABLE t USING fts5(text)")
    plain.execute("INSERT INTO t VALUES ('城市地铁新线路今日开通，市民可免费试乘。')")
    assert plain.execute("SELECT COUNT(*) FROM t WHERE t MATCH '\"免费试乘\"'").fetchone()[0] == 0


def test_search_index_follows_edits(db):
    store.ingest_page(db, None, capture(), tg_page([1], texts={1: "旧的文字内容"}))
    store.ingest_page(db, None, capture(), tg_page([1], texts={1: "新的文字内容"}))
    assert (
        rows(db, "SELECT COUNT(*) FROM posts_fts WHERE posts_fts MATCH '\"旧的文字\"'")[0][0] == 0
    )
    assert (
        rows(db, "SELECT COUNT(*) FROM posts_fts WHERE posts_fts MATCH '\"新的文字\"'")[0][0] == 1
    )


def test_reopening_runs_no_migration_twice(tmp_path):
    path = tmp_path / "a.db"
    open_archive(path).close()
    again = open_archive(path)
    names = [r[0] for r in again.execute("SELECT name FROM _chanarchive_migrations")]
    assert names == sorted(set(names)) and "0001_initial" in names
    assert again.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_pages_travel_as_json_to_a_separate_writer(db):
    """A crawl worker may hand its pages to another process: plain JSON in, same rows out."""
    import json

    from archive.models import capture_from_dict, page_from_dict, to_dict

    page = tg_page(range(1, 4))
    page.posts[0].media = [{"type": "photo", "url": "https://cdn.example/1.jpg"}]
    page.posts[1].forwarded_from = {"name": "源频道", "url": None}
    wire = json.dumps({"capture": to_dict(capture(b"\x00\xffbinary")), "page": to_dict(page)})
    message = json.loads(wire)
    result = store.ingest_page(
        db, None, capture_from_dict(message["capture"]), page_from_dict(message["page"])
    )
    assert result.new == 3
    assert rows(db, "SELECT size FROM bodies") == [(8,)]
    assert rows(db, "SELECT forwarded_from_name, media FROM post_versions ORDER BY post")[:2] == [
        (None, '[{"type": "photo", "url": "https://cdn.example/1.jpg"}]'),
        ("源频道", "[]"),
    ]


def test_deletions_and_restorations_are_kept_for_exports_as_of_a_time(db):
    from archive.export import ExportScope, iter_scope

    def at(day):
        return capture(when=f"2026-11-{day:02d}T10:00:00.000000+00:00")

    store.ingest_page(db, None, at(1), tg_page(range(1, 6)))
    store.ingest_page(db, None, at(3), tg_page([1, 2, 4, 5]))  # 3 left the listing
    confirm(db, 3, "deleted", "2026-11-03T10:00:00.000000+00:00")  # its embed: not found
    store.ingest_page(db, None, at(5), tg_page(range(1, 6)))  # 3 is back
    assert rows(db, "SELECT deleted_at, restored_at FROM post_deletions") == [
        ("2026-11-03T10:00:00.000000+00:00", "2026-11-05T10:00:00.000000+00:00")
    ]

    def ids(as_of, **scope):
        return [r["post_id"] for r in iter_scope(db, ExportScope(as_of=as_of, **scope))]

    def deleted(as_of):
        return {r["post_id"]: r["deleted_at"] for r in iter_scope(db, ExportScope(as_of=as_of))}[
            "3"
        ]

    assert ids("2026-11-02T00:00:00Z") == ["1", "2", "3", "4", "5"]
    assert deleted("2026-11-02T00:00:00Z") is None
    # as of the 4th, post 3 was gone: present with its deleted_at, or left out when live
    assert deleted("2026-11-04T00:00:00Z") == "2026-11-03T10:00:00.000000+00:00"
    assert ids("2026-11-04T00:00:00Z", live=True) == ["1", "2", "4", "5"]
    assert ids("2026-11-06T00:00:00Z") == ["1", "2", "3", "4", "5"]
    assert deleted("2026-11-06T00:00:00Z") is None
    assert rows(db, "SELECT deleted_at FROM posts WHERE post_id = '3'") == [(None,)]


# --------------------------------------------------------------------------- a page's claims


def embed_capture(post_id, text, *, when="2026-11-27T10:00:00+00:00", channel="news_cn"):
    body = (
        '<html><body><div class="tgme_widget_message_wrap">'
        f'<div class="tgme_widget_message_error">{text}</div></div></body></html>'
    ).encode()
    return Capture(url=f"https://t.me/{channel}/{post_id}?embed=1", fetched_at=when, status=200,
                   body=body)  # fmt: skip


def test_only_post_not_found_in_the_kept_answer_confirms_a_deletion(db):
    crawl = store.begin_crawl(db, "@news_cn")
    store.ingest_page(db, crawl, capture(), tg_page(range(1, 11)))
    store.ingest_page(db, crawl, capture(when="2026-11-27T09:00:00+00:00"), tg_page([1, 10]))
    t = "2026-11-27T10:00:0{}+00:00"
    # A look said "deleted" of an answer that says something else: kept as undecided.
    confirm(db, 2, "deleted", t.format(1), crawl, capture=embed_capture(2, "Too many requests"))
    confirm(db, 3, "deleted", t.format(2), crawl, capture=embed_capture(9, "Post not found"))
    confirm(db, 4, "deleted", t.format(3), crawl, capture=embed_capture(4, "Post not found"))
    assert rows(db, "SELECT p.post_id, d.outcome, d.reason FROM deletion_checks d"
                    " JOIN posts p ON p.id = d.post ORDER BY d.id") == [
        ("2", "failed", "the embed shows an error that is not 'Post not found': Too many requests"),
        ("3", "failed", "the answer is not the embed of news_cn/3: nothing decided"),
        ("4", "deleted", None),
    ]  # fmt: skip
    assert rows(db, "SELECT post_id FROM posts WHERE deleted_at IS NOT NULL") == [("4",)]
    assert store.pending_deletion_checks(db, "news_cn") == [2, 3, 5, 6, 7, 8, 9]


def test_a_page_writes_only_its_own_channels_posts_whatever_its_kind(db):
    page = Page(
        url="https://m.example/list", kind="web", page_type="listing",
        channel=ChannelInfo(name="m.example", kind="web"),
        posts=[Post(channel="m.example", post_id="1", url="https://m.example/1",
                    source_url="https://m.example/list", raw_text="own", excerpt=True),
               Post(channel="news_cn", post_id="2", url="https://m.example/2",
                    source_url="https://m.example/list", raw_text="POISON", excerpt=True)],
    )  # fmt: skip
    listing = Capture(url="https://m.example/list", fetched_at="2026-11-26T10:00:00+00:00",
                      status=200, body=b"<html>list</html>")  # fmt: skip
    result = store.ingest_page(db, None, listing, page)
    assert result.new == 1 and not result.refused_page
    assert result.refused == ["post news_cn/2 is not channel m.example's: not written"]
    assert rows(db, "SELECT COUNT(*) FROM posts") == [(1,)]


def test_a_channel_is_said_to_come_from_where_it_was_fetched(db):
    local = tg_page(range(1, 3))
    local.channel.source_url = "https://t.me/s/somebody_else"  # what the page claims
    fetched = Capture(url="http://127.0.0.1:8000/s/news_cn?before=3",
                      fetched_at="2026-11-26T10:00:00+00:00", status=200, body=b"x")  # fmt: skip
    store.ingest_page(db, None, fetched, local)
    assert rows(db, "SELECT source_url, origin FROM channels") == [
        ("http://127.0.0.1:8000/s/news_cn", "127.0.0.1:8000")
    ]


def test_a_page_refused_whole_says_so(db):
    store.ingest_page(db, None, capture(), tg_page(range(1, 4)))
    claim = Capture(url="http://evil.example/hostile/claim", fetched_at="2026-11-27T10:00:00+00:00",
                    status=200, body=b"x")  # fmt: skip
    result = store.ingest_page(db, None, claim, tg_page([2, 3, 4], texts={2: "POISON"}))
    assert result.refused_page and result.channel_id is None and result.new == 0
    assert "archived from t.me" in result.refused[0]
    assert not store.ingest_page(db, None, capture(), tg_page([5])).refused_page
