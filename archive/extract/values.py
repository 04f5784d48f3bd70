"""A crawled page's values, checked: what a page says is read, never trusted.

People archive channels they distrust, so every value a page gives is held
to what such a value can be, in one place, before the page leaves
extraction (:func:`archive.extract.extract_page` calls :func:`check_page`
for Telegram and web pages alike). The store, the exports and the pages
then only ever see checked values.

- **Channel**: a page names its channel with a name that can be one (a
  Telegram username, lower case; a web host or profile name: never a path),
  and writes only that channel's posts. A post of another channel is left
  out and said in ``page.errors``; so is a post
  whose id is no id (a Telegram id is 1 to 18 digits; a web id at most
  :data:`MAX_ID` visible characters).
- **URLs**: only ``http``/``https`` URLs with a host and no credentials are
  kept (links, reply targets, forward sources, link previews, media and
  thumbnails, the channel's picture); anything else (``javascript:``,
  ``data:``, ``tg:``, ``file:`` …) is dropped. A Telegram post's URL is
  ``https://t.me/NAME/ID`` of its own channel and id; a web post's is the
  page itself or an http(s) URL on the page's own host. A post's
  ``source_url`` is the page's URL, and the channel's ``source_url`` is
  where the page was fetched (:func:`crawled_from`), never what it claims.
- **Dates**: a time the page shows is kept only when it is a time between
  the years :data:`MIN_YEAR` and :data:`MAX_YEAR` (UTC); else it is None.
- **Counts** (views, subscribers, reactions, voters): whole numbers from 0
  to below :data:`MAX_COUNT`; a poll option's share 0 to 100; else None
  (a reaction with no sane count is left out).
- **Paging**: the page's ``before`` and ``older`` cursors are message ids
  or None.

A value that fails is dropped, never the post that carries it.
"""

from __future__ import annotations

import re
from datetime import UTC
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ..models import KIND_TELEGRAM, Page, Post
from ..source import is_channel_name, is_web_channel_name
from ..times import to_datetime

#: The years a post's time may fall in (UTC).
MIN_YEAR, MAX_YEAR = 1970, 2100
#: No count a page shows reaches this (views, subscribers, reactions, voters): JSON-safe.
MAX_COUNT = 2**53
#: A paging cursor or message id is below this (SQLite's integers).
MAX_ID_NUMBER = 2**63
#: The longest URL kept.
MAX_URL = 8192
#: The longest web post id kept.
MAX_ID = 200
#: The longest reaction key kept (an emoji, ``custom:ID`` or the paid star).
MAX_REACTION_KEY = 64
#: The longest time text read.
_MAX_TIME = 64

_TME_POST = re.compile(r"^https://t\.me/([A-Za-z][A-Za-z0-9_]{2,31})/([1-9][0-9]{0,17})\Z", re.A)
_TELEGRAM_ID = re.compile(r"^[1-9][0-9]{0,17}\Z", re.ASCII)
_UNSEEN = re.compile(r"[\x00-\x20\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]")
#: Media items whose ``url`` is the post's own (no file of their own).
_AT_POST = frozenset({"poll", "unsupported"})
#: A media item's URL fields.
_MEDIA_URLS = ("url", "href", "thumb")


# --------------------------------------------------------------------------- single values


def count(value: Any) -> int | None:
    """``value`` when it is a count a page can show (a whole number, 0 ≤ n < MAX_COUNT)."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if 0 <= value < MAX_COUNT else None


def percent(value: Any) -> int | None:
    """``value`` when it is a whole percentage (0 to 100)."""
    number = count(value)
    return number if number is not None and number <= 100 else None


def message_id(value: Any) -> int | None:
    """``value`` when it is a positive message id SQLite can hold (a paging cursor)."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if 0 < value < MAX_ID_NUMBER else None


def post_time(value: Any) -> str | None:
    """``value`` when it is a time between MIN_YEAR and MAX_YEAR (as written, or with
    ``+00:00`` added when it has no offset); None otherwise."""
    if not isinstance(value, str) or len(value) > _MAX_TIME:
        return None
    text = value.strip()
    when = to_datetime(text)
    if when is None:
        return None
    try:
        year = when.astimezone(UTC).year
    except (ValueError, OverflowError):
        return None
    if not MIN_YEAR <= year <= MAX_YEAR:
        return None
    return text if _has_offset(text) else when.isoformat()


def _has_offset(text: str) -> bool:
    return bool(re.search(r"(?:[zZ]|[+-]\d{2}(?::?\d{2})?)\Z", text)) and "T" in text.upper()


def http_url(value: Any, *, host: str | None = None) -> str | None:
    """``value`` when it is an ``http(s)`` URL with a host, no credentials, nothing unseen
    in it and at most MAX_URL long (on ``host`` when given); None otherwise."""
    if not isinstance(value, str) or not value or len(value) > MAX_URL:
        return None
    if _UNSEEN.search(value):
        return None
    try:
        parts = urlsplit(value)
        hostname = parts.hostname
        parts.port  # noqa: B018 - a malformed port raises here
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not hostname:
        return None
    if "@" in parts.netloc:
        return None
    if host is not None and hostname.rstrip(".").lower() != host:
        return None
    if not value.startswith(parts.scheme):  # HTTPS://… : one spelling of the scheme
        return parts.scheme + value[len(parts.scheme) :]
    return value


def page_host(url: str) -> str | None:
    """The host of an http(s) page URL (lower case), or None (a file, a bad URL)."""
    checked = http_url(url)
    if checked is None:
        return None
    return (urlsplit(checked).hostname or "").rstrip(".").lower() or None


def telegram_post_url(url: Any, channel: str, post_id: str) -> str:
    """The URL of Telegram post ``channel``/``post_id``: ``url`` when it is that post's
    ``https://t.me/NAME/ID`` (the name in any case), else that URL made."""
    if isinstance(url, str):
        match = _TME_POST.match(url)
        if match and match.group(1).lower() == channel and match.group(2) == post_id:
            return url
    return f"https://t.me/{channel}/{post_id}"


def crawled_from(kind: str, name: str, page_url: str) -> str | None:
    """Where a channel is read, from the page that was fetched (never from what it says).

    A Telegram channel: its ``/s/NAME`` preview on the host the page came from
    (``https://t.me/s/durov`` for ``https://t.me/s/durov?before=9``), or the
    page's own address when it is not a preview; a web channel: the site's
    root. None for a page that is no http(s) URL (a saved file).
    """
    checked = http_url(page_url)
    if checked is None:
        return None
    parts = urlsplit(checked)
    if kind == KIND_TELEGRAM:
        if re.match(r"^/s/[^/]+/?\Z", parts.path):
            return urlunsplit((parts.scheme, parts.netloc, f"/s/{name}", "", ""))
        return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    return f"{parts.scheme}://{parts.netloc}/"


def web_post_id_ok(post_id: Any) -> bool:
    """Whether a web post id can be kept: 1 to MAX_ID visible characters."""
    return (
        isinstance(post_id, str)
        and 0 < len(post_id) <= MAX_ID
        and not _UNSEEN.search(post_id)
        and post_id.strip() == post_id
    )


# --------------------------------------------------------------------------- the page


def check_page(page: Page) -> Page:
    """Hold every value of ``page`` to what it can be (see the module docstring), in place.

    Posts of another channel, or without a readable id, are left out and
    said in ``page.errors``; any other value that fails is dropped.
    """
    page.before = message_id(page.before)
    page.older = message_id(page.older)
    host = page_host(page.url)
    info = page.channel
    if info is not None and not _channel_name_ok(info.kind, info.name):
        page.errors.append(f"the page names no usable channel ({str(info.name)[:80]!r})")
        page.channel = info = None
    if info is not None:
        if info.kind == KIND_TELEGRAM or host is not None:
            info.source_url = crawled_from(info.kind, info.name, page.url)
        else:  # a saved web page: the site its canonical link names, if any
            info.source_url = http_url(info.source_url)
        info.subscribers = count(info.subscribers)
        info.image = http_url(info.image)
        if host is None and info.source_url:
            host = page_host(info.source_url)
    page.links = _urls(page.links)
    kept = []
    for post in page.posts:
        problem = _foreign(page, post)
        if problem is not None:
            page.errors.append(problem)
            continue
        _check_post(page, post, host)
        kept.append(post)
    page.posts = kept
    return page


def _channel_name_ok(kind: str, name: Any) -> bool:
    if not isinstance(name, str):
        return False
    if kind == KIND_TELEGRAM:
        return is_channel_name(name) and name == name.lower()
    return is_web_channel_name(name)


def _foreign(page: Page, post: Post) -> str | None:
    """Why ``post`` is not the page's to keep (another channel's, an unreadable id), or None."""
    shown = f"{str(post.channel)[:40]}/{str(post.post_id)[:40]}"
    if page.channel is None or post.channel != page.channel.name:
        owner = f"@{page.channel.name}" if page.channel is not None else "no channel"
        return f"post {shown!r} is not the page's channel's ({owner}): left out"
    if page.kind == KIND_TELEGRAM:
        if not isinstance(post.post_id, str) or not _TELEGRAM_ID.match(post.post_id):
            return f"post {shown!r} has no readable id (1 to 18 digits): left out"
    elif not web_post_id_ok(post.post_id):
        return f"post {shown!r} has no usable id (1 to {MAX_ID} visible characters): left out"
    return None


def _check_post(page: Page, post: Post, host: str | None) -> None:
    post.source_url = page.url
    if page.kind == KIND_TELEGRAM:
        post.url = telegram_post_url(post.url, post.channel, post.post_id)
    elif post.url != page.url:
        post.url = http_url(post.url, host=host) if host else None
        post.url = post.url or page.url
    post.published_at = post_time(post.published_at)
    post.views = count(post.views)
    post.reply_to = http_url(post.reply_to)
    post.links = _urls(post.links)
    if post.forwarded_from is not None:
        post.forwarded_from = {
            "name": _text(post.forwarded_from.get("name")),
            "url": http_url(post.forwarded_from.get("url")),
        }
    if post.link_preview is not None:
        preview = dict(post.link_preview)
        preview["url"] = http_url(preview.get("url"))
        preview["image"] = http_url(preview.get("image"))
        post.link_preview = preview
    post.media = [_media_item(item, post) for item in post.media if isinstance(item, dict)]
    if post.reactions is not None:
        post.reactions = {
            key: number
            for key, value in post.reactions.items()
            if isinstance(key, str)
            and 0 < len(key) <= MAX_REACTION_KEY
            and (number := count(value)) is not None
        }


def _media_item(item: dict[str, Any], post: Post) -> dict[str, Any]:
    checked = dict(item)
    if not isinstance(checked.get("type"), str):
        checked["type"] = None
    if checked["type"] in _AT_POST:
        checked["url"] = post.url
    for key in _MEDIA_URLS:
        if key in checked:
            value = http_url(checked[key])
            if value is None and key != "url":
                del checked[key]
            else:
                checked[key] = value
    checked.setdefault("url", None)
    if "post_id" in checked and not (
        isinstance(checked["post_id"], str) and _TELEGRAM_ID.match(checked["post_id"])
    ):
        del checked["post_id"]
    if "voters" in checked:
        checked["voters"] = count(checked["voters"])
        if checked["voters"] is None:
            del checked["voters"]
    if isinstance(checked.get("options"), list):
        checked["options"] = [
            {**option, "percent": percent(option.get("percent"))}
            for option in checked["options"]
            if isinstance(option, dict)
        ]
    return checked


def _urls(urls: list[Any]) -> list[str]:
    kept: dict[str, None] = {}
    for url in urls:
        checked = http_url(url)
        if checked is not None:
            kept.setdefault(checked, None)
    return list(kept)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
