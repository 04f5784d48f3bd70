"""Learned boilerplate: lines that recur at the end (or start) of many posts of one channel.

Channels sign their posts ("📣 关注本频道：@name"), append their own ads, and
mirror sites add a header or footer line to every post page. No built-in
rule can know these lines; they are learned. A line is a candidate when it
is among the last ``tail_lines`` lines of a post (Telegram and web), or the
first ``head_lines`` lines (web pages only). It is learned once it was seen
in at least ``min_posts`` distinct posts *and* in at least ``min_share`` of
the channel's posts; hashtag lines and very short lines are never learned.
Learned lines are stripped from the clean text where they were learned (the
raw text keeps them), never down to an empty post.

Two forms: :func:`learn` works on a list of posts in memory (``chanarchive
extract`` of several pages); the ``observe_*`` / :func:`learned_for`
functions keep the counts in the archive (tables ``boilerplate`` and
``boilerplate_hits``), so learning accumulates across crawls.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable

import sqlite_utils

from .clean import Learned
from .models import KIND_WEB, Post
from .options import ExtractOptions

TAIL, HEAD = "tail", "head"
_HASHTAGS = re.compile(r"^(?:[#＃][^\s#＃]+\s*)+$")


def learnable(line: str, options: ExtractOptions) -> bool:
    """Whether ``line`` may ever be learned (not a hashtag line, not too short)."""
    text = line.strip()
    return len(re.sub(r"\s+", "", text)) >= options.learn_min_chars and not _HASHTAGS.match(text)


def candidates(raw_text: str, kind: str, options: ExtractOptions) -> set[tuple[str, str]]:
    """The (position, line) pairs a post offers: its last lines, and its first ones on the web."""
    lines = [line.strip() for line in raw_text.split("\n") if line.strip()]
    if len(lines) < 2:
        return set()  # a one-line post is all content
    found = {
        (TAIL, line) for line in lines[-options.learn_tail_lines :] if learnable(line, options)
    }
    if kind == KIND_WEB and options.learn_head_lines:
        found |= {
            (HEAD, line) for line in lines[: options.learn_head_lines] if learnable(line, options)
        }
    return found


def _learned(counts: dict[tuple[str, str], int], options: ExtractOptions) -> Learned:
    learned = Learned(tail_lines=options.learn_tail_lines, head_lines=options.learn_head_lines)
    for (position, line), count in counts.items():
        (learned.tail if position == TAIL else learned.head)[line] = count
    return learned


def learn(posts: Iterable[Post], kind: str, options: ExtractOptions) -> dict[str, Learned]:
    """Learned boilerplate per channel, from posts held in memory."""
    if not options.learn:
        return {}
    seen: dict[str, Counter[tuple[str, str]]] = defaultdict(Counter)
    totals: Counter[str] = Counter()
    done: set[tuple[str, str]] = set()
    for post in posts:
        if post.excerpt or post.service or (post.channel, post.post_id) in done:
            continue
        done.add((post.channel, post.post_id))
        totals[post.channel] += 1
        seen[post.channel].update(candidates(post.raw_text, kind, options))
    result = {}
    for channel, counts in seen.items():
        floor = max(options.learn_min_posts, options.learn_min_share * totals[channel])
        result[channel] = _learned({k: n for k, n in counts.items() if n >= floor}, options)
    return result


# --------------------------------------------------------------------------- in the archive


def learned_for(db: sqlite_utils.Database, channel_id: int, options: ExtractOptions) -> Learned:
    """What the archive has learned for one channel."""
    if not options.learn:
        return Learned()
    rows = db.execute(
        "SELECT position, line, posts FROM boilerplate"
        " WHERE channel_id = ? AND learned_at IS NOT NULL",
        [channel_id],
    ).fetchall()
    return _learned({(position, line): posts for position, line, posts in rows}, options)


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


__all__ = [
    "HEAD",
    "TAIL",
    "candidates",
    "learn",
    "learnable",
    "learned_for",
    "observe",
    "posts_carrying",
]
