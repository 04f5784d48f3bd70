"""A post version's HTML, read back from the page it was captured in.

The archive keeps every fetched page byte for byte (``bodies``, compressed),
so a Telegram post's HTML is not stored a second time with each version
(``post_versions.html`` is NULL for them, migration ``0015_compact_storage``):
it is parsed out of the version's snapshot when asked for. Versions that
keep their own ``html`` (mirror sites' posts, or a version without a stored
page) return it as it is.
"""

from __future__ import annotations

import sqlite3

from ..errors import NotAPage
from ..extract import extract_page
from ..store.bodies import read_body


def version_html(conn: sqlite3.Connection, post_pk: int, version: int) -> str | None:
    """The HTML of version ``version`` of post ``post_pk`` (None when it cannot be had)."""
    row = conn.execute(
        "SELECT v.html, p.post_id, c.name, s.url, s.content_type, s.content_sha256"
        " FROM post_versions v JOIN posts p ON p.id = v.post"
        " JOIN channels c ON c.id = p.channel_id"
        " LEFT JOIN snapshots s ON s.id = v.snapshot"
        " WHERE v.post = ? AND v.version = ?",
        [post_pk, version],
    ).fetchone()
    if row is None:
        return None
    html, post_id, channel, url, content_type, sha = row
    if html is not None or sha is None:
        return html
    body = read_body(conn, sha)
    if body is None:
        return None
    try:
        page = extract_page(body, url, content_type=content_type, channel=channel)
    except NotAPage:
        return None
    for post in page.posts:
        if post.post_id == post_id and post.channel == channel:
            return post.html
    return None
