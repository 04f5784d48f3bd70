"""Which addresses a crawl may reach: public ones, and the origins of the sources it was given.

A page decides much of what a crawl fetches (its pictures, link previews,
redirects, links, the embeds that check its posts), and the people who
archive a channel often distrust it. So everything a page or a server
chose may reach only ``http``/``https`` URLs on public addresses; the one
exception is the origin (scheme, host, port) of a source the user named,
which may be on loopback or a private network (a local mirror, the demo,
the tests), and ``crawl --allow-private-hosts``, which lifts the rule for
one crawl.

This module holds the rule, as plain functions: reading a URL's host as
an IP address in every spelling the system's resolver takes
(:func:`ip_of`: ``127.1``, ``0x7f000001``, ``2130706433``,
``017700000001``, ``[::ffff:127.0.0.1]``), saying why an address is not
public (:func:`why_not_public`), a URL's origin (:func:`origin_of`), and the
one-line reason kept with a refused request (:class:`Refused`). The
downloader middleware :mod:`crawler.downloadermiddlewares.reach` applies it
to every request before it is sent, and the resolver :mod:`crawler.resolver`
to every address a connection is made to.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
#: A URL's origin: (scheme, host, port), the host lower-case and the port always given.
Origin = tuple[str, str, int]

#: The only schemes a crawl fetches.
SCHEMES = {"http": 80, "https": 443}
#: What a refusal tells the user to do about it.
HINT = "(--allow-private-hosts allows it)"

_SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT (RFC 6598)
_PRIVATE = tuple(
    ipaddress.ip_network(net)
    for net in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # an IPv4 address seen through NAT64 (RFC 6052)


class Refused(IgnoreRequest):
    """A request the crawl will not send: where it points is not for a page to choose.

    Its message is the one line kept with the crawl (``refused: ...``).
    """


# ------------------------------------------------------------------ spellings


_DIGITS = {8: set("01234567"), 10: set("0123456789"), 16: set("0123456789abcdefABCDEF")}


def _ipv4_part(text: str) -> int | None:
    """One dot-separated part of an IPv4 address as ``inet_aton`` reads it (C's integer
    literals: ``0x1f`` hexadecimal, ``017`` octal, else decimal), or None."""
    if text[:2] in ("0x", "0X"):
        digits, base = text[2:], 16
        if not digits:
            return 0  # glibc reads a bare "0x" as zero
    elif text[:1] == "0":
        digits, base = text, 8
    else:
        digits, base = text, 10
    if not digits or not set(digits) <= _DIGITS[base]:
        return None
    value = int(digits, base)
    return value if value <= 0xFFFFFFFF else None


def _ipv4(text: str) -> ipaddress.IPv4Address | None:
    """``text`` as ``inet_aton`` reads an IPv4 address: 1 to 4 parts, the last one filling
    the bytes the others leave (``127.1`` is 127.0.0.1, ``2130706433`` too), or None."""
    parts = text.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    values = [_ipv4_part(part) for part in parts]
    if any(value is None for value in values):
        return None
    *head, last = values
    if any(value > 0xFF for value in head) or last >= 1 << (8 * (4 - len(head))):
        return None
    number = 0
    for index, value in enumerate(head):
        number |= value << (8 * (3 - index))
    return ipaddress.IPv4Address(number | last)


def ip_of(host: str) -> Address | None:
    """The IP address a URL's host spells, or None when it is a name.

    Takes every spelling the system resolver reads as an address without
    asking DNS: dotted IPv4 and the short, decimal, hexadecimal and octal
    forms ``inet_aton`` allows, and IPv6 with or without brackets (a zone
    ``%eth0`` kept).
    """
    text = host.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if ":" in text:
        try:
            return ipaddress.IPv6Address(text)
        except ValueError:
            return None
    return _ipv4(text)


# ------------------------------------------------------------------ public or not


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one leads to: IPv4-mapped, NAT64's, 6to4's; else None."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour


def why_not_public(address: Address) -> str | None:
    """Why ``address`` is not a public one (``a loopback address``), or None when it is."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = _embedded_ipv4(address)
        if inner is not None:
            why = why_not_public(inner)
            if why is not None:
                return f"a form of {inner}, {why}"
            if address.ipv4_mapped is not None:
                return None  # ::ffff:a.b.c.d is a.b.c.d, a public address
        if address.scope_id:
            address = ipaddress.IPv6Address(address.compressed.split("%")[0])
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if isinstance(address, ipaddress.IPv4Address) and address in _SHARED:
        return "a shared address (100.64.0.0/10)"
    if any(address in net for net in _PRIVATE if net.version == address.version):
        return "a private address"
    if isinstance(address, ipaddress.IPv6Address) and address.is_site_local:
        return "a private address (site-local)"
    if address.is_reserved:
        return "a reserved address"
    if address.is_private or not address.is_global:
        return "a special-purpose address"
    return None


def is_public(address: Address) -> bool:
    return why_not_public(address) is None


# ------------------------------------------------------------------ origins and reasons


def host_key(host: str) -> str:
    """A host as both a URL and the resolver name it: lower case, no brackets, ASCII (IDNA)."""
    text = host.strip().lower()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if not text.isascii():
        try:
            text = text.encode("idna").decode("ascii")
        except UnicodeError:
            pass
    return text


def origin_of(url: str) -> Origin | None:
    """``url``'s (scheme, host, port), the port given even when the URL leaves it out;
    None when it has no host or is no http(s) URL."""
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        port = parts.port
    except ValueError:
        return None
    if scheme not in SCHEMES or not parts.hostname:
        return None
    return scheme, host_key(parts.hostname), port or SCHEMES[scheme]


def scheme_refusal(url: str) -> str:
    """The reason a URL that is no http(s) URL with a host is refused."""
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme and scheme not in SCHEMES:
        return f"refused: {scheme}: URLs are never fetched, only http and https"
    return "refused: not an http(s) URL with a host"


def address_refusal(host: str, address: Address, why: str, *, resolved: str = "") -> str:
    """The reason a request to ``host`` is refused: its address ``address`` is ``why``.

    ``resolved``: how the name led there (``resolves to``), empty for an address itself.
    """
    if resolved:
        what = f"{host} {resolved} {address}, {why}"
    elif host_key(host) == address.compressed or (address.version == 6 and ip_of(host) == address):
        what = f"{host_key(host)} is {why}"
    else:
        what = f"{host} is {address}, {why}"
    return f"refused: {what}, not a public one {HINT}"
