"""What a SOURCE argument names: a Telegram channel or a web page to start from.

Accepted forms: ``@name``, ``t.me/name``, ``t.me/s/name``, ``https://t.me/s/name``
(also ``telegram.me``), and any other ``http(s)://`` URL, loopback included.
A Telegram channel is crawled through its public preview ``https://t.me/s/name``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from .errors import BadSource

#: Telegram public usernames: a letter, then letters, digits and underscores.
_USERNAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{2,31}$")
#: The hosts that are Telegram itself (aliases of t.me).
TELEGRAM_HOSTS = frozenset({"t.me", "telegram.me", "www.t.me", "www.telegram.me", "telegram.dog"})
_RESERVED = {"s", "joinchat", "addstickers", "share", "proxy", "socks", "iv", "c", "login"}

SOURCE_TELEGRAM = "telegram"
SOURCE_URL = "url"


@dataclass(frozen=True)
class Source:
    """A parsed SOURCE: ``key`` is its canonical spelling, used to name it in the archive."""

    kind: str  # SOURCE_TELEGRAM or SOURCE_URL
    key: str  # "@name" for Telegram, the URL otherwise
    url: str  # where the crawl starts
    name: str | None = None  # Telegram channel name (lowercase)


def channel_key(name: str) -> str:
    """A channel name as the archive keys it (``channels.name``): ``@Durov`` is ``durov``.

    Telegram usernames are case-insensitive and stored lower-case; web
    channel names (a host, maybe with a port) are lower-case already. Every
    place that takes a channel name from a user goes through here.
    """
    return name.strip().lstrip("@").lower()


def telegram_source(name: str) -> Source:
    if not _USERNAME.match(name) or name.lower() in _RESERVED:
        raise BadSource(f"not a Telegram channel name: {name!r}")
    name = name.lower()
    return Source(SOURCE_TELEGRAM, f"@{name}", f"https://t.me/s/{name}", name)


def parse_source(text: str) -> Source:
    """Parse a SOURCE argument, or raise :class:`BadSource` saying what is wrong."""
    raw = text.strip()
    if not raw:
        raise BadSource("empty source: give @name, t.me/name or an http(s) URL")
    if raw.startswith("@"):
        return telegram_source(raw[1:])
    candidate = raw
    lowered = raw.lower()
    if any(lowered.startswith(h + "/") for h in TELEGRAM_HOSTS):
        candidate = "https://" + raw
    if "://" not in candidate:
        raise BadSource(
            f"unknown source {raw!r}: give @name, t.me/name, https://t.me/s/name or an http(s) URL"
        )
    parts = urlsplit(candidate)
    if parts.scheme not in ("http", "https"):
        raise BadSource(f"unsupported scheme {parts.scheme!r} in {raw!r}: only http and https")
    host = (parts.hostname or "").lower()
    if not host:
        raise BadSource(f"no host in {raw!r}")
    if host in TELEGRAM_HOSTS:
        segments = [s for s in parts.path.split("/") if s]
        if segments and segments[0] == "s":
            segments = segments[1:]
        if not segments:
            raise BadSource(f"no channel name in {raw!r}")
        return telegram_source(segments[0])
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise BadSource(f"bad port in {raw!r}") from exc
    return Source(SOURCE_URL, candidate, candidate)
