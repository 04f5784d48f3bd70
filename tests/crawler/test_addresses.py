"""The address rule (:mod:`crawler.addresses`), fuzzed against the system and :mod:`ipaddress`.

A host's spelling is read as the system resolver reads it: the reference is
``getaddrinfo`` with ``AI_NUMERICHOST`` (numeric only: it never asks DNS).
Whether an address is public is :mod:`ipaddress`'s ``is_global``, less
multicast and reserved addresses, an IPv6 address that leads to an IPv4 one
(mapped, NAT64, 6to4) judged by that one.
"""

from __future__ import annotations

import ipaddress
import socket

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from crawler.addresses import (
    address_refusal,
    ip_of,
    is_public,
    origin_of,
    scheme_refusal,
    why_not_public,
)

SPECIAL = [
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
    "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15",
    "224.0.0.0/4", "240.0.0.0/4", "::/127", "::ffff:0:0/96", "64:ff9b::/96", "2002::/16",
    "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8", "2001:db8::/32", "100::/64", "::/96",
]  # fmt: skip
addresses = st.one_of(st.ip_addresses(), *(st.ip_addresses(network=net) for net in SPECIAL))


def system_reads(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """What the system resolver takes ``host`` for without asking DNS, or None for a name."""
    try:
        found = socket.getaddrinfo(host, None, flags=socket.AI_NUMERICHOST)
    except (socket.gaierror, UnicodeError, ValueError):
        return None
    return ipaddress.ip_address(found[0][4][0].split("%")[0])


def reference_public(address) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        inner = address.ipv4_mapped or address.sixtofour
        if address in ipaddress.ip_network("64:ff9b::/96"):
            inner = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if inner is not None and not reference_public(inner):
            return False
        if address.ipv4_mapped is not None:
            return True
        if address.is_site_local:
            return False
    return address.is_global and not address.is_multicast and not address.is_reserved


# ------------------------------------------------------------------ spellings


def _c_literal(value: int, base: int, zeros: int, upper: bool) -> str:
    if base == 16:
        return ("0X" if upper else "0x") + "0" * zeros + format(value, "X" if upper else "x")
    if base == 8:
        return "0" + "0" * zeros + format(value, "o")
    return str(value)


@st.composite
def ipv4_spellings(draw) -> tuple[int, str]:
    """An IPv4 address and one of the ways ``inet_aton`` lets a URL's host write it."""
    number = draw(st.integers(0, 2**32 - 1))
    parts = draw(st.integers(1, 4))
    octets = number.to_bytes(4, "big")
    values = [*octets[: parts - 1], int.from_bytes(octets[parts - 1 :], "big")]
    text = ".".join(
        _c_literal(value, draw(st.sampled_from([8, 10, 16])), draw(st.integers(0, 3)),
                   draw(st.booleans()))
        for value in values
    )  # fmt: skip
    return number, text


@given(ipv4_spellings())
@example((0x7F000001, "127.1"))
@example((0x7F000001, "0x7f000001"))
@example((0x7F000001, "2130706433"))
@example((0x7F000001, "017700000001"))
@example((0x7F000001, "0x7f.0.0.01"))
def test_every_ipv4_spelling_is_the_address_the_system_reads(case):
    number, text = case
    assert ip_of(text) == ipaddress.IPv4Address(number)
    assert system_reads(text) == ipaddress.IPv4Address(number)


@settings(max_examples=500)
@given(st.text(alphabet="0123456789abcdefxX.", max_size=16))
@example("127.0.0.1.")
@example("1.2.3.4.5")
@example("08.1")
@example("0x")
@example("00000127.0.0.1")
def test_a_host_is_an_address_exactly_when_the_system_reads_one(text):
    ours, system = ip_of(text), system_reads(text)
    if system is not None:
        assert ours == system
    elif ours is not None:
        # glibc's getaddrinfo takes no bare "0x" part (its inet_aton does): read as an
        # address here, so refused unless public; never a way round the check.
        assert any(part in ("0x", "0X") for part in text.split("."))


@given(st.ip_addresses(v=6))
def test_every_ipv6_spelling_is_the_address(address):
    spellings = [address.compressed, address.exploded, address.exploded.upper(),
                 f"[{address.compressed}]"]  # fmt: skip
    if address.ipv4_mapped is not None:
        spellings.append(f"::ffff:{address.ipv4_mapped}")
    for text in spellings:
        assert ip_of(text) == address
        assert system_reads(text.strip("[]")) == address


@pytest.mark.parametrize("name", ["localhost", "example.com", "127.0.0.1.nip.io", "1.2.3.4.5",
                                  "::1::", "0x7f00000g", "1.2.3.256", "[fe80::1"])  # fmt: skip
def test_names_are_not_addresses(name):
    assert ip_of(name) is None


# ------------------------------------------------------------------ public or not


@settings(max_examples=1000)
@given(addresses)
def test_public_means_what_ipaddress_says(address):
    assert is_public(address) == reference_public(address)


@given(addresses)
def test_the_reason_names_the_kind_of_address(address):
    why = why_not_public(address)
    inner = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
    judged = inner or address
    if judged.is_loopback:
        assert why.endswith("a loopback address")
    elif judged.is_link_local:
        assert why.endswith("a link-local address")
    elif judged.is_multicast:
        assert why.endswith("a multicast address")
    elif why is not None:
        assert why.startswith("a")


@given(ipv4_spellings())
def test_every_spelling_of_loopback_is_refused_with_its_address(case):
    number, text = case
    address = ip_of(text)
    if ipaddress.IPv4Address(number).is_loopback:
        reason = address_refusal(text, address, why_not_public(address))
        assert reason.startswith("refused: ") and "a loopback address" in reason
        assert str(address) in reason and reason.endswith("(--allow-private-hosts allows it)")


def test_refusals_read_plainly():
    assert address_refusal("127.0.0.1", ip_of("127.0.0.1"), "a loopback address") == (
        "refused: 127.0.0.1 is a loopback address, not a public one"
        " (--allow-private-hosts allows it)"
    )
    assert address_refusal("0x7f000001", ip_of("0x7f000001"), "a loopback address") == (
        "refused: 0x7f000001 is 127.0.0.1, a loopback address, not a public one"
        " (--allow-private-hosts allows it)"
    )
    loopback = ip_of("127.0.0.1")
    assert address_refusal("db.corp", loopback, "a loopback address", resolved="resolves to") == (
        "refused: db.corp resolves to 127.0.0.1, a loopback address, not a public one"
        " (--allow-private-hosts allows it)"
    )
    assert why_not_public(ip_of("::ffff:10.1.2.3")) == "a form of 10.1.2.3, a private address"
    assert why_not_public(ip_of("100.64.0.1")) == "a shared address (100.64.0.0/10)"
    assert why_not_public(ip_of("0.0.0.0")) == "an unspecified address"
    assert why_not_public(ip_of("::ffff:8.8.8.8")) is None
    assert scheme_refusal("file:///etc/passwd") == (
        "refused: file: URLs are never fetched, only http and https"
    )


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("http://127.0.0.1:8000/s/x", ("http", "127.0.0.1", 8000)),
        ("HTTP://LOCALHOST/x", ("http", "localhost", 80)),
        ("https://t.me/s/durov", ("https", "t.me", 443)),
        ("http://[::FFFF:127.0.0.1]:9/", ("http", "::ffff:127.0.0.1", 9)),
        ("http://bücher.example/", ("http", "xn--bcher-kva.example", 80)),
        ("file:///etc/passwd", None),
        ("ftp://127.0.0.1/x", None),
        ("http:///no-host", None),
        ("http://127.0.0.1:99999/", None),
    ],
)
def test_origins(url, origin):
    assert origin_of(url) == origin
