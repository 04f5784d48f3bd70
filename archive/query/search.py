"""Full-text search over the current clean text of every post.

The archive's ``posts_fts`` index uses SQLite's trigram tokenizer, which
finds any substring of three or more characters — what Chinese needs, as
it has no spaces between words. A term of one or two characters (地铁)
cannot be looked up in a trigram index, so such terms fall back to a
substring scan of ``posts.text`` and ``posts.title``; results are then
ranked by how often the terms occur, densest first. Terms of three or
more characters are ranked by FTS5's bm25.

A query is split on white space into terms that must all occur; text in
double quotes is one term. FTS syntax is never interpreted: ``AND``, ``*``
or ``-`` are searched for as written.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass

from ..errors import BadInput
from ..source import channel_key

#: Terms shorter than this cannot use the trigram index.
TRIGRAM = 3

DEFAULT_LIMIT = 20
SNIPPET_WIDTH = 80


@dataclass
class SearchHit:
    """One post that matched, with a snippet around the first match."""

    channel: str
    post_id: str
    url: str | None
    published_at: str | None
    title: str | None
    snippet: str
    deleted_at: str | None
    score: float  # lower is better

    @property
    def ref(self) -> str:
        return f"{self.channel}/{self.post_id}"


def split_terms(text: str) -> list[str]:
    """The terms of a query: white-space separated, ``"quoted text"`` kept together."""
    terms = [a or b for a, b in re.findall(r'"([^"]+)"|(\S+)', text)]
    return [t.strip() for t in terms if t.strip()]


def _fts_phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _like_pattern(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_posts(
    conn: sqlite3.Connection,
    text: str,
    *,
    channel: str | None = None,
    limit: int = DEFAULT_LIMIT,
    marks: tuple[str, str] = ("[", "]"),
    width: int = SNIPPET_WIDTH,
) -> list[SearchHit]:
    """Posts whose current title or text holds every term of ``text``, best first.

    Each hit's snippet is about ``width`` characters around the first match,
    with every match wrapped in ``marks``. Raises :class:`BadInput` for an
    empty query or a limit below 1.
    """
    terms = split_terms(text)
    if not terms:
        raise BadInput("nothing to search for: give one or more words")
    if limit < 1:
        raise BadInput("--limit must be at least 1")
    long_terms = [t for t in terms if len(t) >= TRIGRAM]
    short_terms = [t for t in terms if len(t) < TRIGRAM]

    where, params = [], []
    if long_terms:
        source = "posts_fts JOIN posts p ON p.id = posts_fts.rowid"
        where.append("posts_fts MATCH ?")
        params.append(" AND ".join(_fts_phrase(t) for t in long_terms))
        score = "bm25(posts_fts)"
    else:
        source = "posts p"
        # Occurrences per character of text, negated so that lower is better.
        counts = " + ".join(
            "(length(COALESCE(p.text, '')) - length(replace(COALESCE(p.text, ''), ?, '')))"
            " / length(?)"
            for _ in short_terms
        )
        score = f"-1.0 * ({counts}) / (length(COALESCE(p.text, '')) + 20)"
    score_params = [value for t in short_terms for value in (t, t)] if not long_terms else []
    for term in short_terms:
        where.append(
            "(COALESCE(p.text, '') LIKE ? ESCAPE '\\' OR COALESCE(p.title, '') LIKE ? ESCAPE '\\')"
        )
        params += [_like_pattern(term)] * 2
    if channel is not None:
        where.append("ch.name = ?")
        params.append(channel_key(channel))
    sql = (
        f"SELECT ch.name, p.post_id, p.url, p.published_at, p.title, p.text, p.deleted_at,"
        f" {score} AS score FROM {source} JOIN channels ch ON ch.id = p.channel_id"
        f" WHERE {' AND '.join(where)}"
        " ORDER BY score, p.published_at DESC, p.id DESC LIMIT ?"
    )
    rows = conn.execute(sql, [*score_params, *params, limit]).fetchall()
    return [
        SearchHit(
            channel=name,
            post_id=str(post_id),
            url=url,
            published_at=published_at,
            title=title,
            snippet=make_snippet(body or title or "", terms, marks=marks, width=width)
            if _matches(body, terms) or not title
            else make_snippet(title, terms, marks=marks, width=width),
            deleted_at=deleted_at,
            score=score_value,
        )
        for name, post_id, url, published_at, title, body, deleted_at, score_value in rows
    ]


def _matches(text: str | None, terms: list[str]) -> bool:
    return bool(text) and _pattern(terms).search(text) is not None


def _pattern(terms: list[str]) -> re.Pattern[str]:
    alternatives = sorted({t for t in terms}, key=len, reverse=True)
    return re.compile("|".join(re.escape(t) for t in alternatives), re.IGNORECASE)


def make_snippet(
    text: str, terms: list[str], *, marks: tuple[str, str] = ("[", "]"), width: int = SNIPPET_WIDTH
) -> str:
    """About ``width`` characters of ``text`` around its first match, every match marked.

    Line breaks become spaces; ``…`` shows where the text was cut.
    """
    flat = " ".join(text.split())
    pattern = _pattern(terms)
    first = pattern.search(flat)
    if len(flat) <= width:
        start, end = 0, len(flat)
    else:
        center = first.start() if first else 0
        start = max(0, min(center - width // 3, len(flat) - width))
        end = min(len(flat), start + width)
        # Never cut a match in two at either edge.
        for m in pattern.finditer(flat):
            if m.start() < start < m.end():
                start = m.start()
            if m.start() < end < m.end():
                end = m.end()
    piece = flat[start:end]
    marked = pattern.sub(lambda m: f"{marks[0]}{m.group()}{marks[1]}", piece)
    return ("…" if start > 0 else "") + marked + ("…" if end < len(flat) else "")
