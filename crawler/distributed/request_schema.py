"""The schema of a queued request, as data: the keys it may have, the ``meta`` keys and the
check of each, and the callbacks it may name.

:func:`~crawler.distributed.requests.read_request` reads a queue member
against it; :func:`~crawler.distributed.requests.queued_form` writes only
what it names. A request fits when every key is known (:data:`REQUEST_KEYS`,
:data:`META`; Scrapy's and the worker's own bookkeeping, :data:`LOCAL_META`,
is taken and left out), its callbacks are one of the spider's pairs
(:data:`CALLBACKS`) with the meta that kind of request needs
(:data:`REQUIRED_META`), and every value passes its check: of its type,
within its bounds. Each check returns the value the request gets, or raises
:class:`BadRequest` saying where and what.

Adding a meta key is a row of :data:`META`: until then, a request carrying it
is refused when read, and the key is left out when a request is queued.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from archive.errors import BadRecord
from archive.models import post_number
from archive.source import is_channel_name, is_web_channel_name

from ..options import MAX_DEPTH
from ..plans import checks, media
from .frontier import RKEY

#: The longest queued request read (its walk and media refs are the long parts).
MAX_REQUEST = 4 * 1024 * 1024
#: The longest URL a queued request may fetch.
MAX_URL = 8192
#: Headers a queued request may carry: names, values per name, bytes per value.
MAX_HEADERS, MAX_HEADER_VALUES, MAX_HEADER_VALUE = 32, 4, 8192
#: Cookies a queued request may carry, and bytes per name or value.
MAX_COOKIES, MAX_COOKIE = 32, 4096
#: The most id ranges in a walk, media refs in a media request, redirects kept.
MAX_WALK, MAX_REFS, MAX_REDIRECTS = 100_000, 10_000, 100
#: The largest retry and redirect counts, and the largest byte caps, taken.
MAX_TRIES, MAX_BYTES = 1000, 2**40
#: A header's name (an HTTP token).
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}", re.ASCII)
#: The spider's (callback, errback) pairs a queued request may name, and what each fetches.
CALLBACKS: dict[tuple[str, str], str] = {
    ("parse", "on_error"): "page",
    media.CALLBACKS: "media",
    checks.CALLBACKS: "check",
}
#: The meta keys each kind of request must carry.
REQUIRED_META = {
    "page": ("source",),
    "media": ("source", "media_url", "media_refs"),
    "check": ("source", "check"),
}
#: The keys of a queued request (Scrapy's ``Request.to_dict``, without ``_class``).
REQUEST_KEYS = frozenset(
    {"url", "callback", "errback", "headers", "method", "body", "cookies", "meta", "encoding",
     "priority", "dont_filter", "flags", "cb_kwargs"}
)  # fmt: skip
#: Meta keys Scrapy or this worker keep for themselves: never queued, never taken from the
#: queue (a lease, a host turn, a download slot are this worker's own).
LOCAL_META = frozenset(
    {"lease", "host_turn", "download_slot", "download_latency", "_scheme_proxy",
     "is_start_request", "depth_reset"}
)  # fmt: skip


class BadRequest(BadRecord):
    """A queued request that does not fit its schema: never built, never fetched."""


def fail(where: str, problem: str) -> BadRequest:
    return BadRequest(f"{where}: {problem}"[:300])


def whole(lo: int, hi: int) -> Callable[[Any, str], int]:
    def check(value: Any, where: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise fail(where, f"must be a whole number from {lo} to {hi}, not {value!r}")
        return value

    return check


def flag(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise fail(where, f"must be true or false, not {value!r}")
    return value


def text(limit: int) -> Callable[[Any, str], str]:
    def check(value: Any, where: str) -> str:
        if not isinstance(value, str) or len(value) > limit:
            raise fail(where, f"must be text of at most {limit} characters")
        return value

    return check


def http_url(value: Any, where: str) -> str:
    """``value`` if it is an http(s) URL with a host, of bounded length, without spaces."""
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_URL:
        raise fail(where, f"must be a URL of at most {MAX_URL} characters")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise fail(where, "a URL has no spaces or control characters")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - a bad port raises here
    except ValueError as exc:
        raise fail(where, f"not a URL ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise fail(where, f"must be an http(s) URL, not {value[:100]!r}")
    return value


def _rkey(value: Any, where: str) -> str:
    if not isinstance(value, str) or not RKEY.fullmatch(value):
        raise fail(where, "not a request key")
    return value


def _channel(value: Any, where: str) -> str:
    if not isinstance(value, str) or not (is_channel_name(value) or is_web_channel_name(value)):
        raise fail(where, f"not a channel name: {value!r}")
    return value


def _before(value: Any, where: str) -> int | None:
    return None if value is None else whole(1, 2**63 - 1)(value, where)


def _walk(value: Any, where: str) -> list[list[int]]:
    if not isinstance(value, list) or len(value) > MAX_WALK:
        raise fail(where, f"must be a list of at most {MAX_WALK} id ranges")
    ids = whole(0, 2**63 - 1)
    spans = []
    for i, span in enumerate(value):
        if not isinstance(span, list) or len(span) != 2:
            raise fail(f"{where}[{i}]", "must be a pair of ids")
        lo, hi = ids(span[0], f"{where}[{i}]"), ids(span[1], f"{where}[{i}]")
        if lo > hi:
            raise fail(f"{where}[{i}]", f"an empty range {lo}..{hi}")
        spans.append([lo, hi])
    return spans


def _refs(value: Any, where: str) -> list[list[str]]:
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_REFS:
        raise fail(where, f"must be a list of 1 to {MAX_REFS} post slots")
    refs = []
    for i, ref in enumerate(value):
        if not isinstance(ref, list) or len(ref) != 3:
            raise fail(f"{where}[{i}]", "must be [channel, post id, slot]")
        channel, post_id, slot = ref
        _channel(channel, f"{where}[{i}]")
        text(256)(post_id, f"{where}[{i}]")
        text(64)(slot, f"{where}[{i}]")
        refs.append([channel, post_id, slot])
    return refs


def _check(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or len(value) != 2:
        raise fail(where, "must be [channel, post id]")
    channel, post_id = value
    _channel(channel, where)
    if not isinstance(post_id, str) or not post_number(post_id):
        raise fail(where, f"not a post number: {post_id!r}"[:100])
    return [channel, post_id]


def _statuses(value: Any, where: str) -> list[int]:
    if not isinstance(value, list) or len(value) > 20:
        raise fail(where, "must be a list of at most 20 HTTP statuses")
    return [whole(100, 599)(status, where) for status in value]


def _timeout(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 86400:
        raise fail(where, f"must be seconds above 0, at most a day, not {value!r}")
    return float(value)


def _redirect_urls(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or len(value) > MAX_REDIRECTS:
        raise fail(where, f"must be a list of at most {MAX_REDIRECTS} URLs")
    return [http_url(url, where) for url in value]


def _redirect_reasons(value: Any, where: str) -> list[int | str]:
    if not isinstance(value, list) or len(value) > MAX_REDIRECTS:
        raise fail(where, f"must be a list of at most {MAX_REDIRECTS} reasons")
    reasons: list[int | str] = []
    for reason in value:
        reasons.append(
            whole(100, 599)(reason, where) if isinstance(reason, int) else text(64)(reason, where)
        )
    return reasons


#: The meta keys a queued request may carry, each with its check (the value it returns is the
#: one the request gets). ``crawl`` is read by :meth:`CrawlContext.from_meta`.
META: dict[str, Callable[[Any, str], Any]] = {
    # The crawl, and the request's place in it (see the module docstring).
    "crawl": lambda value, where: value,
    "rkey": _rkey,
    "source": text(MAX_URL),
    "channel": _channel,
    "walk": _walk,
    # A page: how deep in a web site, which Telegram page, which post it looks at again.
    "depth": whole(0, MAX_DEPTH + 1),
    "before": _before,
    "post_id": text(256),
    "recheck": flag,
    "handle_httpstatus_list": _statuses,
    # A media file (crawler.plans.media) and a deletion check (crawler.plans.checks).
    "media_url": http_url,
    "media_refs": _refs,
    "download_maxsize": whole(0, MAX_BYTES),
    "download_warnsize": whole(0, MAX_BYTES),
    "check": _check,
    "handle_httpstatus_all": flag,
    # A retried or redirected request carries its counts (so retries and redirects end).
    "download_timeout": _timeout,
    "retry_times": whole(0, MAX_TRIES),
    "tme_throttle_retries": whole(0, MAX_TRIES),
    "redirect_times": whole(0, MAX_TRIES),
    "redirect_ttl": whole(0, MAX_TRIES),
    "redirect_urls": _redirect_urls,
    "redirect_reasons": _redirect_reasons,
}


def _bytes(value: Any, where: str, limit: int) -> bytes:
    if isinstance(value, str):
        value = value.encode("utf-8")
    if not isinstance(value, bytes) or len(value) > limit:
        raise fail(where, f"must be bytes or text of at most {limit} bytes")
    if any(byte in value for byte in b"\r\n\0"):
        raise fail(where, "no line breaks or NUL in a header")
    return value


def headers_of(value: Any) -> dict[str, list[bytes]]:
    if not isinstance(value, dict) or len(value) > MAX_HEADERS:
        raise fail("headers", f"must be an object of at most {MAX_HEADERS} names")
    headers = {}
    for name, values in value.items():
        if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
            raise fail("headers", f"not a header name: {name!r}")
        if isinstance(values, bytes | str):
            values = [values]
        if not isinstance(values, list) or not 1 <= len(values) <= MAX_HEADER_VALUES:
            raise fail(f"headers[{name!r}]", f"must be 1 to {MAX_HEADER_VALUES} values")
        headers[name] = [_bytes(v, f"headers[{name!r}]", MAX_HEADER_VALUE) for v in values]
    return headers


def cookies_of(value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or len(value) > MAX_COOKIES:
        raise fail("cookies", f"must be an object of at most {MAX_COOKIES} cookies")
    for name, cookie in value.items():
        text(MAX_COOKIE)(name, "cookies")
        text(MAX_COOKIE)(cookie, f"cookies[{name!r}]")
    return dict(value)
