"""Web listings: which posts each mirror listing showed, so a post that leaves one is checked.

The archive keeps, per listing page, the posts it showed when last fetched
(``listing_posts``); a crawl reads them back (:func:`known_web_posts`) to
fetch again a post gone from its listing, whose page tells whether it was
deleted or only pushed off.
"""

from __future__ import annotations

import sqlite_utils

from ..models import Page, WebKnown


def record_listing(db: sqlite_utils.Database, channel_id: int, page: Page, now: str) -> None:
    """Remember which posts this listing shows, to notice one that leaves it."""
    db.execute(
        "DELETE FROM listing_posts WHERE channel_id = ? AND listing_url = ?", [channel_id, page.url]
    )
    for post in page.posts:
        db.execute(
            "INSERT OR REPLACE INTO listing_posts (channel_id, listing_url, post_id, url, seen_at)"
            " VALUES (?, ?, ?, ?, ?)",
            [channel_id, page.url, post.post_id, post.url, now],
        )


def known_web_posts(db: sqlite_utils.Database, channel: str) -> WebKnown:
    """The live posts of web channel ``channel`` and the listings they were last seen on."""
    urls = {
        post_id: url
        for post_id, url in db.execute(
            "SELECT p.post_id, p.url FROM posts p JOIN channels c ON c.id = p.channel_id"
            " WHERE c.name = ? AND p.deleted_at IS NULL AND p.url IS NOT NULL",
            [channel],
        )
    }
    listings: dict[str, list[str]] = {}
    for listing_url, post_id in db.execute(
        "SELECT l.listing_url, l.post_id FROM listing_posts l JOIN channels c"
        " ON c.id = l.channel_id WHERE c.name = ? ORDER BY l.listing_url",
        [channel],
    ):
        if post_id in urls:
            listings.setdefault(listing_url, []).append(post_id)
    return WebKnown(urls=urls, listings=listings)
