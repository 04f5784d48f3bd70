"""Learned boilerplate kept in the archive: counts that accumulate across crawls.

The learning rule is :mod:`archive.clean.learn`'s; here its counts live in
the tables ``boilerplate`` (candidate lines per channel, and when each
crossed the thresholds) and ``boilerplate_hits`` (the posts each was seen
in), so a channel's signature is learned over many crawls, and every post
carrying a newly learned line is cleaned again, every version of it.
"""

from __future__ import annotations

import sqlite_utils

from ..clean import Learned, apply_learned
from ..clean.learn import candidates, learned_from_counts
from ..clean.options import ExtractOptions


def learned_for(db: sqlite_utils.Database, channel_id: int, options: ExtractOptions) -> Learned:
    """What the archive has learned for one channel."""
    if not options.learn:
        return Learned()
    rows = db.execute(
        "SELECT position, line, posts FROM boilerplate"
        " WHERE channel_id = ? AND learned_at IS NOT NULL",
        [channel_id],
    ).fetchall()
    return learned_from_counts({(position, line): posts for position, line, posts in rows}, options)


def observe(
    db: sqlite_utils.Database,
    channel_id: int,
    posts: list[tuple[int, str]],
    kind: str,
    options: ExtractOptions,
    now: str,
) -> list[int]:
    """Count the candidate lines of ``posts`` ((post pk, raw text)); return newly learned ids.

    Runs inside the caller's write transaction. A post counts once per line,
    however often it is captured.
    """
    if not options.learn or not posts:
        return []
    touched: set[int] = set()
    for post_pk, raw_text in posts:
        for position, line in candidates(raw_text, kind, options):
            db.execute(
                "INSERT INTO boilerplate (channel_id, position, line, posts, first_seen, last_seen)"
                " VALUES (?, ?, ?, 0, ?, ?) ON CONFLICT (channel_id, position, line)"
                " DO UPDATE SET last_seen = excluded.last_seen",
                [channel_id, position, line, now, now],
            )
            line_id = db.execute(
                "SELECT id FROM boilerplate WHERE channel_id = ? AND position = ? AND line = ?",
                [channel_id, position, line],
            ).fetchone()[0]
            added = db.execute(
                "INSERT OR IGNORE INTO boilerplate_hits (boilerplate, post) VALUES (?, ?)",
                [line_id, post_pk],
            ).rowcount
            if added:
                db.execute("UPDATE boilerplate SET posts = posts + 1 WHERE id = ?", [line_id])
                touched.add(line_id)
    if not touched:
        return []
    total = db.execute("SELECT COUNT(*) FROM posts WHERE channel_id = ?", [channel_id]).fetchone()[
        0
    ]
    floor = max(options.learn_min_posts, options.learn_min_share * total)
    marks = ", ".join("?" for _ in touched)
    newly = [
        row[0]
        for row in db.execute(
            f"SELECT id FROM boilerplate WHERE id IN ({marks}) AND learned_at IS NULL"
            " AND posts >= ?",
            [*touched, floor],
        )
    ]
    if newly:
        marks = ", ".join("?" for _ in newly)
        db.execute(
            f"UPDATE boilerplate SET learned_at = ?, rule = ? WHERE id IN ({marks})",
            [now, "learned: recurring line", *newly],
        )
    return newly


def posts_carrying(db: sqlite_utils.Database, line_ids: list[int]) -> list[int]:
    """The posts (pks) in which any of the boilerplate lines ``line_ids`` was seen."""
    if not line_ids:
        return []
    marks = ", ".join("?" for _ in line_ids)
    return [
        row[0]
        for row in db.execute(
            f"SELECT DISTINCT post FROM boilerplate_hits WHERE boilerplate IN ({marks})", line_ids
        )
    ]


def observe_and_relearn(
    db: sqlite_utils.Database,
    channel_id: int,
    kind: str,
    observed: list[tuple[int, str]],
    options: ExtractOptions,
    now: str,
) -> None:
    """Count the new texts' candidate lines; when a line becomes learned, re-clean its posts."""
    newly = observe(db, channel_id, observed, kind, options, now)
    if not newly:
        return
    learned = learned_for(db, channel_id, options)
    for post_pk in posts_carrying(db, newly):
        # Every version, so that an export of all versions is cleaned alike.
        versions = db.execute(
            "SELECT v.id, v.text, v.version = p.current_version FROM post_versions v"
            " JOIN posts p ON p.id = v.post WHERE v.post = ?",
            [post_pk],
        ).fetchall()
        for version_pk, old_text, is_current in versions:
            if old_text is None:
                continue
            text = apply_learned(old_text, learned).text
            if text != old_text:
                db.execute("UPDATE post_versions SET text = ? WHERE id = ?", [text, version_pk])
                if is_current:
                    db.execute("UPDATE posts SET text = ? WHERE id = ?", [text, post_pk])
