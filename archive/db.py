"""Opening the archive file, and the named migrations that build its schema.

The archive is one SQLite file in WAL mode. Every schema change is a named
migration, applied in order inside a transaction and recorded in
``_chanarchive_migrations``, so an archive made by an older version opens
with a newer one. Writers use short ``BEGIN IMMEDIATE`` transactions
(:func:`write_transaction`); a busy timeout lets a second process wait for
the lock instead of failing at once.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import sqlite_utils

from .errors import ArchiveError

BUSY_TIMEOUT_MS = 30_000
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


def utcnow() -> str:
    """Now, as ISO 8601 UTC with microseconds (sorts as text)."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def connect(path: str | os.PathLike[str]) -> sqlite3.Connection:
    """A writable connection in autocommit mode: transactions are always explicit."""
    conn = sqlite3.connect(
        str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
    )
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    return conn


def open_archive(path: str | os.PathLike[str], *, create: bool = True) -> sqlite_utils.Database:
    """Open (and if needed create and migrate) the archive at ``path``.

    Raises :class:`ArchiveError` with a one-line reason when the file is
    missing (and ``create`` is false), is not SQLite, or cannot be opened.
    """
    path = Path(path)
    if not path.exists():
        if not create:
            raise ArchiveError(f"no archive at {path}")
        if path.parent and not path.parent.exists():
            raise ArchiveError(f"cannot create archive {path}: folder {path.parent} does not exist")
    elif path.is_dir():
        raise ArchiveError(f"{path} is a folder, not an archive file")
    try:
        conn = connect(path)
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode.lower() != "wal":
            raise ArchiveError(f"cannot switch {path} to WAL mode (got {mode})")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        db = sqlite_utils.Database(conn)
        migrate(db)
    except sqlite3.DatabaseError as exc:
        raise ArchiveError(f"cannot open archive {path}: {exc}") from exc
    return db


@contextlib.contextmanager
def write_transaction(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """``BEGIN IMMEDIATE`` … ``COMMIT``; rolled back on any exception.

    IMMEDIATE takes the write lock up front, so a busy archive makes us wait
    (busy timeout) rather than fail half-way through.
    """
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise
    else:
        db.conn.execute("COMMIT")


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
# Migrations. Append new ones at the end; never edit one that has shipped.
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
