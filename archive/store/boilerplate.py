"""Learned boilerplate kept in the archive: counts that accumulate across crawls.

The learning rule is :mod:`archive.clean.learn`'s; here its counts live in
the table ``boilerplate`` (candidate lines per channel, by a hash of their
text, and when each crossed the thresholds; the text itself once learned),
so a channel's signature is learned over many crawls, and every post
carrying a newly learned line is cleaned again, every version of it.
"""

from __future__ import annotations

import hashlib

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


def line_hash(position: str, line: str) -> int:
    """The 64-bit key of a candidate line: candidates are counted by it, their text kept once learned."""
    digest = hashlib.blake2b(f"{position}\x00{line}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def observe(
    db: sqlite_utils.Database,
    channel_id: int,
    posts: list[tuple[int, str]],
    kind: str,
    options: ExtractOptions,
    now: str,
) -> list[tuple[str, str]]:
    """Count the candidate lines of ``posts`` ((post pk, raw text)); return those newly learned.

    Runs inside the caller's write transaction, in a few statements per page
    whatever its size. The caller passes each post once, at its first full
    capture, so a post counts once per line however often it is captured.
    A candidate is kept by a hash of its text; the text itself only once it
    is learned.
    """
    if not options.learn or not posts:
        return []
    lines: dict[int, tuple[str, str]] = {}
    rows = []
    for _post_pk, raw_text in posts:
        for position, line in candidates(raw_text, kind, options):
            key = line_hash(position, line)
            lines[key] = (position, line)
            rows.append((channel_id, position, key, now, now))
    if not rows:
        return []
    db.conn.executemany(
        "INSERT INTO boilerplate (channel_id, position, line_hash, posts, first_seen, last_seen)"
        " VALUES (?, ?, ?, 1, ?, ?) ON CONFLICT (channel_id, position, line_hash)"
        " DO UPDATE SET posts = posts + 1, last_seen = excluded.last_seen",
        rows,
    )
    total = db.execute(
        "SELECT COALESCE(posts_count, 0) FROM channels WHERE id = ?", [channel_id]
    ).fetchone()[0]
    floor = max(options.learn_min_posts, options.learn_min_share * total)
    keys = list(lines)
    newly: list[tuple[str, str]] = []
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        found = db.execute(
            "SELECT id, line_hash FROM boilerplate WHERE channel_id = ? AND learned_at IS NULL"
            f" AND posts >= ? AND line_hash IN ({marks})",
            [channel_id, floor, *chunk],
        ).fetchall()
        for line_id, key in found:
            position, line = lines[key]
            db.execute(
                "UPDATE boilerplate SET learned_at = ?, rule = ?, line = ? WHERE id = ?",
                [now, "learned: recurring line", line, line_id],
            )
            newly.append((position, line))
    return newly


def posts_carrying(
    db: sqlite_utils.Database, channel_id: int, lines: list[tuple[str, str]]
) -> list[int]:
    """The posts (pks) of the channel any version of which holds one of ``lines``.

    A scan of the channel's versions, once per newly learned line: learning
    is rare (a channel learns its signature once), so no index is kept for it.
    """
    found: set[int] = set()
    for _position, line in lines:
        found.update(
            row[0]
            for row in db.execute(
                "SELECT DISTINCT v.post FROM posts p JOIN post_versions v ON v.post = p.id"
                " WHERE p.channel_id = ? AND instr(v.raw_text, ?) > 0",
                [channel_id, line],
            )
        )
    return sorted(found)


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
    for post_pk in posts_carrying(db, channel_id, newly):
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
