"""What a SOURCE argument names: a Telegram channel or a web page to start from.

Accepted forms: ``@name``, ``t.me/name``, ``t.me/s/name``, ``https://t.me/s/name``
(also ``telegram.me``, ``telegram.dog`` and ``www.`` forms, a post's
``t.me/name/123``, ``?before=`` and other queries, trailing slashes),
``tg://resolve?domain=name``, and any other ``http(s)://`` URL, loopback
included. Schemes and hosts are read case-blind and Telegram usernames
case-folded as Telegram does (``HTTP://T.ME/S/DUROV_X`` is ``@durov_x``).
A Telegram channel is crawled through its public preview ``https://t.me/s/name``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit, urlunsplit

from .errors import BadSource

#: Telegram public usernames: a letter, then letters, digits and underscores (ASCII).
_USERNAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{2,31}\Z", re.ASCII)
#: The hosts that are Telegram itself (aliases of t.me).
TELEGRAM_HOSTS = frozenset({"t.me", "telegram.me", "www.t.me", "www.telegram.me", "telegram.dog"})
#: t.me's own paths (invites, sticker and folder links, proxies, Instant View ...): never a channel.
_RESERVED = {
    "s", "joinchat", "addstickers", "addemoji", "addtheme", "addlist", "share", "proxy",
    "socks", "iv", "c", "login", "setlanguage", "confirmphone", "invoice", "giftcode",
    "boost", "contact", "nft",
}  # fmt: skip

_DEFAULT_PORTS = {"http": 80, "https": 443}

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


#: A web channel's name: a host (and port), or a profile's name for a site; never a path.
_WEB_NAME = re.compile(
    r"^[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?)*(?::[0-9]{1,5})?\Z",
    re.ASCII,
)


def is_web_channel_name(name: str) -> bool:
    """Whether ``name`` is a safe web channel name: ``host[:port]`` or ``a-profile.name``."""
    return len(name) <= 255 and bool(_WEB_NAME.match(name))


def site_channel_name(url: str) -> str:
    """The channel name of a web source: its host (IDNA, lower case) with a non-default port.

    An empty string when the URL has no usable host (a saved file, a malformed URL).
    """
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        port = parts.port
        host = host.encode("idna").decode("ascii") if host and not host.isascii() else host
    except (ValueError, UnicodeError):
        return ""
    name = f"{host}:{port}" if port else host
    return name if is_web_channel_name(name) else ""


def origin_of(url: str) -> str:
    """Where a page comes from, as channels keep it: ``host[:port]``; t.me for all its aliases."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        return ""
    if host in TELEGRAM_HOSTS:
        return "t.me"
    return f"{host}:{port}" if port else host


def telegram_post_parts(ref: str) -> tuple[str, str] | None:
    """(channel, post id) as a Telegram post URL names them (``https://t.me/NAME/ID``,
    ``t.me/s/NAME/ID``, with or without scheme, any of :data:`TELEGRAM_HOSTS`), as written;
    None for another host or a path without both. :class:`ValueError` when ``ref`` is not
    a URL at all."""
    parts = urlsplit(ref if "://" in ref else "https://" + ref)
    if (parts.hostname or "").lower() not in TELEGRAM_HOSTS:
        return None
    segments = [s for s in parts.path.split("/") if s]
    if segments and segments[0] == "s":
        segments = segments[1:]
    return (segments[0], segments[1]) if len(segments) >= 2 else None


def is_channel_name(name: str) -> bool:
    """Whether ``name`` can be a Telegram channel's public username (case ignored)."""
    return bool(_USERNAME.match(name)) and name.lower() not in _RESERVED


def telegram_source(name: str) -> Source:
    if not is_channel_name(name):
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
    if lowered.startswith("tg://"):
        return _tg_link(raw)
    if any(lowered.startswith((h + "/", h + "./")) for h in TELEGRAM_HOSTS):
        candidate = "https://" + raw
    if "://" not in candidate:
        raise BadSource(
            f"unknown source {raw!r}: give @name, t.me/name, https://t.me/s/name or an http(s) URL"
        )
    if any(ch.isspace() or ord(ch) < 32 for ch in candidate):
        raise BadSource(f"a source URL has no spaces or control characters: {raw!r}")
    try:
        parts = urlsplit(candidate)
        host = (parts.hostname or "").lower()
        host = host[:-1] if host.endswith(".") and host[:-1] in TELEGRAM_HOSTS else host
        port = parts.port
    except ValueError as exc:
        if "port" in str(exc).lower():
            raise BadSource(f"bad port in {raw!r}") from None
        raise BadSource(f"not a URL: {raw!r} ({exc})") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise BadSource(f"unsupported scheme {parts.scheme!r} in {raw!r}: only http and https")
    if not host:
        raise BadSource(f"no host in {raw!r}")
    if parts.username is not None or parts.password is not None:
        raise BadSource(
            f"no user name or password in a source URL, please: they would be kept in the"
            f" archive ({parts.scheme}://…@{host})"
        )
    if host in TELEGRAM_HOSTS:
        if port not in (None, 80, 443):
            raise BadSource(f"bad port in {raw!r}: Telegram is read at https://t.me")
        segments = [s for s in parts.path.split("/") if s]
        if segments and segments[0].lower() == "s":
            segments = segments[1:]
        if not segments:
            raise BadSource(f"no channel name in {raw!r}")
        return telegram_source(segments[0])
    if port == 0:
        raise BadSource(f"bad port in {raw!r}")
    if port == _DEFAULT_PORTS.get(parts.scheme.lower()):
        port = None  # http://host:80/ is http://host/
    # One spelling per source: the scheme and the host are case-insensitive.
    netloc = f"{host}:{port}" if port is not None else host
    if ":" in host:
        netloc = f"[{host}]:{port}" if port is not None else f"[{host}]"
    url = urlunsplit((parts.scheme.lower(), netloc, parts.path, parts.query, ""))
    return Source(SOURCE_URL, url, url)


def _tg_link(raw: str) -> Source:
    """``tg://resolve?domain=name`` (a link the Telegram app opens) as the channel it names."""
    try:
        parts = urlsplit(raw)
    except ValueError:
        raise BadSource(f"not a URL: {raw!r}") from None
    domains = parse_qs(parts.query).get("domain") if parts.netloc.lower() == "resolve" else None
    if not domains:
        raise BadSource(
            f"unknown source {raw!r}: a tg:// link names a channel as tg://resolve?domain=NAME"
        )
    return telegram_source(domains[0])
