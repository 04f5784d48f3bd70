"""Channels found through the archived posts: those they forward from, mention or link to.

Snowball sampling grows a study's list of channels from the channels it
holds. Every post's *current* version (deleted posts included: what a post
said before it went is still evidence) is read for three kinds of pointer:

- ``forward``: the post is forwarded from a channel (``forwarded_from``, a
  ``t.me/NAME/ID`` link; a forward from a hidden sender names no channel);
- ``mention``: its clean text says ``@NAME``;
- ``link``: its text or its links point at ``t.me/NAME``, ``t.me/s/NAME``,
  ``t.me/NAME/123`` or ``telegram.me/NAME`` (``www.`` and ``telegram.dog`` too).

A name read from a post is hostile text. It becomes a candidate only when
:func:`archive.source.parse_source` — the check every ``sources add`` goes
through — reads it as a Telegram channel: a username (a letter, then letters,
digits or ``_``, 3 to 32 in all) that is none of t.me's own paths
(``joinchat``, ``+invites``, ``share``, ``addstickers``, ``proxy``, ``iv``, ``c``
…). A channel never lists itself: a post pointing to its own channel is not
counted for it.

Plain reads on a read-only connection; nothing here writes.
"""

from __future__ import annotations

import functools
import json
import re
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from ..errors import BadInput, BadSource
from ..models import KIND_TELEGRAM
from ..source import SOURCE_TELEGRAM, SOURCE_URL, channel_key, parse_source
from ..times import to_datetime

#: Where a name read from text ends: not before more name-like characters (``@bad-name``,
#: ``t.me/x%0Ay``, ``@host.example``), which would make a cut-off name of a longer string.
_WHOLE = r"(?![A-Za-z0-9_\-%@]|\.[A-Za-z0-9])"
#: ``@NAME`` in text: not inside a word, an e-mail address, a URL path (``/@author``) or an
#: ``@@`` run (only ASCII before it counts: ``关注@name`` is a mention); NAME is taken
#: whole, never cut to a valid length.
_MENTION = re.compile(r"(?<![A-Za-z0-9_@./])@([A-Za-z0-9_]+)" + _WHOLE)
#: A Telegram link written in the text, with or without its scheme: the first path segment
#: (after ``s/``) whole. ``+invite`` and paths with other characters do not match.
_TEXT_LINK = re.compile(
    r"(?<![A-Za-z0-9_./\-])(?:https?://)?(?:www\.)?(?:t\.me|telegram\.me|telegram\.dog)/"
    r"(?:s/)?([A-Za-z0-9_]+)" + _WHOLE,
    re.IGNORECASE,
)


@functools.lru_cache(maxsize=65536)  # the same names come back post after post
def telegram_name(text: str | None) -> str | None:
    """The channel a link or ``@name`` names (lower case), when ``sources add`` would take it
    as a Telegram channel; else None (a web page, an invite, a t.me path, a bad name)."""
    if not text:
        return None
    try:
        source = parse_source(text)
    except BadSource:
        return None
    return source.name if source.kind == SOURCE_TELEGRAM else None


def mentions(text: str | None) -> set[str]:
    """The channels ``text`` mentions as ``@NAME`` (only names that are Telegram usernames)."""
    found = {telegram_name("@" + m.group(1)) for m in _MENTION.finditer(text or "")}
    return {name for name in found if name}


def text_links(text: str | None) -> set[str]:
    """The channels the Telegram links written in ``text`` point to."""
    found = {telegram_name("@" + m.group(1)) for m in _TEXT_LINK.finditer(text or "")}
    return {name for name in found if name}


def _bare_channel_link(url: str, name: str) -> bool:
    """Whether ``url`` is ``https://t.me/NAME`` itself: the link a mention of NAME renders as."""
    return url.rstrip("/").lower() in (f"https://t.me/{name}", f"http://t.me/{name}")


def references(
    forwarded_from: str | None, text: str | None, links: Iterable[str]
) -> dict[str, set[str]]:
    """The channels one post points to, each with how (``forward``, ``mention``, ``link``).

    Telegram renders a mention as a link to ``https://t.me/NAME``: that link is
    the mention, not a link of its own.
    """
    found: dict[str, set[str]] = {}
    forward = telegram_name(forwarded_from)
    if forward:
        found.setdefault(forward, set()).add("forward")
    mentioned = mentions(text)
    for name in mentioned:
        found.setdefault(name, set()).add("mention")
    linked = text_links(text)
    for url in links:
        name = telegram_name(url) if isinstance(url, str) else None
        if name and not (name in mentioned and _bare_channel_link(url, name)):
            linked.add(name)
    for name in linked:
        found.setdefault(name, set()).add("link")
    return found


@dataclass
class Candidate:
    """A channel the archived posts point to, with how many and since when."""

    name: str
    posts: int = 0  # posts pointing to it (each once, however many times it does)
    forwards: int = 0  # of those, posts forwarded from it
    mentions: int = 0  # ... posts mentioning it
    links: int = 0  # ... posts linking to it
    channels: set[str] = field(default_factory=set)  # archived channels whose posts point to it
    first_seen: str | None = None  # the earliest of those posts (published, else first captured)
    last_seen: str | None = None  # the latest of them
    archived: bool = False  # the archive holds this channel
    scheduled: bool = False  # a scheduled source crawls it
    _first: datetime | None = field(default=None, repr=False, compare=False)
    _last: datetime | None = field(default=None, repr=False, compare=False)

    @property
    def url(self) -> str:
        return f"https://t.me/s/{self.name}"

    def count(self, kinds: set[str], channel: str, when: str | None, moment: datetime | None):
        """One more post of ``channel``, published (else captured) at ``when``, points here."""
        self.posts += 1
        self.forwards += "forward" in kinds
        self.mentions += "mention" in kinds
        self.links += "link" in kinds
        self.channels.add(channel)
        if moment is None:
            return
        if self._first is None or moment < self._first:
            self._first, self.first_seen = moment, when
        if self._last is None or moment > self._last:
            self._last, self.last_seen = moment, when

    def to_record(self) -> dict:
        return {
            "channel": self.name,
            "url": self.url,
            "posts": self.posts,
            "channels": len(self.channels),
            "forwards": self.forwards,
            "mentions": self.mentions,
            "links": self.links,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "archived": self.archived,
            "scheduled": self.scheduled,
            "from": sorted(self.channels),
        }


#: The current version of every post that may point somewhere (the rest cannot: no forward,
#: no ``@`` and no Telegram host in its text or links). LIKE is case-blind for ASCII.
_POSTS = (
    "SELECT ch.name, COALESCE(v.published_at, p.published_at, p.first_seen),"
    " v.forwarded_from, v.text, v.links"
    " FROM posts p JOIN channels ch ON ch.id = p.channel_id"
    " JOIN post_versions v ON v.post = p.id AND v.version = p.current_version"
    " WHERE (v.forwarded_from IS NOT NULL OR instr(v.text, '@') > 0"
    " OR v.text LIKE '%t.me/%' OR v.text LIKE '%telegram.%'"
    " OR v.links LIKE '%t.me/%' OR v.links LIKE '%telegram.%')"
)


def _links(value: str | None) -> list[str]:
    try:
        links = json.loads(value) if value else []
    except ValueError:
        return []
    return [link for link in links if isinstance(link, str)] if isinstance(links, list) else []


def _pointing_posts(
    conn: sqlite3.Connection, names: list[str]
) -> Iterator[tuple[str, str | None, str | None, str | None, str | None]]:
    if not names:
        yield from conn.execute(_POSTS)
        return
    marks = ", ".join("?" for _ in names)
    yield from conn.execute(f"{_POSTS} AND ch.name IN ({marks})", names)


def _channel_names(conn: sqlite3.Connection, asked: list[str]) -> list[str]:
    """The archived channels ``asked`` names (as the archive keys them); BadInput for others."""
    keys = []
    for text in asked:
        key = channel_key(text)
        if conn.execute("SELECT 1 FROM channels WHERE name = ?", [key]).fetchone() is None:
            raise BadInput(f"no channel {text!r} in the archive (see: chanarchive query"
                           " \"SELECT name FROM channels\")")  # fmt: skip
        keys.append(key)
    return keys


def _scheduled_channels(conn: sqlite3.Connection) -> set[str]:
    """The Telegram channels the scheduled sources crawl (``@name``, or a ``/s/NAME`` URL)."""
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'sources'").fetchone():
        return set()
    found = set()
    for key, kind, url in conn.execute("SELECT key, kind, url FROM sources"):
        if kind == SOURCE_URL:
            match = re.match(r"^[a-z]+://[^/]+/s/([A-Za-z0-9_]+)/?(?:\?.*)?\Z", url or "")
            name = telegram_name("@" + match.group(1)) if match else None
        else:
            name = telegram_name(key)
        if name:
            found.add(name)
    return found


def discover(
    conn: sqlite3.Connection,
    channels: list[str] | None = None,
    *,
    min_posts: int = 1,
) -> list[Candidate]:
    """The channels the posts of ``channels`` (default: every archived channel) point to.

    Ranked: most pointing posts first, then most archived channels pointing,
    then by name. Only those with at least ``min_posts`` posts.
    """
    if min_posts < 1:
        raise BadInput(f"--min must be at least 1, not {min_posts}")
    names = _channel_names(conn, list(channels or []))
    found: dict[str, Candidate] = {}
    for channel, when, forwarded_from, text, links in _pointing_posts(conn, names):
        pointed = references(forwarded_from, text, _links(links))
        pointed.pop(channel, None)  # a channel never lists itself
        moment = to_datetime(when) if pointed else None
        for name, kinds in pointed.items():
            found.setdefault(name, Candidate(name)).count(kinds, channel, when, moment)
    ranked = sorted(
        (c for c in found.values() if c.posts >= min_posts),
        key=lambda c: (-c.posts, -len(c.channels), c.name),
    )
    archived = {
        name
        for (name,) in conn.execute("SELECT name FROM channels WHERE kind = ?", [KIND_TELEGRAM])
    }
    scheduled = _scheduled_channels(conn)
    for candidate in ranked:
        candidate.archived = candidate.name in archived
        candidate.scheduled = candidate.name in scheduled
    return ranked
