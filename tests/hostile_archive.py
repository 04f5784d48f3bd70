"""An archive with hostile rows written straight with SQLite, for the tests of what reads it.

Not a test module itself. A shared archive may hold anything, whatever
chanarchive's own write path would have checked: :func:`hostile_archive`
takes the sample archive (:mod:`tests.sample_archive`) and puts in posts
of megabytes, times that are not times, counts that are text, JSON that is
not, text that is not UTF-8, a web channel keyed with a port, and media
files whose stored content types are lies.
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

from archive.store.fts import register_functions
from tests.sample_archive import T1, T2, build_sample_archive

#: A post of more than a megabyte (the old value limit of the pages), Chinese and Latin.
BIG = ("长文" * 300_000) + "THE END"
#: Bigger still: more than the pages' result budget weighs with its raw text.
HUGE = "x" * (6 * 1024 * 1024)
WEB = "127.0.0.1:8080"
WEB_POSTS = ("a/b?c=1#d", "%41 b", "文章")
HTML = b"<html><body><script>document.title='ran'</script>ran</body></html>"

#: Stored content type -> what /-/media must answer (content type, inline?).
MEDIA_TYPES = {
    "image/png, text/html": ("application/octet-stream", False),
    "text/html": ("application/octet-stream", False),
    "image/svg+xml": ("application/octet-stream", False),
    "image/png;text/html": ("image/png", True),
    "IMAGE/PNG": ("image/png", True),
    "video/mp4; codecs=avc1": ("video/mp4", True),
    "image/png\r\nX-Evil: 1": ("application/octet-stream", False),
    "": ("application/octet-stream", False),
}


def _media(conn: sqlite3.Connection, content_type: str, n: int) -> str:
    body = HTML + str(n).encode()
    sha = hashlib.sha256(body).hexdigest()
    conn.execute(
        "INSERT INTO media_files (sha256, content_type, size, first_seen, stored_size)"
        " VALUES (?, ?, ?, ?, ?)",
        [sha, content_type, len(body), T1, len(body)],
    )
    conn.execute("INSERT INTO media_bodies (sha256, body) VALUES (?, ?)", [sha, body])
    return sha


def hostile_archive(path: Path) -> dict[str, str]:
    """The sample archive, then hostile rows written straight with SQLite; their media by type."""
    build_sample_archive(path)
    conn = sqlite3.connect(path)
    register_functions(conn)  # the full-text index's triggers call them

    def post(post_id: str) -> int:
        return conn.execute(
            "SELECT p.id FROM posts p JOIN channels c ON c.id = p.channel_id"
            " WHERE c.name = 'news_cn' AND p.post_id = ?",
            [post_id],
        ).fetchone()[0]

    one, two, three, four, six, seven = (post(i) for i in ("1", "2", "3", "4", "6", "7"))
    # Megabytes of text: the current text, every version, the raw text, the HTML, a title.
    conn.execute("UPDATE posts SET text = ?, title = ? WHERE id = ?", [BIG, BIG[:2_000_000], one])
    conn.execute(
        "UPDATE post_versions SET text = ?, raw_text = ?, html = ? WHERE post = ?",
        [BIG, BIG + " raw", BIG, one],
    )
    conn.execute(
        "UPDATE post_versions SET text = ?, raw_text = ? WHERE post = ?", [HUGE, HUGE, six]
    )
    conn.execute("UPDATE posts SET text = ? WHERE id = ?", [HUGE, six])
    # Times that are not times, or not ones a crawl could have seen.
    conn.execute("UPDATE posts SET published_at = '9999-12-31' WHERE id = ?", [two])
    conn.execute(
        "UPDATE posts SET published_at = 'yesterday', first_seen = 12345 WHERE id = ?", [four]
    )
    conn.execute("UPDATE posts SET published_at = X'00ff' WHERE id = ?", [seven])
    conn.execute("UPDATE post_versions SET captured_at = '0000-00-00' WHERE post = ?", [four])
    # Counts that are not counts.
    conn.execute("UPDATE posts SET views = 'lots' WHERE id = ?", [three])
    conn.execute("UPDATE post_views SET views = 'many' WHERE post = ?", [three])
    conn.executemany(
        "INSERT INTO post_views (post, observed_at, views) VALUES (?, ?, ?)",
        [(three, T2, -7), (three, T2, 1e300), (three, "9999-12-31T00:00:00", 5), (three, T2, 99)],
    )
    conn.executemany(
        "INSERT INTO post_reactions (post, observed_at, reactions) VALUES (?, ?, ?)",
        [
            (three, T1, '{"👍": "many", "🔥": 1e999, "😢": 3}'),
            (three, T2, "not json"),
            (three, T2, "[" * 100_000),
            (three, "later", '{"👍": 4}'),
        ],
    )
    conn.execute("UPDATE channels SET subscribers = 'lots', description = ? WHERE name = 'news_cn'", [BIG])  # fmt: skip
    # JSON that is not what it should be.
    conn.execute(
        "UPDATE post_versions SET media = ? WHERE post = ?",
        ['[1, "x", {"url": 5, "sha256": "zz", "size": "big", "type": ["photo"]}]', four],
    )
    conn.execute("UPDATE post_versions SET media = 'not json' WHERE post = ?", [three])
    conn.execute(
        'UPDATE post_versions SET links = \'{"not": "a list"}\','
        " title = CAST(X'ff00fe41' AS TEXT) WHERE post = ?",
        [seven],
    )
    # A crawl with bad counts and an error message of megabytes.
    crawl = conn.execute("SELECT MAX(id) FROM crawls").fetchone()[0]
    conn.execute(
        "UPDATE crawls SET pages = 'many', posts_new = -3, started_at = '0000' WHERE id = ?",
        [crawl],
    )
    conn.execute(
        "INSERT INTO crawl_errors (crawl_id, at, url, kind, message) VALUES (?, ?, ?, ?, ?)",
        [crawl, T2, "javascript:alert(1)", "parse", BIG],
    )
    # A web channel keyed with a port, with posts whose ids need escaping in a URL.
    conn.execute(
        "INSERT INTO channels (name, kind, source_url, title, first_seen)"
        " VALUES (?, 'web', 'http://127.0.0.1:8080/', 'Port site', ?)",
        [WEB, T1],
    )
    web = conn.execute("SELECT id FROM channels WHERE name = ?", [WEB]).fetchone()[0]
    for i, post_id in enumerate(WEB_POSTS):
        url = f"http://{WEB}/{post_id}"
        row = conn.execute(
            "INSERT INTO posts (channel_id, post_id, url, published_at, first_seen, last_seen,"
            " current_version, title, text) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?)",
            [web, post_id, url, "2026-11-20", T1, T1, f"Article {i}", f"正文 {i}"],
        ).lastrowid
        conn.execute(
            "INSERT INTO post_versions (post, version, captured_at, text, raw_text, source_url,"
            " media) VALUES (?, 1, ?, ?, ?, ?, '[]')",
            [row, T1, f"正文 {i}", f"正文 {i}", url],
        )
    # Media files whose stored content types are lies or tricks.
    media = {kind: _media(conn, kind, n) for n, kind in enumerate(MEDIA_TYPES)}
    for slot, kind in enumerate(MEDIA_TYPES):
        conn.execute(
            "INSERT INTO post_media (post, version, slot, url, sha256) VALUES (?, 1, ?, ?, ?)",
            [four, str(slot), f"https://cdn.example/{slot}", media[kind]],
        )
    conn.commit()
    conn.close()
    return media
