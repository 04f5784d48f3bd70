"""Downloader middlewares: a request reaches only public addresses, or its own crawl's sources.

Whatever a page or a server makes a crawl fetch — media files, link-preview
images, thumbnails, redirects of any request, deletion-check embeds,
followed links, web post rechecks, robots.txt — goes through
:class:`ReachGuard` first (it sits before every other middleware, so each
redirect hop, which comes back through the chain as a new request, and each
retry are checked again). It lets a request through when:

- it is an ``http``/``https`` request to the origin (scheme, host, port) of
  the source it is made for, as the user named it (a local crawl knows its
  sources from its :class:`~crawler.state.CrawlState`, a worker from the
  request's crawl context: the spider's ``source_of``);
- or its crawl runs with ``--allow-private-hosts``;
- or its host is a public address, in whatever spelling (``0x7f000001`` is
  127.0.0.1), or a name all of whose addresses are public (looked up before
  the request is sent, through the crawl's resolver and its cache);
- or it belongs to no crawl (the robots.txt Scrapy asks for before a host's
  first request) and goes to an origin a crawl's request was let reach.

Anything else is refused before it is sent (no connection, no delay, no
retry): its errback gets :class:`~crawler.addresses.Refused` with one line
(``refused: 127.1 is 127.0.0.1, a loopback address, not a public one
(--allow-private-hosts allows it)``), kept as the crawl's error, the media
file's failure or the check's failed outcome. A request let through to a
host that may be private has that host allowed by the crawl's resolver
(:class:`~crawler.resolver.PublicResolver`), which drops every other
non-public address at connect time: when a name checked public resolves to
a private address by then, the connection finds no address, and
:class:`ConnectRefusal` (placed before retry and backoff) turns that into
the same one-line refusal.

Reads no setting; counts ``chanarchive/refused`` in the stats.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy.exceptions import CannotResolveHostError
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.error import DNSLookupError

from ..addresses import (
    Origin,
    Refused,
    address_refusal,
    ip_of,
    origin_of,
    scheme_refusal,
    why_not_public,
)
from ..resolver import PublicResolver

logger = logging.getLogger(__name__)

#: Why nothing is fetched when the crawl's resolver is not the one that checks connections.
NO_RESOLVER = (
    "refused: the crawl's resolver is not crawler.resolver.PublicResolver, so no address"
    " could be checked at connect time"
)


def crawl_resolver() -> PublicResolver | None:
    """The resolver the reactor connects through, when it is the crawl's own."""
    from twisted.internet import reactor

    resolver = getattr(reactor, "nameResolver", None)
    return resolver if isinstance(resolver, PublicResolver) else None


class ReachGuard:
    """Refuses a request a page chose that points at a non-public address (see the module)."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        #: Origins, maybe not public, that a crawl's requests were let reach in this process.
        self.opened: set[Origin] = set()

    @classmethod
    def from_crawler(cls, crawler: Any) -> ReachGuard:
        return cls(crawler)

    def _reach(self, request: Any) -> tuple[Origin | None, bool] | None:
        """(the origin of the request's source, whether its crawl allows private hosts), or
        None for a request of no crawl."""
        source_of = getattr(self.crawler.spider, "source_of", None)
        found = source_of(request) if source_of is not None else None
        if found is None:
            return None
        source, options = found
        if not getattr(self.crawler.spider, "trusts_sources", True):
            return None, False  # sources named through a queue: public addresses only
        return origin_of(source.url), bool(options.allow_private_hosts)

    def _refuse(self, request: Any, reason: str) -> None:
        if request.meta.get("redirect_urls"):
            reason = reason.replace("refused: ", f"refused: redirected to {request.url}, where ", 1)
        self.crawler.stats.inc_value("chanarchive/refused")
        logger.info("Not fetched: %s (%s)", request.url, reason)
        raise Refused(reason)

    async def process_request(self, request: Any) -> None:
        target = origin_of(request.url)
        if target is None:
            self._refuse(request, scheme_refusal(request.url))
        resolver = crawl_resolver()
        if resolver is None:
            self._refuse(request, NO_RESOLVER)
        reach = self._reach(request)
        if reach is not None and (reach[1] or target == reach[0]):
            self.opened.add(target)
            resolver.allow(target[1])
            return None
        if reach is None and target in self.opened:
            return None
        host = target[1]
        ip = ip_of(host)
        if ip is not None:
            why = why_not_public(ip)
            if why is not None:
                self._refuse(request, address_refusal(host, ip, why))
            return None
        try:
            answers = await maybe_deferred_to_future(resolver.lookup(host))
        except Exception as exc:  # the connection's own resolution still checks
            logger.info("Could not look up %s before fetching it: %r", host, exc)
            return None
        for text in answers:
            address = ip_of(text)
            why = why_not_public(address) if address is not None else None
            if why is not None:
                self._refuse(request, address_refusal(host, address, why, resolved="resolves to"))
        return None  # no answer: the download fails as it would have


class ConnectRefusal:
    """A connection that found no address it may reach fails as a refusal, not a DNS error.

    Sits after the retry and backoff middlewares (its ``process_exception`` is
    called before theirs): the answer would not change on a retry, and the
    host did nothing to be backed off for.
    """

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> ConnectRefusal:
        return cls(crawler)

    def process_exception(self, request: Any, exception: BaseException) -> None:
        if not isinstance(exception, (CannotResolveHostError, DNSLookupError)):
            return None
        resolver, target = crawl_resolver(), origin_of(request.url)
        reason = resolver.refusal(target[1]) if resolver and target else None
        if reason is None:
            return None
        self.crawler.stats.inc_value("chanarchive/refused")
        logger.info("Not fetched: %s (%s)", request.url, reason)
        raise Refused(reason) from exception
