"""Deletions, confirmed: a post that leaves the listing is *missing* until its own page says gone.

A Telegram listing page that no longer shows a post it covers proves little:
t.me drops messages from a page under load, hides some, and a post may
only have moved. So the write path (:func:`~archive.store.ingest_page`)
marks such a post **missing** (``posts.missing_since``) and the crawl looks
at the post's own single-post embed (``/NAME/ID?embed=1``): Telegram's
error block there ("Post not found") **confirms** the deletion — only then
is ``deleted_at`` set and a ``post_deletions`` row written, which is what
the export and ``chanarchive changes`` show. An embed that still shows the
post keeps it alive (still missing from the listing); one that cannot be
fetched leaves it undecided, to be looked at again by a later crawl.

Every look is kept in ``deletion_checks`` (:func:`record_deletion_check`),
and the answer it got as a capture like any page (``snapshots``,
``page_type`` ``embed``; the look's ``snapshot``): the evidence of a
deletion is the page that said so, and a WARC export holds it.
"""

from __future__ import annotations

import sqlite_utils

from ..extract.embed import is_embed_of, read_embed
from ..models import (
    CHECK_ALIVE,
    CHECK_DELETED,
    CHECK_FAILED,
    CHECK_OUTCOMES,
    ERROR_INGEST,
    PAGE_EMBED,
    Capture,
)
from ..source import origin_of
from .bodies import keep_capture, pack_capture
from .crawls import insert_errors
from .transaction import write_transaction


def mark_missing(db: sqlite_utils.Database, post_pks: list[int], now: str) -> int:
    """The listing no longer shows these posts: missing since ``now`` unless already.

    Inside the caller's transaction. Returns how many newly went missing.
    """
    newly = 0
    for post_pk in post_pks:
        newly += db.execute(
            "UPDATE posts SET missing_since = ? WHERE id = ? AND missing_since IS NULL",
            [now, post_pk],
        ).rowcount
    return newly


def delete_posts(db: sqlite_utils.Database, post_pks: list[int], now: str) -> int:
    """Mark posts deleted (never removed) and keep the event for exports "as of" a time.

    Inside the caller's transaction.
    """
    for post_pk in post_pks:
        db.execute(
            "UPDATE posts SET deleted_at = ?, missing_since = NULL WHERE id = ?", [now, post_pk]
        )
        db.execute("INSERT INTO post_deletions (post, deleted_at) VALUES (?, ?)", [post_pk, now])
    return len(post_pks)


def confirmed_outcome(
    channel: str, post_id: str, outcome: str, reason: str | None, capture: Capture | None
) -> tuple[str, str | None]:
    """A look's outcome as its evidence bears it out: ``deleted`` stays only when the answer
    kept with it (when there is one) is the post's own embed saying "Post not found"."""
    if outcome != CHECK_DELETED or capture is None:
        return outcome, reason
    if not is_embed_of(capture.url, channel, post_id):
        return CHECK_FAILED, f"the answer is not the embed of {channel}/{post_id}: nothing decided"
    answer = read_embed(capture.status, capture.body, channel, post_id)
    if answer.outcome != CHECK_DELETED:
        return CHECK_FAILED, answer.reason
    return outcome, reason


def live_post_nums(db: sqlite_utils.Database, channel: str, lo: int, hi: int) -> list[int]:
    """The ids in ``lo..hi`` of ``channel``'s posts the archive holds and has not seen deleted."""
    return [
        row[0]
        for row in db.execute(
            "SELECT p.post_num FROM posts p JOIN channels ch ON ch.id = p.channel_id"
            " WHERE ch.name = ? AND p.post_num BETWEEN ? AND ? AND p.deleted_at IS NULL"
            " ORDER BY p.post_num",
            [channel, lo, hi],
        )
    ]


def pending_deletion_checks(
    db: sqlite_utils.Database, channel: str, limit: int | None = None
) -> list[int]:
    """Ids of ``channel``'s missing posts still undecided, longest missing first.

    Undecided: missing, not deleted, and no embed has shown the post alive
    since it went missing (never looked at, past a crawl's budget, or every
    look failed).
    """
    sql = (
        "SELECT p.post_num FROM posts p JOIN channels ch ON ch.id = p.channel_id"
        " WHERE ch.name = ? AND p.missing_since IS NOT NULL AND p.deleted_at IS NULL"
        " AND p.post_num IS NOT NULL AND NOT EXISTS (SELECT 1 FROM deletion_checks d"
        " WHERE d.post = p.id AND d.outcome = ? AND d.checked_at >= p.missing_since)"
        " ORDER BY p.missing_since, p.post_num"
    )
    params: list = [channel, CHECK_ALIVE]
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    return [row[0] for row in db.execute(sql, params)]


def record_deletion_check(
    db: sqlite_utils.Database,
    crawl_id: int | None,
    channel: str,
    post_id: str,
    *,
    url: str,
    outcome: str,
    checked_at: str,
    http_status: int | None = None,
    reason: str | None = None,
    capture: Capture | None = None,
) -> bool:
    """Keep one look at a post's embed, and act on it, in one transaction.

    ``deleted`` confirms the deletion (``deleted_at``, a ``post_deletions``
    row, the crawl's ``posts_deleted``); ``alive`` keeps the post, missing
    from the listing; ``failed`` leaves it undecided. Only the host a
    channel is archived from may speak for its posts (as for its pages): a
    look from elsewhere, at a post the archive does not hold, or at one it
    holds as neither missing nor deleted (nothing asks to look at a post the
    listings still show) is not kept, and the crawl says why. ``capture``,
    the answer as fetched, is kept with the look, and it must say so for a
    deletion to count: a ``deleted`` look whose answer is not that post's
    embed saying "Post not found" is kept as ``failed`` (:func:`confirmed_outcome`).
    Returns whether it was kept.
    """
    if outcome not in CHECK_OUTCOMES:
        raise ValueError(f"unknown deletion check outcome {outcome!r}")
    outcome, reason = confirmed_outcome(channel, post_id, outcome, reason, capture)
    packed = pack_capture(capture) if capture is not None else None  # before the lock
    with write_transaction(db):
        row = db.execute(
            "SELECT p.id, p.deleted_at, p.missing_since, ch.origin, ch.id FROM posts p"
            " JOIN channels ch ON ch.id = p.channel_id WHERE ch.name = ? AND p.post_id = ?",
            [channel, post_id],
        ).fetchone()
        if row is None:
            if crawl_id is not None:
                insert_errors(
                    db, crawl_id, url, ERROR_INGEST,
                    [f"a check of post {channel}/{post_id}, which the archive does not hold:"
                     " not kept"],
                )  # fmt: skip
            return False
        post_pk, deleted_at, missing_since, owner, channel_id = row
        if owner is not None and owner != origin_of(url):
            if crawl_id is not None:
                insert_errors(
                    db, crawl_id, url, ERROR_INGEST,
                    [f"a check from {origin_of(url) or 'nowhere'} of post {channel}/{post_id},"
                     f" which is archived from {owner}: not kept"],
                )  # fmt: skip
            return False
        if missing_since is None and deleted_at is None:
            if crawl_id is not None:
                insert_errors(
                    db, crawl_id, url, ERROR_INGEST,
                    [f"a check of post {channel}/{post_id}, which is not missing: not kept"],
                )  # fmt: skip
            return False
        snapshot_id = None
        if capture is not None and packed is not None:
            snapshot_id, _ = keep_capture(
                db, crawl_id, channel_id, capture, packed, page_type=PAGE_EMBED
            )
        db.execute(
            "INSERT INTO deletion_checks (crawl_id, post, checked_at, url, outcome,"
            " http_status, reason, snapshot) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [crawl_id, post_pk, checked_at, url, outcome, http_status, reason, snapshot_id],
        )
        if outcome == CHECK_DELETED and deleted_at is None:
            delete_posts(db, [post_pk], checked_at)
            if crawl_id is not None:
                db.execute(
                    "UPDATE crawls SET posts_deleted = posts_deleted + 1 WHERE id = ?", [crawl_id]
                )
    return True
