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
import ipaddress
import re
import types
import typing
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
ERROR_KINDS = (
    ERROR_FETCH, ERROR_HTTP, ERROR_ROBOTS, ERROR_PARSE, ERROR_THROTTLED, ERROR_INGEST,
    ERROR_UNREADABLE,
)  # fmt: skip

#: What a page is, for the crawl and for the archive.
PAGE_CHANNEL = "channel"  # a t.me/s page: a run of a channel's messages
PAGE_LISTING = "listing"  # a mirror page with many post cards
PAGE_POST = "post"  # a page carrying one main post
PAGE_GONE = "gone"  # a post page answered 404/410: the post was removed
PAGE_EMBED = "embed"  # a post's own embed, fetched to decide whether it was deleted


#: The text t.me shows for a channel's first message, the service message of its creation:
#: no message of the channel is older.
CHANNEL_CREATED = "Channel created"

#: A Telegram message id as the archive counts it: ASCII digits, below 2**63.
_POST_NUMBER = re.compile(r"^[0-9]{1,18}\Z", re.ASCII)


def post_number(post_id: str) -> int | None:
    """A post id as a number (Telegram message ids), or None when it is not one."""
    return int(post_id) if _POST_NUMBER.match(post_id) else None


def uncovered_ranges(covered: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The id ranges of a Telegram channel that no archived range covers, newest first.

    ``covered`` are the ranges archived in full (any order, overlapping or not);
    the holes lie between 1 and the highest covered id: below the lowest range
    (unless it reaches 1, the channel's start) and between the ranges.
    """
    holes: list[tuple[int, int]] = []
    nxt = 1  # the lowest id not yet accounted for
    for lo, hi in sorted(covered):
        if lo > nxt:
            holes.append((nxt, lo - 1))
        nxt = max(nxt, hi + 1)
    return holes[::-1]


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
    #: What could not be read on the page (left-out messages, truncated markup): parse errors.
    errors: list[str] = field(default_factory=list)

    def shows_creation(self) -> bool:
        """Telegram: the page shows the channel's creation (its "Channel created" service
        message): no message of the channel is older than it."""
        return any(p.service and p.raw_text.strip() == CHANNEL_CREATED for p in self.posts)

    def covered_range(self, *, start: bool = False) -> tuple[int, int] | None:
        """Telegram: the ids this page shows in full (every id in it that still exists is here).

        The newest page covers its lowest to its highest id; a ``?before=N``
        page covers its lowest id to N-1; an empty (not throttled)
        ``?before=N`` page, or one the walk found to be the channel's start
        (``start``: no message is older than its ``before``), means nothing is
        older than N, so it covers 1..N-1. A page of messages that is the
        channel's start (``start``: none is older than its lowest) covers
        from 1.
        """
        ids = [n for p in self.posts if (n := post_number(p.post_id)) is not None]
        if ids:
            hi = self.before - 1 if self.before is not None else max(ids)
            return 1 if start else min(ids), max(hi, max(ids))
        if self.before is not None and self.before > 1 and (start or not self.throttled):
            return 1, self.before - 1
        return None

    def listing_range(self, *, start: bool = False) -> tuple[int, int] | None:
        """Telegram: the ids whose posts this page would show if they still existed.

        Its :meth:`covered_range`; the channel's newest page (no ``before``)
        also stands for every newer id, so a deleted newest post is missed too.
        """
        covered = self.covered_range(start=start)
        if covered is None or self.before is not None:
            return covered
        return covered[0], 2**63 - 1

    def judged_range(self, *, start: bool = False) -> tuple[int, int] | None:
        """Telegram: the id range whose posts this page no longer shows are *missing*.

        Only a whole page of a channel's messages judges (no message left
        unread, not Telegram's throttled answer unless the walk proved it is
        the channel's start); its :meth:`listing_range`. None: nothing judged.
        """
        if self.kind != KIND_TELEGRAM or self.channel is None or not self.posts or self.errors:
            return None
        if self.throttled and not start:
            return None
        return self.listing_range(start=start)


#: A request line as a WARC ``request`` record holds it: method, target, HTTP version.
_REQUEST_LINE = re.compile(r"^[A-Z]{1,16} [\x21-\x7e]{1,8192} HTTP/[0-9]\.[0-9]\Z", re.ASCII)
#: A header name (an RFC 9110 token) and a value on one line, without control characters.
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}\Z", re.ASCII)
_HEADER_VALUE = re.compile(r"^[^\x00-\x08\x0a-\x1f\x7f]{0,16384}\Z")


def checked_ip_address(value: object) -> str | None:
    """An IP address as text (its canonical spelling), or None when ``value`` is not one."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        return ipaddress.ip_address(value).compressed
    except ValueError:
        return None


def checked_request_line(value: object) -> str | None:
    """``METHOD TARGET HTTP/x.y`` on one line, or None when ``value`` is not one."""
    if isinstance(value, str) and _REQUEST_LINE.match(value):
        return value
    return None


def checked_headers(headers: object) -> list[tuple[str, str]]:
    """The (name, value) pairs of ``headers`` that a WARC record can carry as they are.

    A pair that is not two strings, a name that is not an HTTP token, or a
    value with a line break or another control character (a tab aside) is
    left out: such a header would break the record it is written into.
    """
    if not isinstance(headers, list | tuple):
        return []
    kept = []
    for pair in headers:
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            continue
        name, value = pair
        if (
            isinstance(name, str)
            and isinstance(value, str)
            and _HEADER_NAME.match(name)
            and _HEADER_VALUE.match(value)
        ):
            kept.append((name, value))
    return kept


@dataclass
class Capture:
    """A fetched HTTP response, as it came off the wire, and how it was asked for.

    ``ip_address`` is the server's address the response came from;
    ``request_line`` and ``request_headers`` are the request as it was sent
    (None and empty when not known, as for captures made before chanarchive
    kept them). They are provenance for the WARC export and are checked
    here, whoever built the capture: a value that is not an IP address, a
    request line, or a header a WARC record can carry is dropped.
    """

    url: str
    fetched_at: str  # ISO 8601, UTC
    status: int
    body: bytes
    headers: list[tuple[str, str]] = field(default_factory=list)
    requested_url: str | None = None
    protocol: str = "HTTP/1.1"
    ip_address: str | None = None
    request_line: str | None = None
    request_headers: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.ip_address = checked_ip_address(self.ip_address)
        self.request_line = checked_request_line(self.request_line)
        self.request_headers = checked_headers(self.request_headers) if self.request_line else []

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


def to_record(obj: Any) -> Any:
    """A JSON-ready form of a record dataclass (Capture, Page, Post, MediaFetch …), nested
    ones included: bytes as base64 text, tuples as lists. :func:`from_record` reads it back."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_record(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, bytes | bytearray):
        return base64.b64encode(bytes(obj)).decode("ascii")
    if isinstance(obj, list | tuple):
        return [to_record(v) for v in obj]
    if isinstance(obj, dict):
        return {k: to_record(v) for k, v in obj.items()}
    return obj


def to_dict(obj: Any) -> dict[str, Any]:
    """A JSON-ready dict of a Capture, Page, Post or MediaFetch (bytes as base64)."""
    return to_record(obj)


#: The most a record may carry, whoever sent it: one text, one list, one body.
MAX_RECORD_TEXT = 16 * 1024 * 1024
MAX_RECORD_ITEMS = 100_000
MAX_RECORD_BODY = 512 * 1024 * 1024


def _checked(hint: Any, value: Any, where: str) -> Any:
    """``value`` checked against the type ``hint`` (and the size caps); BadRecord otherwise."""
    from .errors import BadRecord

    origin = typing.get_origin(hint)
    if hint is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(hint)
        if value is None and type(None) in options:
            return None
        problems = []
        for option in options:
            if option is type(None):
                continue
            try:
                return _checked(option, value, where)
            except BadRecord as exc:
                problems.append(str(exc))
        raise BadRecord(problems[0] if problems else f"{where}: must not be null")
    if dataclasses.is_dataclass(hint):
        return _record(hint, value, where)
    if origin is list:
        (inner,) = typing.get_args(hint) or (Any,)
        if not isinstance(value, list):
            raise BadRecord(f"{where}: must be a list, not {type(value).__name__}")
        if len(value) > MAX_RECORD_ITEMS:
            raise BadRecord(f"{where}: {len(value)} entries, more than {MAX_RECORD_ITEMS}")
        return [_checked(inner, v, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is tuple:
        inner = typing.get_args(hint)
        if not isinstance(value, list | tuple) or len(value) != len(inner):
            raise BadRecord(f"{where}: must be a list of {len(inner)}")
        return tuple(
            _checked(t, v, f"{where}[{i}]")
            for i, (t, v) in enumerate(zip(inner, value, strict=True))
        )
    if origin is dict:
        key_type, inner = typing.get_args(hint) or (str, Any)
        if not isinstance(value, dict):
            raise BadRecord(f"{where}: must be an object, not {type(value).__name__}")
        if len(value) > MAX_RECORD_ITEMS:
            raise BadRecord(f"{where}: {len(value)} entries, more than {MAX_RECORD_ITEMS}")
        return {
            _checked(key_type, k, f"{where} key"): _checked(inner, v, f"{where}[{k!r}]")
            for k, v in value.items()
        }
    if hint is bytes:
        if isinstance(value, bytes):
            body = value
        elif isinstance(value, str) and len(value) <= MAX_RECORD_BODY // 3 * 4 + 4:
            try:
                body = base64.b64decode(value, validate=True)
            except ValueError:
                raise BadRecord(f"{where}: not base64") from None
        else:
            raise BadRecord(f"{where}: must be base64 text")
        if len(body) > MAX_RECORD_BODY:
            raise BadRecord(f"{where}: {len(body)} bytes, more than {MAX_RECORD_BODY}")
        return body
    if hint is bool:
        if not isinstance(value, bool):
            raise BadRecord(f"{where}: must be true or false, not {value!r}"[:200])
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise BadRecord(f"{where}: must be a whole number, not {value!r}"[:200])
        if abs(value) >= 2**63:
            raise BadRecord(f"{where}: {value} is out of range")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise BadRecord(f"{where}: must be a number, not {value!r}"[:200])
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise BadRecord(f"{where}: must be text, not {type(value).__name__}")
        if len(value) > MAX_RECORD_TEXT:
            raise BadRecord(f"{where}: {len(value)} characters, more than {MAX_RECORD_TEXT}")
        return value
    raise BadRecord(f"{where}: cannot check a value of type {hint!r}")  # pragma: no cover


def from_record(cls: type, data: Any, where: str | None = None) -> Any:
    """An instance of dataclass ``cls`` from its record (:func:`to_record`), checked: an
    unknown, missing or mistyped field, or one over the size caps, is :class:`BadRecord`."""
    return _record(cls, data, where or cls.__name__.lower())


def _record(cls: type, data: Any, where: str) -> Any:
    """An instance of dataclass ``cls`` from its record: no unknown, missing or mistyped field."""
    from .errors import BadRecord

    if not isinstance(data, dict):
        raise BadRecord(f"{where}: must be an object, not {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(str(k) for k in data if k not in known)
    if unknown:
        raise BadRecord(f"{where}: unknown field {unknown[0]!r}"[:200])
    values = {}
    for name, spec in known.items():
        if name not in data:
            if spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING:
                raise BadRecord(f"{where}: no {name!r}")
            continue
        values[name] = _checked(hints[name], data[name], f"{where}.{name}")
    return cls(**values)


def capture_from_dict(data: dict[str, Any]) -> Capture:
    """A :class:`Capture` from its record (:func:`to_dict`), every field checked."""
    return _record(Capture, data, "capture")


def media_fetch_from_dict(data: dict[str, Any]) -> MediaFetch:
    """A :class:`MediaFetch` from its record, every field checked."""
    return _record(MediaFetch, data, "fetch")


def page_from_dict(data: dict[str, Any]) -> Page:
    """A :class:`Page` from its record, its channel and posts included, every field checked."""
    return _record(Page, data, "page")


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
    """What fetching one media URL gave: the file, or the reason it failed.

    ``tried`` False: the URL was not asked for at all (its host failed too often in the
    crawl): its reason is kept, and it uses up none of the URL's tries.
    """

    url: str
    fetched_at: str
    ok: bool
    body: bytes = b""
    content_type: str | None = None
    http_status: int | None = None
    reason: str | None = None
    ip_address: str | None = None  # the server's address the file came from, when known
    tried: bool = True

    def __post_init__(self) -> None:
        self.ip_address = checked_ip_address(self.ip_address)
