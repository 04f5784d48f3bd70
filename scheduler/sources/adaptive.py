"""Adaptive recrawl: a channel's crawl interval follows how often it posts.

A busy channel is crawled often enough that one crawl sees about
:data:`TARGET_NEW_POSTS` new posts (half a Telegram preview page, so a crawl
is one or two requests and edits and deletions are caught while they are
fresh); a quiet one is crawled less, never outside the bounds the user set.

The rate comes from the archive: the publication times of the channel's
newest posts within :data:`WINDOW` (or, when the source gives no dates, the
times we first saw posts after the first crawl). The chosen interval and the
numbers behind it are recorded with the source, so ``sources list`` can say
why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlite_utils

from archive.times import to_datetime

from .scheduled import Adaptive
from .schedules import format_duration

#: New posts a crawl should find, on average.
TARGET_NEW_POSTS = 10
#: How far back the posting rate looks.
WINDOW = timedelta(days=30)
#: At most this many of the newest posts are used: recent behaviour counts.
SAMPLE = 50
#: The shortest span a rate is measured over (a burst of posts within minutes is not a rate).
MIN_SPAN = timedelta(hours=1)
#: Changes smaller than this fraction are not worth rescheduling for.
MIN_CHANGE = 0.1


@dataclass(frozen=True)
class Suggestion:
    """An interval and why."""

    seconds: int
    reason: str
    posts: int  # posts in the sample
    per_day: float  # their rate


def channel_of(db: sqlite_utils.Database, key: str) -> int | None:
    """The archive channel a source's crawls landed in (the latest), if any."""
    row = db.execute(
        "SELECT channel_id FROM crawls WHERE source = ? AND channel_id IS NOT NULL"
        " ORDER BY id DESC LIMIT 1",
        [key],
    ).fetchone()
    return row[0] if row else None


def post_times(db: sqlite_utils.Database, channel_id: int) -> tuple[list[datetime], str]:
    """The times the channel's recent posts appeared, newest first, and what they are."""
    published = [
        to_datetime(v)
        for (v,) in db.execute(
            "SELECT published_at FROM posts WHERE channel_id = ? AND published_at IS NOT NULL"
            " ORDER BY published_at DESC LIMIT ?",
            [channel_id, SAMPLE * 4],
        )
    ]
    published = sorted((t for t in published if t), reverse=True)
    if published:
        return published, "published"
    # No dates on this source: the times we first saw posts, leaving out the first
    # crawl (it finds the whole back catalogue at once, which is not a rate).
    first_done = db.execute(
        "SELECT MIN(finished_at) FROM crawls WHERE channel_id = ? AND finished_at IS NOT NULL",
        [channel_id],
    ).fetchone()[0]
    seen = [
        to_datetime(v)
        for (v,) in db.execute(
            "SELECT first_seen FROM posts WHERE channel_id = ? AND first_seen > ?"
            " ORDER BY first_seen DESC LIMIT ?",
            [channel_id, first_done or "", SAMPLE * 4],
        )
    ]
    return sorted((t for t in seen if t), reverse=True), "first seen"


def suggest_interval(
    db: sqlite_utils.Database,
    key: str,
    bounds: Adaptive,
    now: datetime | None = None,
) -> Suggestion | None:
    """The interval for source ``key`` from its channel's posting rate; None without a channel."""
    now = now or datetime.now(UTC)
    channel_id = channel_of(db, key)
    if channel_id is None:
        return None
    times, what = post_times(db, channel_id)
    recent = [t for t in times if now - WINDOW <= t <= now + timedelta(minutes=5)][:SAMPLE]
    lo, hi = bounds.min_seconds, bounds.max_seconds
    limits = f"bounds {format_duration(lo)}..{format_duration(hi)}"
    if not recent:
        days = WINDOW.days
        return Suggestion(
            hi, f"no posts in the last {days} days: the longest interval ({limits})", 0, 0.0
        )
    span = max(now - recent[-1], MIN_SPAN)
    # n posts mark n - 1 gaps between the oldest and the newest; one post alone, one per window.
    if len(recent) > 1:
        per_second = (len(recent) - 1) / span.total_seconds()
    else:
        per_second = 1 / WINDOW.total_seconds()
    per_day = per_second * 86400
    ideal = _round(TARGET_NEW_POSTS / per_second)
    seconds = int(min(max(ideal, lo), hi))
    reason = (
        f"{len(recent)} posts ({what}) in the last {_span_text(span)}: {per_day:.3g} a day;"
        f" ~{TARGET_NEW_POSTS} new posts a crawl → every {format_duration(ideal)}"
    )
    if seconds != int(ideal):
        reason += f", kept within {limits}: every {format_duration(seconds)}"
    return Suggestion(seconds, reason, len(recent), per_day)


def worth_changing(current: int | None, proposed: int) -> bool:
    """Whether ``proposed`` differs enough from ``current`` to reschedule."""
    if not current:
        return True
    return abs(proposed - current) / current >= MIN_CHANGE


def _round(seconds: float) -> int:
    """Whole minutes from ten minutes up: an interval of 1h37m55s reads as 1h38m."""
    return int(round(seconds / 60) * 60) if seconds >= 600 else int(round(seconds))


def _span_text(span: timedelta) -> str:
    hours = span.total_seconds() / 3600
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} days"
