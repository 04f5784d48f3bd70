"""The records that flow from a fetched page into the archive.

A crawl produces one :class:`Capture` per fetched page (the raw HTTP
response) and one :class:`Page` per parsed page (the channel header and the
posts found on it). Both are plain data, serialisable to JSON with
:func:`to_dict` / :func:`page_from_dict`, so that a crawl worker and the
archive writer may live in different processes.
"""

from __future__ import annotations

import base64
import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any

#: Page kinds: where the markup came from.
KIND_TELEGRAM = "telegram"
KIND_WEB = "web"

#: Crawl statuses (``crawls.status``).
RUNNING, OK, PARTIAL, FAILED = "running", "ok", "partial", "failed"

#: Kinds of recorded crawl errors (``crawl_errors.kind``).
ERROR_FETCH = "fetch"  # the request failed (timeout, refused, too large, ...)
ERROR_HTTP = "http"  # the server answered with an error status
ERROR_ROBOTS = "robots"  # robots.txt forbids the page
ERROR_PARSE = "parse"  # the body could not be read as a page
ERROR_THROTTLED = "throttled"  # Telegram kept serving its empty "no messages" page
ERROR_INGEST = "ingest"  # the page could not be written
ERROR_UNREADABLE = "unreadable"  # the channel cannot be read (no preview, no such channel, ...)

#: What a page is, for the crawl and for the archive.
PAGE_CHANNEL = "channel"  # a t.me/s page: a run of a channel's messages
PAGE_LISTING = "listing"  # a mirror page with many post cards
PAGE_POST = "post"  # a page carrying one main post
PAGE_GONE = "gone"  # a post page answered 404/410: the post was removed
PAGE_EMBED = "embed"  # a post's own embed, fetched to decide whether it was deleted


#: A Telegram message id as the archive counts it: ASCII digits, below 2**63.
_POST_NUMBER = re.compile(r"^[0-9]{1,18}\Z", re.ASCII)


def post_number(post_id: str) -> int | None:
    """A post id as a number (Telegram message ids), or None when it is not one."""
    return int(post_id) if _POST_NUMBER.match(post_id) else None


@dataclass
class Post:
    """One post as captured on one page."""

    channel: str
    post_id: str
    url: str
    source_url: str
    published_at: str | None = None  # ISO 8601 with offset
    title: str | None = None
    raw_text: str = ""  # the post's text as captured, line breaks kept
    text: str | None = None  # clean text (boilerplate removed); None until cleaned
    html: str = ""  # the text's HTML as captured
    edited: bool = False  # the page marks the post as edited
    views: int | None = None
    author: str | None = None  # a signature shown with the post
    forwarded_from: dict[str, Any] | None = None  # {"name", "url" (None when hidden)}
    reply_to: str | None = None  # URL of the post replied to
    links: list[str] = field(default_factory=list)
    media: list[dict[str, Any]] = field(default_factory=list)  # [{"type", "url", ...}]
    link_preview: dict[str, Any] | None = None  # {"url", "site", "title", "description", "image"}
    service: bool = False  # a service message (channel created, photo changed, ...)
    #: Reactions shown under the post: emoji (``custom:ID`` for a custom emoji, ``⭐`` for paid
    #: stars) -> count; None when the page shows no reactions block.
    reactions: dict[str, int] | None = None
    excerpt: bool = False  # only an excerpt (a listing card): never replaces full text
    #: What cleaning removed, as (rule, text) pairs: shown by ``extract --explain``.
    removed: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class ChannelInfo:
    """What a page says about the channel it belongs to."""

    name: str
    kind: str = KIND_TELEGRAM
    title: str | None = None
    description: str | None = None
    subscribers: int | None = None
    source_url: str | None = None
    image: str | None = None


@dataclass
class Page:
    """A parsed page: its channel, its posts, and where the crawl goes next."""

    url: str
    kind: str
    page_type: str
    channel: ChannelInfo | None = None
    posts: list[Post] = field(default_factory=list)
    title: str | None = None
    #: Telegram: ``before`` of the request that fetched this page (None: the newest page).
    before: int | None = None
    #: Telegram: the "older" link's ``data-before`` (None when the page has none).
    older: int | None = None
    #: Telegram: the page says ``tme_no_messages_found`` (a throttled or empty answer).
    throttled: bool = False
    #: Web: links to follow (same host; the crawl filters them further).
    links: list[str] = field(default_factory=list)
    encoding: str | None = None
    #: Web: the page parts extraction cut (rule, text), for ``extract --explain``.
    removed: list[tuple[str, str]] = field(default_factory=list)
    #: The site profile the page was extracted with (None: the defaults).
    profile: str | None = None
    #: Telegram: no message of the channel is older than ``before`` (the walk proved it).
    start: bool = False
    #: What could not be read on the page (left-out messages, truncated markup): parse errors.
    errors: list[str] = field(default_factory=list)

    def covered_range(self) -> tuple[int, int] | None:
        """Telegram: the ids this page shows in full (every id in it that still exists is here).

        The newest page covers its lowest to its highest id; a ``?before=N``
        page covers its lowest id to N-1; an empty (not throttled)
        ``?before=N`` page, or one the walk found to be the channel's start,
        means nothing is older than N, so it covers 1..N-1.
        """
        ids = [n for p in self.posts if (n := post_number(p.post_id)) is not None]
        if ids:
            hi = self.before - 1 if self.before is not None else max(ids)
            return min(ids), max(hi, max(ids))
        if self.before is not None and self.before > 1 and (self.start or not self.throttled):
            return 1, self.before - 1
        return None

    def listing_range(self) -> tuple[int, int] | None:
        """Telegram: the ids whose posts this page would show if they still existed.

        Its :meth:`covered_range`; the channel's newest page (no ``before``)
        also stands for every newer id, so a deleted newest post is missed too.
        """
        covered = self.covered_range()
        if covered is None or self.before is not None:
            return covered
        return covered[0], 2**63 - 1


@dataclass
class Capture:
    """A fetched HTTP response, as it came off the wire."""

    url: str
    fetched_at: str  # ISO 8601, UTC
    status: int
    body: bytes
    headers: list[tuple[str, str]] = field(default_factory=list)
    requested_url: str | None = None
    protocol: str = "HTTP/1.1"

    def header(self, name: str) -> str | None:
        lname = name.lower()
        for key, value in self.headers:
            if key.lower() == lname:
                return value
        return None


@dataclass
class WebKnown:
    """What the archive knows of a web channel's live posts, for a crawl to compare with."""

    urls: dict[str, str]  # post id -> URL, every post not deleted
    listings: dict[str, list[str]]  # listing URL -> the post ids it showed last time


def to_dict(obj: Any) -> dict[str, Any]:
    """A JSON-ready dict of a Capture, Page, Post or MediaFetch (bytes as base64)."""
    data = dataclasses.asdict(obj)
    if isinstance(obj, Capture | MediaFetch):
        data["body"] = base64.b64encode(obj.body).decode("ascii")
    if isinstance(obj, Capture):
        data["headers"] = [list(h) for h in obj.headers]
    return data


def capture_from_dict(data: dict[str, Any]) -> Capture:
    data = dict(data)
    body = data.get("body", b"")
    if isinstance(body, str):
        body = base64.b64decode(body)
    data["body"] = body
    data["headers"] = [tuple(h) for h in data.get("headers", [])]
    return Capture(**data)


def media_fetch_from_dict(data: dict[str, Any]) -> MediaFetch:
    data = dict(data)
    body = data.get("body", b"")
    data["body"] = base64.b64decode(body) if isinstance(body, str) else body
    return MediaFetch(**data)


def page_from_dict(data: dict[str, Any]) -> Page:
    data = dict(data)
    channel = data.get("channel")
    data["channel"] = ChannelInfo(**channel) if channel else None
    data["posts"] = [Post(**p) for p in data.get("posts", [])]
    return Page(**data)


#: ``crawl --media``: which media files a crawl archives.
MEDIA_NONE, MEDIA_PHOTOS, MEDIA_ALL = "none", "photos", "all"
MEDIA_MODES = (MEDIA_NONE, MEDIA_PHOTOS, MEDIA_ALL)
#: ``crawl --media-max-size`` by default: 20 MiB.
MEDIA_MAX_SIZE = 20 * 1024 * 1024
#: ``crawl --deletion-checks`` by default: looks at missing posts per source and crawl.
DEFAULT_DELETION_CHECKS = 50
#: What a look at a post's embed said (``deletion_checks.outcome``): gone, still there,
#: or no answer.
CHECK_DELETED, CHECK_ALIVE, CHECK_FAILED = "deleted", "alive", "failed"
CHECK_OUTCOMES = (CHECK_DELETED, CHECK_ALIVE, CHECK_FAILED)

_SIZE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([kmgt]?)(i?b?)\s*$", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


def parse_size(text: str) -> int:
    """A size in bytes from ``20971520``, ``500K``, ``20M``, ``20MiB`` or ``1G`` (powers of 1024)."""
    match = _SIZE.match(text or "")
    if not match:
        raise ValueError(f"not a size: {text!r} (bytes, or a number with K, M or G)")
    number, unit = float(match.group(1)), match.group(2).lower()
    return int(number * _SIZE_UNITS[unit])


@dataclass(frozen=True)
class MediaRef:
    """Where a post shows a media file: its channel, post id and slot.

    The slot names the media item: ``"0"`` (the first item's own URL), ``"0/thumb"``
    (its thumbnail), ``"preview"`` (the link preview's image).
    """

    channel: str
    post_id: str
    slot: str


@dataclass
class MediaFetch:
    """What fetching one media URL gave: the file, or the reason it failed."""

    url: str
    fetched_at: str
    ok: bool
    body: bytes = b""
    content_type: str | None = None
    http_status: int | None = None
    reason: str | None = None
