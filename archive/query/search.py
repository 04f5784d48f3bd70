"""Full-text search over the current clean text of every post, best first, fast at any size.

Terms of three or more characters are looked up in ``posts_fts``, whose
trigram tokenizer finds any substring of three or more characters — what
Chinese needs, as it has no spaces between words. A query with a shorter
term (地铁, 5G) uses ``posts_fts_cjk`` instead, where each CJK character is
a word: a Chinese term is a phrase of its characters, a Latin one a word
(:mod:`archive.store.fts`). Either way the ranking is BM25's weight of the
terms in each post (:func:`rank_score`).

Best first never means ranking every match: the index gives matches newest
first, and the newest :data:`CANDIDATES` are ranked. A rare term is ranked
exactly; a term in half the archive costs no more than a rare one, and its
best hits are the best of its most recent posts. A term of punctuation
only is found by a substring scan.

A query is split on white space into terms that must all occur; text in
double quotes is one term. FTS syntax is never interpreted: ``AND``, ``*``
or ``-`` are searched for as written. :func:`parse_query` is the one reader
of that syntax: ``search`` takes a query through it, and so do the keyword
alerts (``sources add --match``, ``changes --match``), whose
:meth:`SearchQuery.found` tells whether one post holds every term.

:func:`match_condition` gives the same choice of index as an SQL
condition on ``posts``: the posts it holds for are exactly the posts
:func:`search_posts` ranks (all of them, unranked). Datasette's search box
on ``posts`` uses it (:mod:`archive.serve.plugin.search`).
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass

from ..errors import BadInput
from ..source import channel_key
from ..store.fts import CJK_INDEX, cjk_spaced

#: Terms shorter than this cannot use the trigram index.
TRIGRAM = 3

DEFAULT_LIMIT = 20
#: At most this many matches (the newest) are ranked for one query.
CANDIDATES = 1000
#: What the CJK index holds of a term: its words (each CJK character one).
_WORD = re.compile(r"\w+")
SNIPPET_WIDTH = 80
#: The longest query, in characters, and the most terms one may have (a stored one too).
MAX_QUERY = 500
MAX_TERMS = 20
#: Control characters (C0 and C1): no query holds one.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


class BadQuery(BadInput):
    """A query that cannot be searched for (no term, a control character, too long)."""


@dataclass(frozen=True)
class SearchQuery:
    """A checked query: its text as given and its terms (see :func:`parse_query`)."""

    text: str
    terms: tuple[str, ...]

    def found(self, title: str | None, text: str | None) -> tuple[str, ...]:
        """The words of a post that match, each term as the post spells it, or ``()``
        unless its title or text holds every term (any case, as ``search`` marks them)."""
        body = f"{title or ''}\n{text or ''}"
        words: list[str] = []
        for term in self.terms:
            hit = re.search(re.escape(term), body, re.IGNORECASE)
            if hit is None:
                return ()
            if hit.group() not in words:
                words.append(hit.group())
        return tuple(words)


def parse_query(text: object, *, option: str | None = None) -> SearchQuery:
    """``text`` read as a query: white-space separated terms that must all occur,
    ``"quoted text"`` one term. Raises :class:`BadQuery` (named after ``option``, when
    given) for a query with no term, a control character, more than :data:`MAX_TERMS`
    terms or more than :data:`MAX_QUERY` characters. (A lone ``"`` is searched for as
    written, like every other character.)"""
    where = f"{option} " if option else ""
    if not isinstance(text, str):
        raise BadQuery(f"{where}{text!r} is not text")
    shown = repr(text[:60] + ("…" if len(text) > 60 else ""))
    if len(text) > MAX_QUERY:
        raise BadQuery(f"{where}{shown} is longer than {MAX_QUERY} characters")
    if _CONTROL.search(text):
        raise BadQuery(f"{where}{shown} holds a control character")
    terms = split_terms(text)
    if not terms:
        raise BadQuery(f"{where}nothing to search for: give one or more words".lstrip())
    if len(terms) > MAX_TERMS:
        raise BadQuery(f"{where}{shown} has {len(terms)} terms; at most {MAX_TERMS}")
    return SearchQuery(text.strip(), tuple(terms))


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
    terms = list(parse_query(text).terms)
    if limit < 1:
        raise BadInput("--limit must be at least 1")
    key = channel_key(channel) if channel is not None else None
    found = _candidates(conn, terms, key, max(limit, CANDIDATES))
    if not found:
        return []
    marks_sql = ", ".join("?" for _ in found)
    rows = conn.execute(
        "SELECT p.id, ch.name, p.post_id, p.url, p.published_at, p.title, p.text,"
        " p.deleted_at FROM posts p JOIN channels ch ON ch.id = p.channel_id"
        f" WHERE p.id IN ({marks_sql})",
        found,
    ).fetchall()
    pattern = _pattern(terms)
    scored = sorted(
        ((rank_score(pattern, row[5], row[6]), -row[0], row) for row in rows),
        key=lambda item: item[:2],
    )
    hits = []
    for score, _, row in scored[:limit]:
        _, name, post_id, url, published_at, title, body, deleted_at = row
        snippet_source = body or title or ""
        if title and not _matches(body, terms):
            snippet_source = title
        hits.append(
            SearchHit(
                channel=name,
                post_id=str(post_id),
                url=url,
                published_at=published_at,
                title=title,
                snippet=make_snippet(snippet_source, terms, marks=marks, width=width),
                deleted_at=deleted_at,
                score=score,
            )
        )
    return hits


#: BM25's constants: how fast repeats stop counting, and how much length matters.
_K1, _B = 1.2, 0.75
#: The length (characters) of a typical post, BM25's "average document".
_TYPICAL_LENGTH = 200


def rank_score(pattern: re.Pattern[str], title: str | None, text: str | None) -> float:
    """BM25's weight of the terms in one post, negated (lower is better).

    Every candidate holds every term, so the terms' rarity across the archive
    (BM25's IDF, which FTS5 would count over every match) does not change
    their order; what does is how often the terms occur and how long the
    post is.
    """
    body = f"{title or ''}\n{text or ''}"
    score = 0.0
    norm = _K1 * (1 - _B + _B * len(body) / _TYPICAL_LENGTH)
    counts: dict[str, int] = {}
    for match in pattern.finditer(body):
        key = match.group().lower()
        counts[key] = counts.get(key, 0) + 1
    for tf in counts.values():
        score += tf * (_K1 + 1) / (tf + norm)
    return -score


def match_condition(
    conn: sqlite3.Connection, text: str, *, name: str = "q"
) -> tuple[str, dict[str, str]]:
    """An SQL condition on a row of ``posts`` (its ``id``, ``title`` and ``text``) that holds
    for the posts whose current title or text has every term of ``text``, and its parameters
    (named ``name``, ``name_1``, …).

    The index and query are :func:`search_posts`'s: trigram for terms of
    three or more characters, the CJK index for shorter ones, a substring
    scan for punctuation. Raises :class:`BadInput` for an empty query.
    """
    terms = split_terms(text)
    if not terms:
        raise BadInput("nothing to search for: give one or more words")
    plan = _index_query(conn, terms)
    if plan is not None:
        index, query = plan
        return f"id IN (SELECT rowid FROM {index} WHERE {index} MATCH :{name})", {name: query}
    where, params = [], {}
    for i, term in enumerate(terms):
        key = f"{name}_{i}"
        where.append(
            f"(COALESCE(text, '') LIKE :{key} ESCAPE '\\' OR COALESCE(title, '') LIKE :{key}"
            " ESCAPE '\\')"
        )
        params[key] = _like_pattern(term)
    return "(" + " AND ".join(where) + ")", params


def _candidates(
    conn: sqlite3.Connection, terms: list[str], channel: str | None, candidates: int
) -> list[int]:
    """The pks of the posts to rank: every match, or the newest ``candidates`` of them.

    The index gives its matches newest first, one page of its lists at a
    time, so a term in half the archive costs what a rare one costs. (FTS5's
    own bm25 would count every match of every term first.)
    """
    plan = _index_query(conn, terms)
    if plan is None:
        return _scan(conn, terms, channel, candidates)
    index, query = plan
    source = f"{index} f"
    where = [f"{index} MATCH ?"]
    params: list = [query]
    if channel is not None:
        # CROSS JOIN keeps the index first: its rows come newest first, filtered here.
        source += (
            " CROSS JOIN posts p ON p.id = f.rowid CROSS JOIN channels ch ON ch.id = p.channel_id"
        )
        where.append("ch.name = ?")
        params.append(channel)
    return [
        row[0]
        for row in conn.execute(
            f"SELECT f.rowid FROM {source} WHERE {' AND '.join(where)}"
            " ORDER BY f.rowid DESC LIMIT ?",
            [*params, candidates],
        )
    ]


def _index_query(conn: sqlite3.Connection, terms: list[str]) -> tuple[str, str] | None:
    """The index and FTS5 query that find ``terms`` (None when no index can)."""
    if all(len(t) >= TRIGRAM for t in terms):
        return "posts_fts", " AND ".join(_fts_phrase(t) for t in terms)
    if not _has_table(conn, CJK_INDEX):
        return None  # an archive from before the index, read as it is
    phrases = []
    for term in terms:
        words = _WORD.findall(cjk_spaced(term) or "")
        if not words:
            return None  # punctuation only: nothing an index holds
        phrases.append(_fts_phrase(" ".join(words)))
    return CJK_INDEX, " AND ".join(phrases)


def _has_table(conn: sqlite3.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", [name]).fetchone() is not None


def _scan(
    conn: sqlite3.Connection, terms: list[str], channel: str | None, candidates: int
) -> list[int]:
    """Substring search without an index (punctuation, or an archive without the CJK index)."""
    where, params = [], []
    for term in terms:
        where.append(
            "(COALESCE(p.text, '') LIKE ? ESCAPE '\\' OR COALESCE(p.title, '') LIKE ? ESCAPE '\\')"
        )
        params += [_like_pattern(term)] * 2
    if channel is not None:
        where.append("ch.name = ?")
        params.append(channel)
    return [
        row[0]
        for row in conn.execute(
            "SELECT p.id FROM posts p JOIN channels ch ON ch.id = p.channel_id"
            f" WHERE {' AND '.join(where)} ORDER BY p.id DESC LIMIT ?",
            [*params, candidates],
        )
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
