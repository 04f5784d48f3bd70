"""Writes the archive refuses: told from an item's fault, said in one line, and what is left."""

from __future__ import annotations

import sqlite3
from dataclasses import replace

import pytest

from archive import store
from archive.errors import ArchiveUnwritable
from archive.models import MediaFetch, MediaRef
from archive.store.faults import archive_fault, refusal
from archive.store.unused import remove_unused, unused


def test_the_archive_at_fault_is_told_from_an_item_at_fault(tmp_path):
    db = sqlite3.connect(tmp_path / "a.db")
    db.execute("CREATE TABLE t (x INTEGER PRIMARY KEY)")
    db.execute("INSERT INTO t VALUES (1)")
    with pytest.raises(sqlite3.IntegrityError) as item:
        db.execute("INSERT INTO t VALUES (1)")
    db.execute("PRAGMA query_only = ON")
    with pytest.raises(sqlite3.OperationalError) as archive:
        db.execute("INSERT INTO t VALUES (2)")
    assert not archive_fault(item.value)
    assert archive_fault(archive.value)
    assert archive_fault(OSError(28, "No space left on device"))
    assert archive_fault(ArchiveUnwritable("the archive cannot be written: …"))
    assert refusal(archive.value, tmp_path / "a.db") == (
        f"the archive cannot be written: attempt to write a readonly database ({tmp_path}/a.db)"
    )
    assert refusal(OSError(28, "No space left on device"), "x.db") == (
        "the archive cannot be written: No space left on device (x.db)"
    )
    db.close()


def fetched(url: str) -> MediaFetch:
    return MediaFetch(url=url, fetched_at="2026-01-01T00:00:00+00:00", ok=True, body=b"\xff\xd8x",
                      content_type="image/jpeg", http_status=200)  # fmt: skip


def test_media_not_stored_are_kept_as_such_and_fetched_again(tmp_path):
    db = store.open_archive(tmp_path / "a.db")
    store.ingest_media(db, "https://cdn.example/ok.jpg", [], fetched("https://cdn.example/ok.jpg"))
    reason = "not stored: the archive cannot be written: database or disk is full (a.db)"
    failed = fetched("https://cdn.example/tried.jpg")
    store.ingest_media(db, failed.url, [], replace(failed, ok=False, body=b"", reason="HTTP 500"))
    urls = [f"https://cdn.example/{name}.jpg" for name in ("lost", "ok", "tried", "lost")]
    store.keep_not_stored(db, urls, reason)
    rows = db.execute("SELECT url, status, attempts, reason FROM media_urls ORDER BY url")
    assert rows.fetchall() == [
        ("https://cdn.example/lost.jpg", "failed", 0, reason),  # no try counted, once
        ("https://cdn.example/ok.jpg", "ok", 1, None),  # archived already: left as it is
        ("https://cdn.example/tried.jpg", "failed", 1, reason),  # its earlier try still counts
    ]
    known = store.known_media(db, "c", [], urls)
    assert known.fetched == {"https://cdn.example/ok.jpg"} and not known.failed
    db.close()


def test_an_archive_holding_only_its_bookkeeping_is_unused_and_removed(tmp_path):
    path = tmp_path / "new.db"
    db = store.open_archive(path)
    crawl = store.begin_crawl(db, "@nobody")
    store.record_error(db, crawl, "https://t.me/s/nobody", "fetch", "connection refused")
    store.finish_crawl(db, crawl)
    db.close()
    assert unused(path)
    assert remove_unused(path)
    assert list(tmp_path.iterdir()) == []  # its -wal and -shm too
    assert not remove_unused(path)  # nothing there: nothing removed


def test_an_archive_holding_anything_more_is_kept(tmp_path):
    path = tmp_path / "kept.db"
    db = store.open_archive(path)
    store.ingest_media(db, "https://cdn.example/a.jpg", [MediaRef("c", "1", "0")],
                       fetched("https://cdn.example/a.jpg"))  # fmt: skip
    db.close()
    assert not unused(path) and not remove_unused(path) and path.exists()
    other = tmp_path / "other.db"
    other.write_bytes(b"not a database at all, but someone's file" * 100)
    assert not remove_unused(other) and other.exists()
    empty = tmp_path / "empty.db"
    empty.touch()  # an empty file made by SQLite before a refused write: nothing in it
    assert remove_unused(empty)
