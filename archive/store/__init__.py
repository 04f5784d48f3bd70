"""The archive file: the only code that writes it.

Holds: opening the file (read-write for the one writer, read-only for the
readers: :mod:`.connection`), the one way it is written
(:mod:`.transaction`), the schema's migrations in order
(:mod:`.migrations`), crawl rows (:mod:`.crawls`), the page write path
(:mod:`.ingest`), confirmed deletions (:mod:`.deletions`), coverage of Telegram ids (:mod:`.coverage`), web
listings (:mod:`.listings`), crawls fed through a queue (:mod:`.queued`),
learned boilerplate (:mod:`.boilerplate`),
host backoff (:mod:`.backoff`), media files (:mod:`.media`), the scheduled
sources (:mod:`.sources`) and their notifications (:mod:`.notifications`);
a write the archive refuses told from an item's fault (:mod:`.faults`), and a
new file a command archived nothing into, removed (:mod:`.unused`).

May import: :mod:`archive.models`, :mod:`archive.errors`,
:mod:`archive.times`, :mod:`archive.source`, :mod:`archive.clean`,
:mod:`archive.extract`. Never
the query, export or serve packages, nor the crawler or the scheduler.

The names most callers need are importable from here:
``from archive import store; store.ingest_page(...)``.
"""

from ..models import CHECK_ALIVE, CHECK_DELETED, CHECK_FAILED
from .connection import (
    BUSY_TIMEOUT_MS,
    connect,
    connect_readonly,
    open_archive,
)
from .coverage import coverage
from .crawls import (
    begin_crawl,
    begin_crawls,
    claim_crawls,
    crawl_row,
    crawl_started,
    cut_crawl,
    finish_crawl,
    reap_interrupted_crawls,
    record_error,
)
from .deletions import (
    live_post_nums,
    pending_deletion_checks,
    record_deletion_check,
)
from .ingest import PageResult, ingest_page, version_fingerprint
from .listings import known_web_posts
from .media import MediaKnown, ingest_media, keep_not_stored, known_media, media_file
from .transaction import abandon_transaction, write_transaction

__all__ = [
    "BUSY_TIMEOUT_MS",
    "CHECK_ALIVE",
    "CHECK_DELETED",
    "CHECK_FAILED",
    "MediaKnown",
    "PageResult",
    "abandon_transaction",
    "begin_crawl",
    "begin_crawls",
    "claim_crawls",
    "connect",
    "connect_readonly",
    "coverage",
    "crawl_row",
    "crawl_started",
    "cut_crawl",
    "finish_crawl",
    "ingest_media",
    "ingest_page",
    "keep_not_stored",
    "known_media",
    "known_web_posts",
    "live_post_nums",
    "media_file",
    "open_archive",
    "pending_deletion_checks",
    "reap_interrupted_crawls",
    "record_deletion_check",
    "record_error",
    "version_fingerprint",
    "write_transaction",
]
