"""The crawl's resolver (Scrapy's ``TWISTED_DNS_RESOLVER``): a connection goes only where it allows.

Every connection a crawl opens asks the reactor's name resolver for the
addresses to connect to — for a name and for an address literal alike
(Twisted's ``HostnameEndpoint`` hands ``0x7f000001`` and ``127.0.0.1`` to it
too) — and connects only to the addresses it hands back. This resolver
hands back the public addresses of a name, and drops the others, unless the
name was allowed (:meth:`PublicResolver.allow`): the host of a source the
user named, or any host of a crawl run with ``--allow-private-hosts``, which
:class:`~crawler.downloadermiddlewares.reach.ReachGuard` allows as it lets
their requests through. So a DNS answer cannot smuggle a private address
past the check made before the request was sent: the address checked is the
address connected to.

It caches answers as Scrapy's resolvers do (``DNSCACHE_ENABLED``,
``DNSCACHE_SIZE``; the check applies to cached answers too) and, with the
cache on, asks for a name once however many requests wait for it, and
remembers a name that did not resolve for :data:`FAILED_NAME_TTL` seconds (a
dead name, or no network at all, costs one look-up, not one per request: the
robots.txt, the check before the request, the connection, the next picture on
the same host), resolves IPv4
and IPv6, and serves :class:`~crawler.downloadermiddlewares.reach.ReachGuard`'s
look-ups made before a request is sent (:meth:`PublicResolver.lookup`), from
the same cache. The hosts of the proxies named in the environment
(``http_proxy``, ...) are allowed: the user chose them.
"""

from __future__ import annotations

import logging
import time
import urllib.request
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import attr
from scrapy.utils.datatypes import LocalCache
from twisted.internet import defer
from twisted.internet.interfaces import (
    IAddress,
    IHostnameResolver,
    IHostResolution,
    IResolutionReceiver,
)
from zope.interface import implementer, provider

from .addresses import address_refusal, host_key, ip_of, is_public, why_not_public

logger = logging.getLogger(__name__)

#: Seconds a name that did not resolve is taken as not resolving, without asking again.
FAILED_NAME_TTL = 60.0


@implementer(IHostResolution)
class _Resolution:
    def __init__(self, name: str) -> None:
        self.name = name

    def cancel(self) -> None:  # pragma: no cover - Twisted's endpoints never cancel one
        pass


@provider(IResolutionReceiver)
class _Collector:
    """Gathers what the system resolver answers for one name."""

    def __init__(self, done: defer.Deferred) -> None:
        self.done = done
        self.addresses: list[IAddress] = []

    def resolutionBegan(self, resolution: IHostResolution) -> None:
        pass

    def addressResolved(self, address: IAddress) -> None:
        self.addresses.append(address)

    def resolutionComplete(self) -> None:
        self.done.callback(self.addresses)


def _proxy_hosts() -> set[str]:
    hosts = set()
    for url in urllib.request.getproxies().values():
        try:
            host = urlsplit(url if "//" in url else f"//{url}").hostname
        except ValueError:
            continue
        if host:
            hosts.add(host_key(host))
    return hosts


@implementer(IHostnameResolver)
class PublicResolver:
    """Resolves names for connections, handing back only the addresses they may reach."""

    def __init__(self, reactor: Any, cache_size: int) -> None:
        self.reactor = reactor
        #: The reactor's own resolver (``getaddrinfo`` in a thread), asked on a cache miss.
        self.system: IHostnameResolver = reactor.nameResolver
        self.cache: LocalCache[str, list[IAddress]] | None = (
            LocalCache(cache_size) if cache_size > 0 else None
        )
        #: Hosts whose private addresses may be connected to (see :meth:`allow`).
        self.allowed: set[str] = _proxy_hosts()
        #: Why a host's addresses were all dropped at its last connection, by host.
        self.refusals: LocalCache[str, str] = LocalCache(1000)
        #: Names that did not resolve, and when (``time.monotonic``): not asked again for
        #: :data:`FAILED_NAME_TTL` seconds.
        self.failed: LocalCache[str, float] = LocalCache(1000)
        #: Names being looked up, with whoever waits for the same answer meanwhile.
        self._asking: dict[str, list[defer.Deferred[list[IAddress]]]] = {}

    @classmethod
    def from_crawler(cls, crawler: Any, reactor: Any) -> PublicResolver:
        settings = crawler.settings
        size = settings.getint("DNSCACHE_SIZE") if settings.getbool("DNSCACHE_ENABLED") else 0
        return cls(reactor, size)

    def install_on_reactor(self) -> None:
        self.reactor.installNameResolver(self)

    def allow(self, host: str) -> None:
        """Let connections to ``host`` reach its private addresses too (a source's host, or
        a host of a crawl run with ``--allow-private-hosts``)."""
        self.allowed.add(host_key(host))

    def refusal(self, host: str) -> str | None:
        """Why the last connection to ``host`` found no address it may reach, if it did not."""
        return self.refusals.get(host_key(host))

    # -- resolving

    @staticmethod
    def _public(address: IAddress) -> bool:
        ip = ip_of(getattr(address, "host", None) or "")
        return ip is not None and is_public(ip)

    @staticmethod
    def _refusal(host: str, address: IAddress) -> str:
        text = getattr(address, "host", None) or "?"
        ip = ip_of(text)
        if ip is None:
            return f"refused: {host} resolved, when connecting, to {text}, not an IP address"
        why = why_not_public(ip) or "not a public address"
        return address_refusal(host, ip, why, resolved="resolved, when connecting, to")

    def lookup(self, host: str) -> defer.Deferred[list[str]]:
        """Every address ``host`` has (none when it does not resolve), as text, unfiltered."""
        return self._answers(host).addCallback(lambda found: [a.host for a in found])

    def _answers(
        self, host: str, address_types: Sequence[type[IAddress]] | None = None
    ) -> defer.Deferred[list[IAddress]]:
        key = host_key(host)
        cacheable = self.cache is not None and address_types is None
        if cacheable and key in self.cache:
            return defer.succeed(list(self.cache[key]))
        failed_at = self.failed.get(key) if cacheable else None
        if failed_at is not None and time.monotonic() - failed_at < FAILED_NAME_TTL:
            return defer.succeed([])
        if cacheable and key in self._asking:  # asked already: wait for that answer
            waiter: defer.Deferred[list[IAddress]] = defer.Deferred()
            self._asking[key].append(waiter)
            return waiter
        if cacheable:
            self._asking[key] = []
        done: defer.Deferred[list[IAddress]] = defer.Deferred()

        def keep(found: list[IAddress]) -> list[IAddress]:
            if cacheable and found:
                self.cache[key] = list(found)
                self.failed.pop(key, None)
            elif cacheable:
                self.failed[key] = time.monotonic()
            for waiter in self._asking.pop(key, []) if cacheable else []:
                waiter.callback(list(found))
            return found

        done.addCallback(keep)
        try:
            self.system.resolveHostName(_Collector(done), host, 0, address_types)
        except Exception:
            self._asking.pop(key, None)
            raise
        return done

    def resolveHostName(
        self,
        resolutionReceiver: IResolutionReceiver,
        hostName: str,
        portNumber: int = 0,
        addressTypes: Sequence[type[IAddress]] | None = None,
        transportSemantics: str = "TCP",
    ) -> IHostResolution:
        """The addresses a connection to ``hostName`` may use: its public ones, or all of
        them for a host allowed."""
        resolution = _Resolution(hostName)
        resolutionReceiver.resolutionBegan(resolution)
        key = host_key(hostName)

        def deliver(found: list[IAddress]) -> None:
            try:
                kept = [a for a in found if key in self.allowed or self._public(a)]
                for address in kept:
                    resolutionReceiver.addressResolved(attr.evolve(address, port=portNumber))
                if found and not kept:
                    reason = self._refusal(hostName, found[0])
                    self.refusals[key] = reason
                    logger.warning("No connection to %s: %s", hostName, reason)
                else:
                    self.refusals.pop(key, None)
            finally:
                resolutionReceiver.resolutionComplete()

        def failed(failure: Any) -> None:
            logger.warning("Could not resolve %s: %s", hostName, failure.getErrorMessage())
            resolutionReceiver.resolutionComplete()

        self._answers(hostName, addressTypes).addCallbacks(deliver, failed)
        return resolution
