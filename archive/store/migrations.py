"""The named migrations that build the archive's schema, in order.

Every schema change is a named migration ``NNNN_what``, applied in the
order of NNNN inside a transaction and recorded in
``_chanarchive_migrations``, so an archive made by an older version opens
with a newer one, and one made by a newer version is refused.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlite_utils

from ..errors import ArchiveError
from ..times import utcnow
from .fts import create_cjk_index
from .transaction import write_transaction

#: The table every chanarchive archive has (its migrations): the mark of an archive.
MIGRATIONS_TABLE = "_chanarchive_migrations"

Migration = Callable[[sqlite_utils.Database], None]
MIGRATIONS: list[tuple[str, Migration]] = []


def migration(name: str) -> Callable[[Migration], Migration]:
    """Register a schema migration named ``NNNN_what``; they run in the order of NNNN."""

    def register(fn: Migration) -> Migration:
        if any(existing == name for existing, _ in MIGRATIONS):
            raise ValueError(f"duplicate migration name {name}")
        MIGRATIONS.append((name, fn))
        return fn

    return register


def applied_migrations(db: sqlite_utils.Database) -> list[str]:
    if MIGRATIONS_TABLE not in db.table_names():
        return []
    return [row[0] for row in db.execute(f"SELECT name FROM {MIGRATIONS_TABLE} ORDER BY rowid")]


def migrate(db: sqlite_utils.Database) -> list[str]:
    """Apply the migrations not yet recorded; return the names applied."""
    done = set(applied_migrations(db))
    known = {name for name, _ in MIGRATIONS}
    unknown = done - known
    if unknown:
        raise ArchiveError(
            "this archive was written by a newer chanarchive (unknown migrations: "
            + ", ".join(sorted(unknown))
            + ")"
        )
    applied = []
    for name, fn in sorted(MIGRATIONS):  # named "NNNN_what": the number orders them
        if name in done:
            continue
        with write_transaction(db):
            # Re-check under the write lock: another process may have migrated meanwhile.
            if name in applied_migrations(db):
                continue
            fn(db)
            db[MIGRATIONS_TABLE].insert({"name": name, "applied_at": utcnow()})
        applied.append(name)
    return applied


# --------------------------------------------------------------------------
# Migrations, in order. Append new ones at the end; never edit one that has shipped.
# --------------------------------------------------------------------------


@migration("0001_initial")
def _initial(db: sqlite_utils.Database) -> None:
    db[MIGRATIONS_TABLE].create({"name": str, "applied_at": str}, pk="name", if_not_exists=True)
    db["channels"].create(
        {
            "id": int,
            "name": str,
            "kind": str,
            "source_url": str,
            "title": str,
            "description": str,
            "subscribers": int,
            "image": str,
            "first_seen": str,
            "last_crawled": str,
        },
        pk="id",
        not_null={"name", "kind"},
    )
    db["channels"].create_index(["name"], unique=True)

    db["crawls"].create(
        {
            "id": int,
            "channel_id": int,
            "source": str,
            "started_at": str,
            "finished_at": str,
            "status": str,
            "pages": int,
            "posts_new": int,
            "posts_changed": int,
            "posts_unchanged": int,
            "posts_deleted": int,
            "errors": int,
            "reason": str,
            "trigger": str,
            "options": str,
            "worker": str,  # "pid@host" of the process running it
        },
        pk="id",
        foreign_keys=[("channel_id", "channels", "id")],
        defaults={
            "status": "running",
            "pages": 0,
            "posts_new": 0,
            "posts_changed": 0,
            "posts_unchanged": 0,
            "posts_deleted": 0,
            "errors": 0,
            "trigger": "manual",
        },
    )
    db["crawls"].create_index(["channel_id", "started_at"])
    db["crawls"].create_index(["source", "started_at"])

    db["crawl_errors"].create(
        {"id": int, "crawl_id": int, "at": str, "url": str, "kind": str, "message": str},
        pk="id",
        foreign_keys=[("crawl_id", "crawls", "id")],
    )
    db["crawl_errors"].create_index(["crawl_id"])

    db["bodies"].create(
        {"sha256": str, "size": int, "compression": str, "body": bytes},
        pk="sha256",
    )
    db["snapshots"].create(
        {
            "id": int,
            "crawl_id": int,
            "channel_id": int,
            "url": str,
            "requested_url": str,
            "fetched_at": str,
            "http_status": int,
            "content_sha256": str,
            "content_type": str,
            "headers": str,
            "protocol": str,
            "page_type": str,
            "posts": int,
        },
        pk="id",
        foreign_keys=[
            ("crawl_id", "crawls", "id"),
            ("channel_id", "channels", "id"),
            ("content_sha256", "bodies", "sha256"),
        ],
    )
    db["snapshots"].create_index(["url", "fetched_at"])
    db["snapshots"].create_index(["content_sha256"])
    db["snapshots"].create_index(["crawl_id"])

    db["posts"].create(
        {
            "id": int,
            "channel_id": int,
            "post_id": str,
            "post_num": int,
            "url": str,
            "published_at": str,
            "first_seen": str,
            "last_seen": str,
            "deleted_at": str,
            "current_version": int,
            "title": str,
            "text": str,
            "edited": int,
            "views": int,
            "last_crawl": int,
        },
        pk="id",
        not_null={"channel_id", "post_id"},
        foreign_keys=[("channel_id", "channels", "id")],
    )
    db["posts"].create_index(["channel_id", "post_id"], unique=True)
    db["posts"].create_index(["channel_id", "post_num"])
    db["posts"].create_index(["url"])
    db["posts"].create_index(["published_at"])

    db["post_versions"].create(
        {
            "id": int,
            "post": int,
            "version": int,
            "captured_at": str,
            "text": str,
            "raw_text": str,
            "html": str,
            "title": str,
            "published_at": str,
            "edited": int,
            "excerpt": int,
            "author": str,
            "forwarded_from": str,
            "forwarded_from_name": str,
            "reply_to": str,
            "links": str,
            "media": str,
            "link_preview": str,
            "service": int,
            "content_sha256": str,
            "snapshot": int,
            "source_url": str,
        },
        pk="id",
        not_null={"post", "version"},
        foreign_keys=[("post", "posts", "id"), ("snapshot", "snapshots", "id")],
    )
    db["post_versions"].create_index(["post", "version"], unique=True)

    db["post_views"].create(
        {"post": int, "observed_at": str, "views": int},
        foreign_keys=[("post", "posts", "id")],
    )
    db["post_views"].create_index(["post", "observed_at"])

    # Ranges of message ids a page has shown us in full (Telegram), merged.
    db["coverage"].create(
        {"channel_id": int, "lo": int, "hi": int},
        pk=("channel_id", "lo"),
        foreign_keys=[("channel_id", "channels", "id")],
    )

    # Search over the current clean text. The trigram tokenizer finds
    # substrings, which CJK text needs (it has no spaces between words).
    db["posts"].enable_fts(["title", "text"], tokenize="trigram", create_triggers=True)
    # Re-index only when the searchable columns change, not on every
    # last_seen / views update of a re-crawled post.
    db.execute("DROP TRIGGER posts_au")
    db.execute(
        "CREATE TRIGGER posts_au AFTER UPDATE OF title, text ON posts BEGIN"
        " INSERT INTO posts_fts (posts_fts, rowid, title, text)"
        " VALUES ('delete', old.rowid, old.title, old.text);"
        " INSERT INTO posts_fts (rowid, title, text) VALUES (new.rowid, new.title, new.text);"
        " END"
    )


@migration("0002_boilerplate")
def _boilerplate(db: sqlite_utils.Database) -> None:
    # Learned boilerplate: candidate lines per channel, the posts each was seen
    # in, and when it crossed the thresholds (learned_at) — see archive/store/boilerplate.py.
    db["boilerplate"].create(
        {
            "id": int,
            "channel_id": int,
            "position": str,  # "tail" (last lines of a post) or "head" (first lines)
            "line": str,
            "posts": int,  # distinct posts seen with it
            "first_seen": str,
            "last_seen": str,
            "learned_at": str,  # NULL while it is only a candidate
            "rule": str,
        },
        pk="id",
        not_null={"channel_id", "position", "line"},
        foreign_keys=[("channel_id", "channels", "id")],
        defaults={"posts": 0},
    )
    db["boilerplate"].create_index(["channel_id", "position", "line"], unique=True)
    db["boilerplate_hits"].create(
        {"boilerplate": int, "post": int},
        pk=("boilerplate", "post"),
        foreign_keys=[("boilerplate", "boilerplate", "id"), ("post", "posts", "id")],
    )
    db["boilerplate_hits"].create_index(["post"])
    # Web listings: the posts a listing page showed when it was last fetched,
    # so a post gone from its listing is re-fetched (and found deleted).
    db["listing_posts"].create(
        {"channel_id": int, "listing_url": str, "post_id": str, "url": str, "seen_at": str},
        pk=("channel_id", "listing_url", "post_id"),
        foreign_keys=[("channel_id", "channels", "id")],
    )


@migration("0003_views")
def _views(db: sqlite_utils.Database) -> None:
    # Views that make the common questions one SELECT away (query, serve).
    db.execute(
        "CREATE VIEW IF NOT EXISTS current_posts AS"
        " SELECT p.id, ch.name AS channel, p.post_id, p.url,"
        " COALESCE(v.published_at, p.published_at) AS published_at, p.title, p.text,"
        " v.raw_text, p.current_version AS version, v.captured_at, p.edited, p.deleted_at,"
        " p.views, p.first_seen, p.last_seen, v.forwarded_from, v.reply_to, v.links, v.media,"
        " v.source_url, p.channel_id"
        " FROM posts p JOIN channels ch ON ch.id = p.channel_id"
        " LEFT JOIN post_versions v ON v.post = p.id AND v.version = p.current_version"
    )
    db.execute(
        "CREATE VIEW IF NOT EXISTS post_history AS"
        " SELECT v.id, ch.name AS channel, p.post_id, p.url, v.version, v.captured_at,"
        " v.version = p.current_version AS is_current, v.title, v.text, v.raw_text, v.edited,"
        " v.content_sha256, v.snapshot, v.source_url, p.deleted_at, v.post"
        " FROM post_versions v JOIN posts p ON p.id = v.post"
        " JOIN channels ch ON ch.id = p.channel_id"
    )
    db.execute(
        "CREATE VIEW IF NOT EXISTS crawl_runs AS"
        " SELECT c.id, COALESCE(ch.name, c.source) AS channel, c.source, c.trigger, c.status,"
        " c.started_at, c.finished_at,"
        " ROUND((julianday(c.finished_at) - julianday(c.started_at)) * 86400, 1) AS seconds,"
        " c.pages, c.posts_new, c.posts_changed, c.posts_unchanged, c.posts_deleted, c.errors,"
        " c.reason"
        " FROM crawls c LEFT JOIN channels ch ON ch.id = c.channel_id"
    )
    # WARC export reads the snapshots in capture order.
    db.execute("CREATE INDEX IF NOT EXISTS snapshots_fetched_at ON snapshots (fetched_at)")


@migration("0004_schedule")
def _schedule(db: sqlite_utils.Database) -> None:
    # The periodic crawls (`chanarchive sources ...`), one row per source key.
    db["sources"].create(
        {
            "key": str,  # the canonical SOURCE: "@name" or the URL (crawls.source)
            "kind": str,  # "telegram" or "url"
            "url": str,  # where the crawl starts
            "host": str,  # crawls of one host never run at once
            "every_seconds": int,  # an interval schedule ...
            "cron": str,  # ... or a 5-field crontab expression
            "jitter": int,  # seconds of random delay added to each run
            "paused": int,
            "adaptive": int,  # the interval follows the channel's posting rate
            "min_seconds": int,  # adaptive bounds
            "max_seconds": int,
            "interval_seconds": int,  # the adaptive interval in force
            "interval_reason": str,  # why it was chosen
            "interval_changed_at": str,
            "options": str,  # JSON: crawl options (settings, max_pages, depth, follow)
            "time_limit": int,  # seconds a run may take; null: the scheduler's default
            "next_run_at": str,  # as the running scheduler last planned it
            "created_at": str,
            "updated_at": str,
        },
        pk="key",
        not_null={"key", "kind", "url", "host"},
        defaults={"jitter": 0, "paused": 0, "adaptive": 0, "options": "{}"},
    )
    # A host that answered 429 (or Retry-After): every crawl waits until `until`.
    db["host_backoff"].create(
        {"host": str, "until": str, "reason": str, "updated_at": str},
        pk="host",
    )


@migration("0005_post_deletions")
def _post_deletions(db: sqlite_utils.Database) -> None:
    # Every time a post was found gone, and when (if ever) it came back: with it
    # an export "as of T" knows whether a post was deleted at T even when the
    # deletion was later undone (posts.deleted_at only holds the current state).
    db["post_deletions"].create(
        {"id": int, "post": int, "deleted_at": str, "restored_at": str},
        pk="id",
        not_null={"post", "deleted_at"},
        foreign_keys=[("post", "posts", "id")],
    )
    db["post_deletions"].create_index(["post", "deleted_at"])
    db.execute(
        "INSERT INTO post_deletions (post, deleted_at)"
        " SELECT id, deleted_at FROM posts WHERE deleted_at IS NOT NULL"
    )


@migration("0006_channel_origin")
def _channel_origin(db: sqlite_utils.Database) -> None:
    # Where a channel is archived from (host[:port]; "t.me" for Telegram and its
    # aliases): only pages from there write its posts. Channels of an older
    # archive adopt the origin of the next page that writes them.
    db["channels"].add_column("origin", str)


@migration("0008_short_term_search")
def _short_term_search(db: sqlite_utils.Database) -> None:
    # One- and two-character terms (地铁, 5G) cannot use the trigram index: a second,
    # contentless index where each CJK character is a word makes them indexed phrases.
    create_cjk_index(db.conn)


@migration("0009_boilerplate_by_hash")
def _boilerplate_by_hash(db: sqlite_utils.Database) -> None:
    # Candidate lines are counted by a 64-bit hash of their text, the text kept only
    # once learned; each post counts once, at its first full capture, so the table of
    # which post carried which candidate goes. Channels count their posts.
    from .boilerplate import line_hash

    db["boilerplate_new"].create(
        {
            "id": int,
            "channel_id": int,
            "position": str,  # "tail" (last lines of a post) or "head" (first lines)
            "line_hash": int,  # a 64-bit hash of position and line
            "line": str,  # the line, once learned
            "posts": int,  # distinct posts seen with it
            "first_seen": str,
            "last_seen": str,
            "learned_at": str,  # NULL while it is only a candidate
            "rule": str,
        },
        pk="id",
        not_null={"channel_id", "position", "line_hash"},
        foreign_keys=[("channel_id", "channels", "id")],
        defaults={"posts": 0},
    )
    rows = db.execute(
        "SELECT id, channel_id, position, line, posts, first_seen, last_seen, learned_at, rule"
        " FROM boilerplate"
    ).fetchall()
    db["boilerplate_new"].insert_all(
        {
            "id": row[0],
            "channel_id": row[1],
            "position": row[2],
            "line_hash": line_hash(row[2], row[3]),
            "line": row[3] if row[7] else None,
            "posts": row[4],
            "first_seen": row[5],
            "last_seen": row[6],
            "learned_at": row[7],
            "rule": row[8],
        }
        for row in rows
    )
    db.execute("DROP TABLE boilerplate_hits")
    db.execute("DROP TABLE boilerplate")
    db.execute("ALTER TABLE boilerplate_new RENAME TO boilerplate")
    db["boilerplate"].create_index(["channel_id", "position", "line_hash"], unique=True)
    db["channels"].add_column("posts_count", int, not_null_default=0)
    db.execute(
        "UPDATE channels SET posts_count = (SELECT COUNT(*) FROM posts WHERE channel_id = channels.id)"
    )


@migration("0010_queued_crawls")
def _queued_crawls(db: sqlite_utils.Database) -> None:
    # Crawls run by workers through a queue (`chanarchive ingest`). A job's token
    # names its crawl row, so a job handed over twice begins one crawl; `announced`
    # says its finished row was published back to whoever waits for it. Each
    # request's delivery is written once per crawl, however often the queue hands
    # it over (its key is kept until the crawl ends).
    db.execute(
        "CREATE TABLE queued_crawls (token TEXT PRIMARY KEY,"
        " crawl_id INTEGER NOT NULL REFERENCES crawls(id), queue TEXT,"
        " announced INTEGER NOT NULL DEFAULT 0)"
    )
    db.execute("CREATE INDEX queued_crawls_crawl ON queued_crawls (crawl_id)")
    db.execute(
        "CREATE TABLE queued_deliveries (crawl_id INTEGER NOT NULL REFERENCES crawls(id),"
        " request_key TEXT NOT NULL, PRIMARY KEY (crawl_id, request_key)) WITHOUT ROWID"
    )


@migration("0011_notifications")
def _notifications(db: sqlite_utils.Database) -> None:
    # Where a scheduled source's changes are announced (`sources add ... --notify URL`), and
    # how far each target has been told: every change event up to `notified_until` has been
    # sent to it. A failed message leaves it where it was, so the next run sends the
    # changes again, together with the new ones, and nothing is lost or sent twice.
    db["notify_targets"].create(
        {
            "source": str,  # sources.key
            "url": str,  # the apprise URL; it may hold credentials, so untrusted SQL reads NULL
            "shown": str,  # the URL with its secrets masked, for lists and logs
            "added_at": str,
            "notified_until": str,  # the watermark
            "last_attempt_at": str,
            "last_sent_at": str,
            "failures": int,  # consecutive failed messages
            "last_error": str,
        },
        pk=("source", "url"),
        not_null={"source", "url", "notified_until"},
        defaults={"failures": 0},
    )
    # Every message sent or attempted, with what it said.
    db["notifications"].create(
        {
            "id": int,
            "source": str,
            "target": str,  # notify_targets.shown
            "attempted_at": str,
            "status": str,  # sent or failed
            "changes": int,  # how many change events it told of
            "after": str,  # the events it covers: after this time ...
            "until": str,  # ... up to this one
            "title": str,
            "body": str,
            "error": str,
        },
        pk="id",
    )
    db["notifications"].create_index(["source", "attempted_at"])
    # Change events are read by time (`changes --since`, each notification's window).
    db.execute(
        "CREATE INDEX IF NOT EXISTS post_versions_captured_at ON post_versions (captured_at)"
    )


@migration("0013_reactions")
def _reactions(db: sqlite_utils.Database) -> None:
    # Reactions under a post (emoji, "custom:ID" for a custom emoji, "⭐" for paid stars ->
    # count) as JSON text: a row only when they changed since the post's last observation,
    # like post_views. posts.reactions holds the latest, for export. Never a new version.
    db["post_reactions"].create(
        {"post": int, "observed_at": str, "reactions": str},
        foreign_keys=[("post", "posts", "id")],
        if_not_exists=True,
    )
    db["post_reactions"].create_index(["post", "observed_at"], if_not_exists=True)
    if "reactions" not in db["posts"].columns_dict:
        db.execute("ALTER TABLE posts ADD COLUMN reactions TEXT")


@migration("0015_compact_storage")
def _compact_storage(db: sqlite_utils.Database) -> None:
    # A Telegram post's HTML is part of the page it was captured in, which the
    # archive keeps (compressed) in `bodies`: storing it again in every version
    # doubled the archive. Versions of Telegram posts keep `html` NULL when their
    # snapshot's body is kept; parsing that page gives it back.
    db.execute(
        "UPDATE post_versions SET html = NULL WHERE html IS NOT NULL"
        " AND post IN (SELECT p.id FROM posts p JOIN channels c ON c.id = p.channel_id"
        " WHERE c.kind = 'telegram')"
        " AND snapshot IN (SELECT s.id FROM snapshots s"
        " JOIN bodies b ON b.sha256 = s.content_sha256)"
    )
    # Every page reads its channel's learned lines: a few rows among thousands of
    # counted candidates. A partial index finds them without reading the candidates.
    db.execute(
        "CREATE INDEX IF NOT EXISTS boilerplate_learned ON boilerplate (channel_id)"
        " WHERE learned_at IS NOT NULL"
    )


@migration("0012_media")
def _media(db: sqlite_utils.Database) -> None:
    # Media files archived at first sight (`crawl --media`), their bytes kept once by
    # sha256 inside the archive file, so one file still backs the whole archive up.
    # `compression` is NULL (stored as fetched: images are compressed already) or zlib.
    # The bytes live in their own table, so that browsing media_files reads no blob.
    db.execute(
        "CREATE TABLE media_files (sha256 TEXT PRIMARY KEY, content_type TEXT,"
        " size INTEGER NOT NULL, first_seen TEXT NOT NULL, url TEXT,"
        " compression TEXT, stored_size INTEGER NOT NULL)"
    )
    db.execute(
        "CREATE TABLE media_bodies (sha256 TEXT PRIMARY KEY REFERENCES media_files(sha256),"
        " body BLOB NOT NULL) WITHOUT ROWID"
    )
    # One row per media URL tried: ok (sha256 set: never fetched again) or failed (the
    # reason kept, tried again on a later crawl up to a few attempts).
    db.execute(
        "CREATE TABLE media_urls (url TEXT PRIMARY KEY,"
        " sha256 TEXT REFERENCES media_files(sha256), status TEXT NOT NULL,"
        " http_status INTEGER, reason TEXT, attempts INTEGER NOT NULL DEFAULT 0,"
        " first_tried TEXT, last_tried TEXT)"
    )
    # Each post version's media item (slot "0", "0/thumb", "preview", ...) and the file it
    # showed. Telegram's signed CDN URLs change between fetches, so a slot, not a URL, says
    # a post's file is archived; sha256 stays NULL until (unless) the file arrives.
    db.execute(
        "CREATE TABLE post_media (post INTEGER NOT NULL REFERENCES posts(id),"
        " version INTEGER NOT NULL, slot TEXT NOT NULL, url TEXT NOT NULL,"
        " sha256 TEXT REFERENCES media_files(sha256),"
        " attempts INTEGER NOT NULL DEFAULT 0, reason TEXT,"
        " PRIMARY KEY (post, version, slot)) WITHOUT ROWID"
    )
    db.execute("CREATE INDEX post_media_url ON post_media (url)")
    db.execute("CREATE INDEX post_media_sha256 ON post_media (sha256)")


@migration("0014_deletion_checks")
def _deletion_checks(db: sqlite_utils.Database) -> None:
    # A post that a listing stopped showing is not deleted yet: it is *missing* (since
    # when) until its own single-post embed says "Post not found". Every look at an
    # embed is kept, whatever it said: deleted, alive (still there, only not listed) or
    # failed (no answer: the post stays missing, to be looked at again).
    db.execute("ALTER TABLE posts ADD COLUMN missing_since TEXT")
    db["deletion_checks"].create(
        {
            "id": int,
            "crawl_id": int,
            "post": int,
            "checked_at": str,
            "url": str,
            "outcome": str,  # deleted, alive or failed
            "http_status": int,
            "reason": str,
        },
        pk="id",
        not_null={"post", "checked_at", "outcome"},
        foreign_keys=[("crawl_id", "crawls", "id"), ("post", "posts", "id")],
    )
    db["deletion_checks"].create_index(["post", "checked_at"])
    db["deletion_checks"].create_index(["crawl_id"])
    db.execute(
        "CREATE INDEX posts_missing ON posts (channel_id, missing_since)"
        " WHERE missing_since IS NOT NULL"
    )


@migration("0016_check_captures")
def _check_captures(db: sqlite_utils.Database) -> None:
    # A look at a post's embed is evidence: "Post not found" is what makes a post
    # deleted. Its answer is kept as a capture like any page (`snapshots`, body in
    # `bodies`, page_type 'embed'), and the look names it.
    if "snapshot" not in db["deletion_checks"].columns_dict:
        db.execute(
            "ALTER TABLE deletion_checks ADD COLUMN snapshot INTEGER REFERENCES snapshots(id)"
        )


@migration("0017_crawl_media")
def _crawl_media(db: sqlite_utils.Database) -> None:
    # What a crawl did with the media files its pages showed: archived, or fetched and
    # not archived (failed, too large, not tried); its summary line says both.
    columns = db["crawls"].columns_dict
    for name in ("media_archived", "media_failed"):
        if name not in columns:
            db.execute(f"ALTER TABLE crawls ADD COLUMN {name} INTEGER NOT NULL DEFAULT 0")


@migration("0018_provenance")
def _provenance(db: sqlite_utils.Database) -> None:
    # Provenance for the WARC and WACZ exports, kept at capture time from now on (older
    # captures keep NULL): the server's address each page and media file came from, and
    # the request as it was sent (its request line; its headers as a JSON list of
    # [name, value], as `headers` keeps the response's).
    snapshots = db["snapshots"].columns_dict
    for column in ("ip_address", "request_line", "request_headers"):
        if column not in snapshots:
            db.execute(f"ALTER TABLE snapshots ADD COLUMN {column} TEXT")
    if "ip_address" not in db["media_urls"].columns_dict:
        db.execute("ALTER TABLE media_urls ADD COLUMN ip_address TEXT")


@migration("0019_notify_match")
def _notify_match(db: sqlite_utils.Database) -> None:
    # Keyword alerts (`sources add ... --notify URL --match QUERY`): a source's
    # notifications tell only of the new and edited posts that hold every term of
    # its query (the syntax of `chanarchive search`); null tells of every change.
    if "notify_match" not in db["sources"].columns_dict:
        db.execute("ALTER TABLE sources ADD COLUMN notify_match TEXT")
