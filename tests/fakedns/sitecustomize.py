"""Test only: invented host names, and a fence around loopback, for a CLI run in a subprocess.

Python imports ``sitecustomize`` at start-up from ``sys.path``, so a test puts
this folder on the child's ``PYTHONPATH`` (:func:`tests.fakedns.environment`)
and the crawler in it, unchanged, sees:

- ``CHANARCHIVE_TEST_DNS``: JSON ``{name: [answer, ...]}``; the n-th look-up of a
  name gets its n-th answer (the last one from then on), each a list of IP
  addresses: a name that answers a public address once and loopback after, as
  a hostile DNS server rebinding it does; ``[]`` is a name that does not resolve.
  Other names resolve as usual.
- ``CHANARCHIVE_TEST_DNS_LOG``: a file; every look-up of a name above is written
  there, one line each (how often the crawler asked).
- ``CHANARCHIVE_TEST_FENCE``: a file; every connection to an address off
  loopback is refused and written there, one line each. Nothing leaves the
  machine, whatever the crawler does.
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import threading

_ANSWERS: dict[str, list[list[str]]] = {
    name.lower(): answers
    for name, answers in json.loads(os.environ.get("CHANARCHIVE_TEST_DNS") or "{}").items()
}
_FENCE = os.environ.get("CHANARCHIVE_TEST_FENCE")
_LOG = os.environ.get("CHANARCHIVE_TEST_DNS_LOG")
_asked: dict[str, int] = {}
_lock = threading.Lock()
_getaddrinfo = socket.getaddrinfo
_socket = socket.socket


def _answer(name: str) -> list[str]:
    with _lock:
        seen = _asked.get(name, 0)
        _asked[name] = seen + 1
        if _LOG:
            with open(_LOG, "a", encoding="utf-8") as log:
                log.write(f"{name}\n")
    answers = _ANSWERS[name]
    return answers[min(seen, len(answers) - 1)]


def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):  # noqa: A002 - socket's names
    name = host.decode() if isinstance(host, bytes) else host
    if not isinstance(name, str) or name.lower() not in _ANSWERS:
        return _getaddrinfo(host, port, family, type, proto, flags)
    found = []
    for text in _answer(name.lower()):
        kind = socket.AF_INET6 if ":" in text else socket.AF_INET
        if family not in (0, socket.AF_UNSPEC, kind):
            continue
        number = int(port or 0)
        address = (text, number) if kind == socket.AF_INET else (text, number, 0, 0)
        found.append((kind, type or socket.SOCK_STREAM, proto or socket.IPPROTO_TCP, "", address))
    if not found:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    return found


def _on_loopback(address) -> bool:
    if not isinstance(address, tuple):
        return True  # a Unix socket
    try:
        ip = ipaddress.ip_address(str(address[0]).split("%")[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


class FencedSocket(_socket):
    """A socket that connects to loopback only, and writes down every other attempt."""

    def _fenced(self, address) -> bool:
        if self.family not in (socket.AF_INET, socket.AF_INET6) or _on_loopback(address):
            return False
        with _lock, open(_FENCE, "a", encoding="utf-8") as log:
            log.write(f"{address[0]} {address[1]}\n")
        return True

    def connect(self, address):
        if self._fenced(address):
            raise ConnectionRefusedError(111, "fenced: not on loopback")
        return super().connect(address)

    def connect_ex(self, address):
        if self._fenced(address):
            return 111  # ECONNREFUSED
        return super().connect_ex(address)


if _ANSWERS:
    socket.getaddrinfo = getaddrinfo
if _FENCE:
    socket.socket = FencedSocket
