"""Compact storage (migration 0015): a Telegram post's HTML lives only in its captured page.

The page bodies are the archive's truth, kept byte for byte: each version's
HTML is parsed back out of its snapshot on demand, and the WARC export still
gives back every capture exactly as it was fetched.
"""

from __future__ import annotations

import hashlib
import sqlite3
import urllib.request
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from archive.extract import extract_page
from archive.models import Capture, ChannelInfo, Page, Post
from archive.store import ingest_page, open_archive
from archive.store.bodies import read_body
from archive.store.migrations import MIGRATIONS_TABLE
from chanarchive.demo.site import SiteServer, demo_channel, render_channel_page
from tests.crawling import crawl, query, run_cli


def html_from_page(conn: sqlite3.Connection, post_pk: int) -> str | None:
    """The HTML of the post's first version, parsed back out of the page it was captured in."""
    url, content_type, sha, post_id, channel = conn.execute(
        "SELECT s.url, s.content_type, s.content_sha256, p.post_id, c.name FROM post_versions v"
        " JOIN posts p ON p.id = v.post JOIN channels c ON c.id = p.channel_id"
        " JOIN snapshots s ON s.id = v.snapshot WHERE v.post = ? AND v.version = 1",
        [post_pk],
    ).fetchone()
    page = extract_page(read_body(conn, sha), url, content_type=content_type, channel=channel)
    return next((p.html for p in page.posts if (p.channel, p.post_id) == (channel, post_id)), None)


def test_crawled_versions_keep_no_html_of_their_own_and_read_it_from_the_page(tmp_path):
    db = tmp_path / "archive.db"
    channel = demo_channel(1)
    with SiteServer({"chanarchive_demo": channel}) as server:
        url = f"{server.url}/s/chanarchive_demo"
        assert crawl(db, url).returncode == 0
        with urllib.request.urlopen(url) as answer:  # as served (its media URLs on loopback)
            newest = answer.read()
    stored = query(db, "SELECT COUNT(*), COUNT(html) FROM post_versions")[0]
    assert stored[0] == 45 and stored[1] == 0
    expected = {p.post_id: p.html for p in extract_page(newest, url).posts}
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute("SELECT id, post_id FROM posts").fetchall()
        read = {post_id: html_from_page(conn, pk) for pk, post_id in rows}
    finally:
        conn.close()
    assert all(read[post_id] == html for post_id, html in expected.items())
    assert all(html for post_id, html in read.items() if post_id in expected and expected[post_id])
    assert None not in read.values()

    warc = tmp_path / "captures.warc.gz"
    done = run_cli(db, "export", "--format", "warc", "-o", str(warc))
    assert done.returncode == 0, done.stderr
    with open(warc, "rb") as stream:
        payloads = [
            record.content_stream().read()
            for record in ArchiveIterator(stream)
            if record.rec_type == "response"
        ]
    shas = {sha for (sha,) in query(db, "SELECT DISTINCT content_sha256 FROM snapshots")}
    media = {sha for (sha,) in query(db, "SELECT sha256 FROM media_files")}
    assert {hashlib.sha256(body).hexdigest() for body in payloads} == shas | media
    assert newest in payloads  # the newest page comes back byte for byte


def _telegram_page(html: str) -> Page:
    post = Post(channel="news_cn", post_id="7", url="https://t.me/news_cn/7",
                source_url="https://t.me/s/news_cn", raw_text="你好", html=html)  # fmt: skip
    return Page(url="https://t.me/s/news_cn", kind="telegram", page_type="channel",
                channel=ChannelInfo(name="news_cn"), posts=[post])  # fmt: skip


def test_the_migration_drops_html_that_the_stored_page_holds(tmp_path):
    path = tmp_path / "archive.db"
    body = render_channel_page(demo_channel(1), page_size=20).encode()
    db = open_archive(path)
    page = _telegram_page("<b>你好</b>")
    capture = Capture(url="https://t.me/s/news_cn", fetched_at="2026-12-01T00:00:00+00:00",
                      status=200, body=body, headers=[("Content-Type", "text/html")])  # fmt: skip
    ingest_page(db, None, capture, page)
    # As an archive written before 0015 holds it: the HTML beside the page.
    db.execute("UPDATE post_versions SET html = '<b>你好</b>'")
    db.execute(f"DELETE FROM {MIGRATIONS_TABLE} WHERE name = '0015_compact_storage'")
    db.execute("INSERT INTO channels (name, kind, first_seen) VALUES ('web_site', 'web', 'x')")
    db.execute(
        "INSERT INTO posts (channel_id, post_id, current_version, first_seen, last_seen)"
        " VALUES ((SELECT id FROM channels WHERE name = 'web_site'), 'a', 1, 'x', 'x')"
    )
    db.execute(
        "INSERT INTO post_versions (post, version, captured_at, text, raw_text, html, snapshot)"
        " VALUES ((SELECT MAX(id) FROM posts), 1, 'x', 't', 't', '<p>web</p>', 1)"
    )
    db.conn.commit()
    db.close()

    db = open_archive(Path(path))
    try:
        html = dict(db.execute("SELECT c.kind, v.html FROM post_versions v JOIN posts p"
                               " ON p.id = v.post JOIN channels c ON c.id = p.channel_id"))  # fmt: skip
        assert html == {"telegram": None, "web": "<p>web</p>"}
    finally:
        db.close()
