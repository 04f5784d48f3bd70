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

:func:`learn` works on a list of posts in memory (``chanarchive extract`` of
several pages); :mod:`archive.store.boilerplate` keeps the same counts in
the archive, so that learning accumulates across crawls.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable

from ..models import KIND_WEB, Post
from . import Learned
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


def learned_from_counts(counts: dict[tuple[str, str], int], options: ExtractOptions) -> Learned:
    """The :class:`Learned` lines of ``counts`` ((position, line) -> posts seen with it)."""
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
        result[channel] = learned_from_counts(
            {k: n for k, n in counts.items() if n >= floor}, options
        )
    return result
