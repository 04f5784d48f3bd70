"""Reactions in the archive (issue 11): a series like views, never a version; albums are no gaps."""

from __future__ import annotations

import json

import pytest

from archive import store
from archive.export import FIELDS
from archive.export.scope import ExportScope, iter_scope
from archive.extract.telegram import parse_telegram_page
from archive.models import Capture, ChannelInfo, Page, Post
from archive.store import open_archive
from archive.store.ingest import version_fingerprint
from archive.store.migrations import MIGRATIONS
from tests.paths import FIXTURES

T1, T2, T3 = "2026-11-26T10:00:00+00:00", "2026-11-27T10:00:00+00:00", "2026-11-28T10:00:00+00:00"


@pytest.fixture
def db(tmp_path):
    database = open_archive(tmp_path / "archive.db")
    yield database
    database.close()


def page(reactions, *, text="港口新码头今日启用。", views=100):
    post = Post(
        channel="harbour_notes",
        post_id="7",
        url="https://t.me/harbour_notes/7",
        source_url="https://t.me/s/harbour_notes",
        published_at="2026-11-20T08:00:00+00:00",
        raw_text=text,
        views=views,
        reactions=reactions,
    )
    return Page(url="https://t.me/s/harbour_notes", kind="telegram", page_type="channel",
                channel=ChannelInfo(name="harbour_notes"), posts=[post])  # fmt: skip


def capture(when, body=b"<html>page</html>"):
    return Capture(url="https://t.me/s/harbour_notes", fetched_at=when, status=200, body=body)


def crawl(db, when, pg, body=b"<html>page</html>"):
    crawl_id = store.begin_crawl(db, "@harbour_notes")
    result = store.ingest_page(db, crawl_id, capture(when, body), pg)
    store.finish_crawl(db, crawl_id)
    return result


def list_records(db, scope):
    return list(iter_scope(db, scope))


def series(db):
    return [
        (at, json.loads(value))
        for at, value in db.execute(
            "SELECT observed_at, reactions FROM post_reactions ORDER BY observed_at"
        ).fetchall()
    ]


def test_migration_is_named_and_builds_the_table(db):
    assert "0013_reactions" in [name for name, _ in MIGRATIONS]
    assert {"post", "observed_at", "reactions"} <= set(db["post_reactions"].columns_dict)
    assert "reactions" in db["posts"].columns_dict


def test_reactions_are_a_series_written_only_on_change_and_never_a_version(db):
    crawl(db, T1, page({"👍": 5, "❤": 2}))
    assert crawl(db, T2, page({"❤": 2, "👍": 5}, views=120)).unchanged == 1  # same, reordered
    assert crawl(db, T3, page({"👍": 9, "❤": 2, "custom:77": 1})).unchanged == 1
    assert series(db) == [(T1, {"👍": 5, "❤": 2}), (T3, {"👍": 9, "❤": 2, "custom:77": 1})]
    assert db.execute("SELECT COUNT(*) FROM post_versions").fetchone()[0] == 1
    (record,) = list_records(db, ExportScope())
    assert record["reactions"] == {"👍": 9, "❤": 2, "custom:77": 1}
    assert list(record) == FIELDS and FIELDS.index("reactions") == FIELDS.index("media") + 1
    # as of the second crawl, the export gives the reactions seen by then
    (then,) = list_records(db, ExportScope(as_of=T2))
    assert then["reactions"] == {"👍": 5, "❤": 2}


def test_a_page_without_reactions_records_none_and_exports_null(db):
    crawl(db, T1, page(None))
    assert series(db) == []
    (record,) = list_records(db, ExportScope())
    assert record["reactions"] is None
    crawl(db, T2, page({"⭐": 3}))
    crawl(db, T3, page(None))  # a page that shows no block leaves the latest alone
    assert series(db) == [(T2, {"⭐": 3})]


def test_an_edit_with_new_reactions_is_one_new_version(db):
    crawl(db, T1, page({"👍": 1}))
    assert crawl(db, T2, page({"👍": 2}, text="港口新码头明日启用。")).changed == 1
    assert db.execute("SELECT COUNT(*) FROM post_versions").fetchone()[0] == 2
    assert [r for _, r in series(db)] == [{"👍": 1}, {"👍": 2}]


def test_fingerprint_ignores_reactions_and_placeholders():
    a = page({"👍": 1}).posts[0]
    b = page({"👍": 1000, "custom:5": 3}).posts[0]
    c = page(None).posts[0]
    assert version_fingerprint(a) == version_fingerprint(b) == version_fingerprint(c)
    d = page(None).posts[0]
    d.media = [{"type": "unsupported", "url": d.url, "label": "Please open Telegram"}]
    assert version_fingerprint(d) == version_fingerprint(c)
    d.media = [{"type": "photo", "url": "https://cdn.example.org/x.jpg"}]
    assert version_fingerprint(d) != version_fingerprint(c)


def test_album_item_ids_and_gaps_are_not_deletions_on_a_recrawl(db):
    body = (FIXTURES / "telegram" / "capture_kinds.html").read_bytes()
    url = "https://t.me/s/harbour_notes"
    parsed = parse_telegram_page(body, url)
    first = crawl(db, T1, parsed, body)
    assert first.new == 10 and first.deleted == 0
    # the album (102) links items 103 and 104; 105 is a gap: none of them is a post
    held = {r[0] for r in db.execute("SELECT post_id FROM posts").fetchall()}
    assert not {"103", "104", "105"} & held
    again = crawl(db, T2, parse_telegram_page(body, url), body)
    assert (again.new, again.changed, again.deleted) == (0, 0, 0)
    assert db.execute("SELECT COUNT(*) FROM posts WHERE deleted_at IS NOT NULL").fetchone()[0] == 0
    media = json.loads(
        db.execute(
            "SELECT v.media FROM post_versions v JOIN posts p ON p.id = v.post"
            " WHERE p.post_id = '102'"
        ).fetchone()[0]
    )
    assert [m["post_id"] for m in media] == ["102", "103", "104"]
    (reacted,) = [r for r in list_records(db, ExportScope()) if r["post_id"] == "101"]
    assert reacted["reactions"]["custom:5368324170671202286"] == 5
