"""Every version of one post, and the differences between two of them.

A post is named by its URL as archived (``https://t.me/durov/42``, or a
mirror site's URL), by a Telegram link in any spelling (``t.me/s/durov/42``,
``https://telegram.me/durov/42?single``), or as ``channel/post_id``
(``durov/42``, ``@durov/42``).

Diffs come two ways: a unified line diff, as ``diff -u`` gives, and a
word diff that marks ``[-removed-]`` and ``{+added+}`` runs inside lines.
The word diff takes Latin words and numbers as units and every CJK
character as one, so an edit inside a Chinese sentence shows the changed
characters, not the whole line.
"""

from __future__ import annotations

import difflib
import json
import re
import sqlite3
from collections import Counter
from dataclasses import dataclass
from typing import Any

from ..errors import BadInput
from ..source import channel_key, telegram_post_parts


class UnknownPost(BadInput):
    """No post in the archive goes by that name."""


@dataclass(frozen=True)
class PostRef:
    """A post found in the archive."""

    id: int
    channel: str
    post_id: str
    url: str | None
    current_version: int
    deleted_at: str | None

    @property
    def name(self) -> str:
        return f"{self.channel}/{self.post_id}"


@dataclass(frozen=True)
class Version:
    """One version of a post, as it was first captured."""

    version: int
    captured_at: str
    title: str | None
    text: str
    raw_text: str
    edited: bool
    source_url: str | None
    content_sha256: str | None
    #: The media items of this version (``{type, url, ...}``), as captured.
    media: tuple[dict[str, Any], ...] = ()


_POST_COLUMNS = (
    "SELECT p.id, ch.name, p.post_id, p.url, p.current_version, p.deleted_at"
    " FROM posts p JOIN channels ch ON ch.id = p.channel_id"
)


def _telegram_parts(ref: str) -> tuple[str, str] | None:
    try:
        return telegram_post_parts(ref)
    except ValueError:
        raise UnknownPost(f"not a post's URL or channel/post_id: {ref!r}") from None


def find_post(conn: sqlite3.Connection, ref: str) -> PostRef:
    """The post named by ``ref`` (a URL or ``channel/post_id``); :class:`UnknownPost` if none."""
    text = ref.strip()
    if not text:
        raise UnknownPost("no post given: give its URL or channel/post_id")
    row = conn.execute(_POST_COLUMNS + " WHERE p.url = ?", [text]).fetchone()
    if row is None:
        parts = _telegram_parts(text)
        if parts is None and "://" not in text and text.count("/") == 1:
            channel, _, post_id = text.partition("/")
            parts = (channel_key(channel), post_id)
        if parts is not None:
            channel, post_id = parts
            row = conn.execute(
                _POST_COLUMNS + " WHERE ch.name = ? AND p.post_id = ?",
                [channel.lower(), post_id],
            ).fetchone()
    if row is None:
        raise UnknownPost(f"no post {ref!r} in the archive (give its URL or channel/post_id)")
    return PostRef(*row)


def get_post(conn: sqlite3.Connection, channel: str, post_id: str) -> PostRef | None:
    """The post ``post_id`` of ``channel`` (as the archive names them), or None."""
    row = conn.execute(
        _POST_COLUMNS + " WHERE ch.name = ? AND p.post_id = ?", [channel_key(channel), post_id]
    ).fetchone()
    return PostRef(*row) if row else None


def versions(conn: sqlite3.Connection, post: PostRef) -> list[Version]:
    """Every version of ``post``, oldest first."""
    rows = conn.execute(
        "SELECT version, captured_at, title, COALESCE(text, ''), COALESCE(raw_text, ''),"
        " COALESCE(edited, 0), source_url, content_sha256, media"
        " FROM post_versions WHERE post = ? ORDER BY version",
        [post.id],
    ).fetchall()
    return [
        Version(v, at, title, text, raw, bool(edited), source, sha, _media(media))
        for v, at, title, text, raw, edited, source, sha, media in rows
    ]


def _media(value: str | None) -> tuple[dict[str, Any], ...]:
    try:
        items = json.loads(value) if value else []
    except ValueError:
        return ()
    return (
        tuple(item for item in items if isinstance(item, dict)) if isinstance(items, list) else ()
    )


def views_over_time(conn: sqlite3.Connection, post: PostRef) -> list[tuple[str, int]]:
    """Each view count seen for ``post``, oldest first: ``(observed_at, views)``."""
    return [
        (at, views)
        for at, views in conn.execute(
            "SELECT observed_at, views FROM post_views WHERE post = ? AND views IS NOT NULL"
            " ORDER BY observed_at",
            [post.id],
        )
    ]


def reactions_over_time(
    conn: sqlite3.Connection, post: PostRef
) -> list[tuple[str, dict[str, int]]] | None:
    """Each reaction count seen for ``post``, oldest first: ``(observed_at, {emoji: count})``.

    None when the archive keeps no reactions (no ``post_reactions`` table).
    """
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type IN ('table', 'view') AND name = 'post_reactions'"
    ).fetchone()
    if not exists:
        return None
    series = []
    for at, value in conn.execute(
        "SELECT observed_at, reactions FROM post_reactions WHERE post = ? ORDER BY observed_at",
        [post.id],
    ):
        try:
            counts = json.loads(value) if isinstance(value, str) else value
        except ValueError:
            continue
        if isinstance(counts, dict):
            series.append(
                (at, {str(k): int(v) for k, v in counts.items() if isinstance(v, int | float)})
            )
    return series


def pick_versions(
    available: list[Version], first: int | None, second: int | None
) -> tuple[Version, Version]:
    """The two versions to compare: the ones asked for, else the last two."""
    by_number = {v.version: v for v in available}
    if first is None and second is None:
        if len(available) < 2:
            raise BadInput(
                "this post has only one version: there is nothing to compare"
                if available
                else "this post has no versions"
            )
        return available[-2], available[-1]
    if first is None or second is None:
        raise BadInput("give two versions to compare (V1 V2), or none for the last two")
    for number in (first, second):
        if number not in by_number:
            known = ", ".join(str(v) for v in by_number) or "none"
            raise BadInput(f"no version {number} of this post (versions: {known})")
    return by_number[first], by_number[second]


def _document(version: Version, *, raw: bool, with_title: bool) -> str:
    body = version.raw_text if raw else version.text
    if with_title:
        return f"{version.title or ''}\n\n{body}"
    return body


def unified_diff(
    post: PostRef, old: Version, new: Version, *, raw: bool = False, context: int = 3
) -> str:
    """``diff -u`` of two versions' texts (clean text, or the raw text with ``raw``)."""
    with_title = bool(old.title or new.title) and old.title != new.title
    a = _document(old, raw=raw, with_title=with_title).splitlines()
    b = _document(new, raw=raw, with_title=with_title).splitlines()
    lines = difflib.unified_diff(
        a,
        b,
        fromfile=f"{post.name} v{old.version} ({old.captured_at})",
        tofile=f"{post.name} v{new.version} ({new.captured_at})",
        n=context,
        lineterm="",
    )
    return "".join(line + "\n" for line in lines)


_TOKEN = re.compile(
    r"[A-Za-z0-9\u00C0-\u024F\u0400-\u04FF]+(?:['’][A-Za-z]+)*"  # a Latin/Cyrillic word or number
    r"|\s+"  # a run of white space
    r"|.",  # anything else: one CJK character, one punctuation mark
    re.S,
)


def tokens(text: str) -> list[str]:
    """The units of a word diff: words, white space runs, and single CJK characters."""
    return _TOKEN.findall(text)


#: The kinds of runs :func:`word_segments` returns.
EQUAL, REMOVED, ADDED = "equal", "removed", "added"


#: The most work one word diff may do: the pairs of equal units difflib would compare
#: (about a second of it). An edited post is far below it; a hostile pair of texts (a
#: megabyte of one repeated character) is not, and takes the shortcut of
#: :func:`word_segments`, so that no page, feed or notification waits on it.
DIFF_BUDGET = 1_000_000


def word_segments(old: str, new: str) -> list[tuple[str, str]]:
    """The word diff of ``old`` → ``new`` as runs ``(kind, text)``, kind ``equal``/``removed``/``added``.

    Units are :func:`tokens` (a word, a white space run, one CJK character);
    a replaced run gives its removed run, then its added run. Every
    renderer of a word diff (terminal marks, HTML ``<del>``/``<ins>``,
    change events) starts from these runs.

    Bounded in time: when marking every word would cost more than
    :data:`DIFF_BUDGET`, the start and end the texts share are kept equal
    and only what lies between is diffed word by word — or, when that is
    still too costly, given as removed and added whole.
    """
    a, b = tokens(old), tokens(new)
    if _diff_cost(a, b) <= DIFF_BUDGET:
        return _merged(_segments(a, b))
    head = 0
    while head < min(len(a), len(b)) and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < min(len(a), len(b)) - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    middle_a, middle_b = a[head : len(a) - tail], b[head : len(b) - tail]
    runs = [(EQUAL, "".join(a[:head]))]
    if _diff_cost(middle_a, middle_b) <= DIFF_BUDGET:
        runs += _segments(middle_a, middle_b)
    else:
        runs += [(REMOVED, "".join(middle_a)), (ADDED, "".join(middle_b))]
    runs.append((EQUAL, "".join(a[len(a) - tail :])))
    return _merged(runs)


def _diff_cost(a: list[str], b: list[str]) -> int:
    """The pairs of equal units in ``a`` and ``b``: what difflib's first pass looks at."""
    counts = Counter(b)
    return sum(counts[unit] for unit in a)


def _segments(a: list[str], b: list[str]) -> list[tuple[str, str]]:
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    runs: list[tuple[str, str]] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            runs.append((EQUAL, "".join(a[i1:i2])))
            continue
        if op in ("delete", "replace"):
            runs.append((REMOVED, "".join(a[i1:i2])))
        if op in ("insert", "replace"):
            runs.append((ADDED, "".join(b[j1:j2])))
    return runs


def _merged(runs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """``runs`` without empty ones, neighbours of one kind joined."""
    out: list[tuple[str, str]] = []
    for kind, text in runs:
        if not text:
            continue
        if out and out[-1][0] == kind:
            out[-1] = (kind, out[-1][1] + text)
        else:
            out.append((kind, text))
    return out


def word_diff(
    old: str, new: str, *, marks: tuple[str, str, str, str] = ("[-", "-]", "{+", "+}")
) -> str:
    """``new`` with removed runs as ``[-…-]`` and added runs as ``{+…+}`` (``git diff --word-diff``)."""
    out = []
    for kind, text in word_segments(old, new):
        if kind == REMOVED:
            out.append(marks[0] + text + marks[1])
        elif kind == ADDED:
            out.append(marks[2] + text + marks[3])
        else:
            out.append(text)
    return "".join(out)


def word_diff_versions(
    post: PostRef,
    old: Version,
    new: Version,
    *,
    raw: bool = False,
    marks: tuple[str, str, str, str] = ("[-", "-]", "{+", "+}"),
) -> str:
    """A header naming both versions, then their word diff."""
    with_title = bool(old.title or new.title) and old.title != new.title
    header = (
        f"--- {post.name} v{old.version} ({old.captured_at})\n"
        f"+++ {post.name} v{new.version} ({new.captured_at})\n"
    )
    body = word_diff(
        _document(old, raw=raw, with_title=with_title),
        _document(new, raw=raw, with_title=with_title),
        marks=marks,
    )
    return header + body + ("" if body.endswith("\n") else "\n")
