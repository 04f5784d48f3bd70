"""What Datasette shows about an archive: descriptions, search, facets and canned queries.

:func:`metadata` builds Datasette's metadata for one archive file: a
title, a description of every table and of its columns, the full-text
search of ``posts`` (``posts_fts``, trigram: any run of three or more
characters, Chinese included; with chanarchive's plugin, shorter words too:
see :mod:`archive.serve.plugin.search`), facets, sort orders and label columns, and
canned queries for the common questions. The canned queries are plain SQL
over the base tables, so they work on an archive of any schema version;
the views of migration ``0003_views`` serve people writing their own SQL.

``chanarchive serve`` passes this to Datasette; ``chanarchive serve
--metadata`` prints it for ``datasette archive.db -m metadata.json``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .. import __version__

#: Short descriptions of the tables, and of the columns worth explaining.
TABLES: dict[str, dict[str, Any]] = {
    "channels": {
        "description": "Each archived channel or site: a Telegram channel or a web source.",
        "columns": {
            "name": "The channel's name (Telegram username, lower case) or the site's key",
            "kind": "telegram or web",
            "source_url": "Where the channel is read (https://t.me/s/NAME for Telegram)",
            "subscribers": "Subscriber count as the page last showed it",
            "first_seen": "When the archive first saw the channel (UTC)",
            "last_crawled": "When its last crawl finished (UTC)",
        },
        "label_column": "name",
    },
    "posts": {
        "description": (
            "One row per post with its current clean text (boilerplate removed)."
            " Every earlier version is in post_versions. Search finds what `chanarchive search`"
            " finds: every word must occur, Chinese needs no spaces (地铁 finds 地铁站)."
        ),
        "columns": {
            "channel_id": "The channel (channels.id)",
            "post_id": "The post's id within its channel (Telegram message id)",
            "post_num": "post_id as a number, for sorting",
            "url": "The post's own URL",
            "published_at": "When the channel published it (ISO 8601, as the page says)",
            "first_seen": "When the archive first captured it (UTC)",
            "last_seen": "When a crawl last saw it (UTC)",
            "deleted_at": "When its own embed confirmed it gone (null: still there); the post is kept",
            "missing_since": "When its listing stopped showing it, not yet confirmed deleted",
            "current_version": "The number of its latest version in post_versions",
            "title": "Title (web posts; Telegram posts have none)",
            "text": "The current clean text: boilerplate such as bot ads removed",
            "edited": "1 when the page marks it edited or an earlier version differs",
            "views": "The latest view count (post_views keeps the series)",
            "reactions": (
                "The latest reactions, JSON {emoji: count} (custom:ID a custom emoji,"
                " ⭐ paid stars); post_reactions keeps the series"
            ),
            "last_crawl": "The last crawl that saw it (crawls.id)",
        },
        "facets": ["channel_id", "edited", {"date": "published_at"}],
        "sort_desc": "published_at",
        "fts_table": "posts_fts",
        "fts_pk": "id",
        "label_column": "url",
    },
    "post_versions": {
        "description": (
            "Every version of every post. A new version is written only when the captured"
            " content changes; view counts never make one."
        ),
        "columns": {
            "post": "The post (posts.id)",
            "version": "1, 2, … in the order they were captured",
            "captured_at": "When this version was first seen (UTC)",
            "text": "Clean text of this version",
            "raw_text": "The post's text exactly as captured (ads and signatures included)",
            "html": "The text's HTML as captured (NULL for Telegram posts: it is in the"
            " captured page, `bodies`)",
            "edited": "1 when the page marked this version as edited",
            "excerpt": "1 when only a listing's excerpt was captured",
            "forwarded_from": "URL of the channel or post it was forwarded from",
            "reply_to": "URL of the post it replies to",
            "links": "JSON list of the URLs in the text",
            "media": "JSON list of {type, url} of attached media",
            "content_sha256": "Fingerprint of the content that makes a version",
            "snapshot": "The page capture this version came from (snapshots.id)",
            "source_url": "The page it was captured from",
        },
        "facets": ["version", "edited"],
        "sort_desc": "captured_at",
    },
    "post_views": {
        "description": "View counts over time: one row each time a crawl saw a new count.",
        "columns": {
            "post": "The post (posts.id)",
            "observed_at": "When the count was seen (UTC)",
            "views": "The count",
        },
        "sort_desc": "observed_at",
    },
    "post_reactions": {
        "description": (
            "Reactions over time: one row each time a crawl saw them change. Reactions never"
            " make a new version."
        ),
        "columns": {
            "post": "The post (posts.id)",
            "observed_at": "When these reactions were seen (UTC)",
            "reactions": (
                "JSON {emoji: count}: an emoji, custom:ID for a custom emoji, ⭐ for paid stars"
            ),
        },
        "sort_desc": "observed_at",
    },
    "crawls": {
        "description": "One row per crawl run, scheduled or manual, with what it found.",
        "columns": {
            "source": "The SOURCE as given (@name or a URL)",
            "status": "running, ok, partial (some pages failed) or failed",
            "pages": "Pages fetched and archived",
            "posts_new": "Posts seen for the first time",
            "posts_changed": "Posts whose content changed (a new version)",
            "posts_unchanged": "Posts seen again unchanged",
            "posts_deleted": "Posts found gone",
            "media_archived": "Media files fetched and archived",
            "media_failed": "Media files fetched or tried and not archived (see media_urls)",
            "errors": "Failed fetches and parses; the reasons are in crawl_errors",
            "reason": "Why the crawl is partial or failed",
            "trigger": "manual or scheduled",
        },
        "facets": ["status", "trigger", "channel_id"],
        "sort_desc": "started_at",
    },
    "crawl_errors": {
        "description": "Why a fetch or a parse failed during a crawl.",
        "columns": {
            "crawl_id": "The crawl (crawls.id)",
            "kind": "fetch, http, parse, throttled, unreadable or ingest",
            "message": "What went wrong",
        },
        "facets": ["kind"],
        "sort_desc": "at",
    },
    "snapshots": {
        "description": (
            "Every fetched page. The raw body is stored once per distinct content_sha256 in"
            " bodies; `chanarchive export --format warc` writes them out as WARC."
        ),
        "columns": {
            "url": "The URL fetched (after redirects)",
            "requested_url": "The URL asked for",
            "fetched_at": "When it was fetched (UTC)",
            "http_status": "The HTTP status",
            "content_sha256": "SHA-256 of the body (bodies.sha256)",
            "headers": "The response headers as a JSON list of [name, value]",
            "page_type": "channel, listing, post, gone, or embed (a deletion check's answer)",
            "posts": "How many posts the page held",
        },
        "facets": ["http_status", "page_type", "channel_id"],
        "sort_desc": "fetched_at",
    },
    "bodies": {
        "description": "Raw page bodies, one per distinct SHA-256, zlib-compressed.",
        "columns": {
            "size": "Size of the body before compression",
            "compression": "How body is compressed (zlib)",
        },
    },
    "coverage": {
        "description": "Ranges of Telegram message ids the archive has seen in full, per channel.",
    },
    "post_deletions": {
        "description": "Every time a post was found gone, and when it came back (if it did).",
        "columns": {
            "post": "The post (posts.id)",
            "deleted_at": "When its own embed confirmed it gone (UTC)",
            "restored_at": "When a later crawl saw it again (null: still gone)",
        },
        "sort_desc": "deleted_at",
    },
    "deletion_checks": {
        "description": (
            "Every look at a post's own embed (/NAME/ID?embed=1) after its listing stopped"
            " showing it: deleted confirms the deletion, alive keeps the post (missing from the"
            " listing: posts.missing_since), failed decides nothing."
        ),
        "columns": {
            "crawl_id": "The crawl that looked (crawls.id)",
            "post": "The post (posts.id)",
            "outcome": "deleted, alive or failed",
            "http_status": "The embed's HTTP status (null: no answer)",
            "reason": "What the embed said, or why it could not be read",
            "snapshot": "The answer as fetched (snapshots.id, page_type embed; null: none came)",
        },
        "facets": ["outcome"],
        "sort_desc": "checked_at",
    },
    "boilerplate": {
        "description": (
            "Lines recurring at the end (or start) of a channel's posts: candidates counted by"
            " a hash of their text, and once learned_at is set (line then holds the text),"
            " stripped from the clean text (the raw text keeps them)."
        ),
    },
    "listing_posts": {
        "description": "Web listings: the posts each listing page showed when last fetched.",
    },
    "sources": {"description": "Scheduled sources: what `chanarchive scheduler run` crawls, when."},
    "notify_targets": {
        "description": (
            "Where each scheduled source's changes are announced (sources add --notify), and"
            " up to when each target has been told. The URL may hold credentials: queries"
            " read it as null; `shown` is masked."
        ),
        "hidden": True,
    },
    "notifications": {
        "description": "Every notification sent or attempted after a scheduled crawl, and what it said.",
        "sort_desc": "attempted_at",
        "facets": ["status", "source"],
    },
    "media_files": {
        "description": (
            "Media files archived at first sight (crawl --media), each once by sha256 whatever"
            " posts show it; /-/media/SHA256 serves one. The bytes are in media_bodies."
        ),
        "columns": {
            "sha256": "SHA-256 of the file's bytes (hex)",
            "content_type": "Content type the server gave",
            "size": "Bytes",
            "first_seen": "When it was first fetched (UTC)",
            "url": "The URL it was first fetched from",
            "compression": "null (kept as fetched) or zlib (when that saved more than 10%)",
            "stored_size": "Bytes as kept in the archive",
        },
        "sort_desc": "first_seen",
        "facets": ["content_type"],
    },
    "media_bodies": {
        "description": "The bytes of each media file (see media_files).",
        "hidden": True,
    },
    "media_urls": {
        "description": (
            "Every media URL a crawl tried: ok (its file is archived, never fetched again) or"
            " failed, with the reason; a failed URL is tried again by later crawls, up to 3 times."
        ),
        "columns": {
            "url": "The media URL",
            "sha256": "The file it gave (media_files.sha256), when ok",
            "status": "ok or failed",
            "http_status": "The HTTP status of the last try",
            "reason": "Why it failed (HTTP 500, too large, timed out, ...)",
            "attempts": "How many times it was fetched",
            "first_tried": "First try (UTC)",
            "last_tried": "Last try (UTC)",
        },
        "sort_desc": "last_tried",
        "facets": ["status"],
    },
    "post_media": {
        "description": (
            "Each post version's media items and the file each showed: slot 0, 1, ... is the"
            " version's media item, 0/thumb its thumbnail, preview the link preview's image."
        ),
        "columns": {
            "post": "The post (posts.id)",
            "version": "The post version (post_versions.version)",
            "slot": "Which media item: its index, index/thumb, or preview",
            "url": "The URL it had when fetched (Telegram's change between fetches)",
            "sha256": "The archived file (media_files.sha256); null: not (yet) archived",
            "attempts": "Failed fetches of this item",
            "reason": "Why the last fetch failed",
        },
    },
    "host_backoff": {
        "description": "Hosts backed off after a 429 or Retry-After, for every crawl job.",
    },
    "queued_crawls": {
        "description": "Crawls run by workers through Redis (chanarchive ingest): the job of each.",
        "columns": {
            "token": "The job's token, as `crawl --redis` queued it",
            "crawl_id": "The crawl it began (crawls.id)",
            "queue": "The Redis it came through (host:port/db)",
            "announced": "1 once its finished row was published back to Redis",
        },
    },
    "queued_deliveries": {
        "description": "Requests of a running distributed crawl already written (each once).",
    },
    "current_posts": {
        "description": "View: each post with its channel name and its current version's fields.",
    },
    "post_history": {
        "description": "View: every version of every post, with channel name and post URL.",
    },
    "crawl_runs": {
        "description": "View: crawls with their channel name and duration in seconds.",
    },
    "_chanarchive_migrations": {
        "description": "The schema migrations applied to this archive.",
    },
}

_POST_MATCH = (
    "(p.url = :post OR ch.name || '/' || p.post_id = lower(ltrim(:post, '@'))"
    " OR 'https://t.me/' || ch.name || '/' || p.post_id = :post"
    " OR 'https://t.me/s/' || ch.name || '/' || p.post_id = :post)"
)

#: Canned queries: name → title, description and SQL (read-only; ``:post`` etc. are parameters).
QUERIES: dict[str, dict[str, str]] = {
    "latest_posts": {
        "title": "Latest posts",
        "description": "The 100 most recently published posts, with their channel.",
        "sql": (
            "SELECT ch.name AS channel, p.post_id, p.published_at, p.text, p.views,"
            " p.edited, p.deleted_at, p.url\n"
            "FROM posts p JOIN channels ch ON ch.id = p.channel_id\n"
            "ORDER BY p.published_at DESC, p.first_seen DESC LIMIT 100"
        ),
    },
    "edited_posts": {
        "title": "Edited posts, with their versions",
        "description": "Every version of each post that has more than one, oldest first.",
        "sql": (
            "SELECT ch.name AS channel, p.post_id, v.version, v.captured_at, v.text, p.url\n"
            "FROM posts p JOIN channels ch ON ch.id = p.channel_id\n"
            "JOIN post_versions v ON v.post = p.id\n"
            "WHERE p.current_version > 1\n"
            "ORDER BY p.published_at DESC, p.id, v.version"
        ),
    },
    "deleted_posts": {
        "title": "Deleted posts",
        "description": "Posts a crawl found gone, most recent first; their text is kept.",
        "sql": (
            "SELECT ch.name AS channel, p.post_id, p.deleted_at, p.published_at, p.text, p.url\n"
            "FROM posts p JOIN channels ch ON ch.id = p.channel_id\n"
            "WHERE p.deleted_at IS NOT NULL ORDER BY p.deleted_at DESC"
        ),
    },
    "history_of_post": {
        "title": "A post's history",
        "description": "Every version of one post: give its URL or channel/post_id.",
        "sql": (
            "SELECT v.version, v.captured_at, v.text, v.raw_text, v.edited, v.source_url,"
            " p.deleted_at\n"
            "FROM posts p JOIN channels ch ON ch.id = p.channel_id\n"
            "JOIN post_versions v ON v.post = p.id\n"
            f"WHERE {_POST_MATCH}\n"
            "ORDER BY v.version"
        ),
    },
    "views_of_post": {
        "title": "Views over time of a post",
        "description": "Each view count seen for one post: give its URL or channel/post_id.",
        "sql": (
            "SELECT pv.observed_at, pv.views\n"
            "FROM post_views pv JOIN posts p ON p.id = pv.post\n"
            "JOIN channels ch ON ch.id = p.channel_id\n"
            f"WHERE {_POST_MATCH}\n"
            "ORDER BY pv.observed_at"
        ),
    },
    "recent_crawls": {
        "title": "Crawl runs",
        "description": "Every crawl, newest first: what it found and how it ended.",
        "sql": (
            "SELECT c.id, COALESCE(ch.name, c.source) AS channel, c.trigger, c.status,"
            " c.started_at, c.finished_at,"
            " ROUND((julianday(c.finished_at) - julianday(c.started_at)) * 86400, 1) AS seconds,"
            " c.pages, c.posts_new, c.posts_changed, c.posts_unchanged, c.posts_deleted,"
            " c.errors, c.reason\n"
            "FROM crawls c LEFT JOIN channels ch ON ch.id = c.channel_id\n"
            "ORDER BY c.started_at DESC"
        ),
    },
    "recent_crawl_errors": {
        "title": "Crawl errors",
        "description": "Why fetches and parses failed, newest first, with their crawl.",
        "sql": (
            "SELECT e.at, COALESCE(ch.name, c.source) AS channel, e.kind, e.url, e.message,"
            " e.crawl_id, c.status AS crawl_status\n"
            "FROM crawl_errors e JOIN crawls c ON c.id = e.crawl_id\n"
            "LEFT JOIN channels ch ON ch.id = c.channel_id\n"
            "ORDER BY e.at DESC"
        ),
    },
    "search_posts": {
        "title": "Search posts (any length)",
        "description": (
            "Like the search box on posts, in plain SQL: a term of one or two characters"
            " (地铁) is looked for as a substring (for a Datasette without chanarchive's"
            " plugin, whose box needs three or more)."
        ),
        "sql": (
            "SELECT ch.name AS channel, p.post_id, p.published_at, p.text, p.url\n"
            "FROM posts p JOIN channels ch ON ch.id = p.channel_id\n"
            "WHERE CASE WHEN length(:q) >= 3 THEN p.id IN (SELECT rowid FROM posts_fts"
            " WHERE posts_fts MATCH '\"' || replace(:q, '\"', '\"\"') || '\"')\n"
            "  ELSE p.text LIKE '%' || :q || '%' END\n"
            "ORDER BY p.published_at DESC LIMIT 100"
        ),
    },
}


def database_name(path: str | Path) -> str:
    """The name Datasette gives the archive file (its stem): the key of its metadata."""
    return Path(path).stem


def metadata(path: str | Path, tables: set[str] | None = None) -> dict[str, Any]:
    """Datasette metadata for the archive at ``path``; only ``tables`` are described when given."""
    name = database_name(path)
    described = {
        table: dict(info) for table, info in TABLES.items() if tables is None or table in tables
    }
    return {
        "title": f"chanarchive: {Path(path).name}",
        "description": (
            "Public channel posts archived over time: every capture, every post and every"
            " version of it. Read-only."
        ),
        "about": f"chanarchive {__version__}",
        "databases": {
            name: {
                "description": (
                    "Start with posts (search box: any word, Chinese included),"
                    " the canned queries below, or the views current_posts, post_history"
                    " and crawl_runs."
                ),
                "tables": described,
                "queries": {key: dict(query) for key, query in QUERIES.items()},
            }
        },
    }
