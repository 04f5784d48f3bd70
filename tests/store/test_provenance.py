"""Provenance kept at capture time: the server's address and the request as sent.

Checked at the capture's door (:class:`archive.models.Capture`, also for a
record from another process), kept by the store (migration ``0018``), and
absent, not invented, for captures made before; an archive from before the
migration exports as it is.
"""

from __future__ import annotations

import json
import sqlite3

import pytest

from archive import store
from archive.errors import BadRecord
from archive.models import Capture, MediaFetch, MediaRef, capture_from_dict, to_dict
from archive.store import connect_readonly, open_archive
from archive.store.media import ingest_media
from tests.helpers import run
from tests.sample_archive import T1, build_sample_archive

REQUEST = [("Host", "t.me"), ("User-Agent", "chanarchive/test"), ("Accept", "text/html")]


def capture(**provenance) -> Capture:
    return Capture(
        url="https://t.me/s/news_cn",
        fetched_at=T1,
        status=200,
        body=b"<html>page</html>",
        headers=[("Content-Type", "text/html")],
        **provenance,
    )


def test_the_capture_keeps_only_values_a_warc_record_can_carry():
    kept = capture(
        ip_address="2001:0DB8:0:0::1",
        request_line="GET /s/news_cn?before=10 HTTP/1.1",
        request_headers=[*REQUEST, ("X-Bad", "a\r\nInjected: 1"), ("Bad Name", "x")],
    )
    assert kept.ip_address == "2001:db8::1"
    assert kept.request_headers == REQUEST
    dropped = capture(
        ip_address="149.154.167.99\r\nWARC-Evil: 1",
        request_line="GET / HTTP/1.1\r\nX-Injected: 1",
        request_headers=REQUEST,
    )
    assert (dropped.ip_address, dropped.request_line, dropped.request_headers) == (None, None, [])
    assert capture(ip_address="t.me").ip_address is None
    # A record from another process goes through the same door, and round-trips.
    record = to_dict(kept)
    assert capture_from_dict(record) == kept
    assert capture_from_dict({**record, "ip_address": "not an address"}).ip_address is None
    with pytest.raises(BadRecord):
        capture_from_dict({**record, "request_headers": "Host: t.me"})
    # A record from before these fields were kept still reads.
    old = {k: v for k, v in record.items() if k not in ("ip_address", "request_line",
                                                          "request_headers")}  # fmt: skip
    assert capture_from_dict(old).ip_address is None
    assert MediaFetch("https://cdn/x.jpg", T1, True, b"x", ip_address="1.2.3.4 ").ip_address is None


def test_the_store_keeps_the_address_and_the_request(tmp_path):
    db = open_archive(tmp_path / "archive.db")
    try:
        crawl = store.begin_crawl(db, "@news_cn")
        line = "GET /s/news_cn HTTP/1.1"
        store.ingest_page(
            db,
            crawl,
            capture(ip_address="149.154.167.99", request_line=line, request_headers=REQUEST),
            None,
        )
        store.ingest_page(db, crawl, capture(), None)  # nothing known: nothing kept
        rows = db.execute(
            "SELECT ip_address, request_line, request_headers FROM snapshots ORDER BY id"
        ).fetchall()
        assert rows[0][:2] == ("149.154.167.99", line)
        assert [tuple(h) for h in json.loads(rows[0][2])] == REQUEST
        assert rows[1] == (None, None, None)
        fetch = MediaFetch("https://cdn/x.jpg", T1, True, b"\xff\xd8x", "image/jpeg", 200,
                           ip_address="149.154.167.51")  # fmt: skip
        ingest_media(db, fetch.url, [MediaRef("news_cn", "1", "0")], fetch)
        assert db.execute("SELECT ip_address FROM media_urls").fetchall() == [("149.154.167.51",)]
    finally:
        db.close()


def test_an_archive_from_before_the_migration_exports_as_it_is(tmp_path):
    db = build_sample_archive(tmp_path / "archive.db")
    conn = sqlite3.connect(db)
    for column in ("ip_address", "request_line", "request_headers"):
        conn.execute(f"ALTER TABLE snapshots DROP COLUMN {column}")
    conn.execute("ALTER TABLE media_urls DROP COLUMN ip_address")
    conn.execute("DELETE FROM _chanarchive_migrations WHERE name = '0018_provenance'")
    conn.commit()
    conn.close()
    out = tmp_path / "old.wacz"
    result = run(db, "export", "--format", "wacz", "-o", str(out))  # read-only: no migration
    assert result.exit_code == 0, result.output
    conn = connect_readonly(db)
    try:
        columns = {row[1] for row in conn.execute("SELECT * FROM pragma_table_info('snapshots')")}
    finally:
        conn.close()
    assert "ip_address" not in columns
    assert run(db, "verify").exit_code == 1  # its one deletion has no evidence; nothing else
    open_archive(db).close()  # a writer migrates it
    conn = connect_readonly(db)
    try:
        columns = {row[1] for row in conn.execute("SELECT * FROM pragma_table_info('snapshots')")}
    finally:
        conn.close()
    assert {"ip_address", "request_line", "request_headers"} <= columns
