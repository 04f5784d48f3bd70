"""Politeness across workers: one request at a time per host, with a delay, whatever their number.

Settings: ``POLITENESS_SCOPE`` (``cluster``, the default: every worker
shares each host's turn through Redis; ``worker``: each worker is polite on
its own, as a local crawl is, so N workers may send N times the requests:
for workers on different addresses), ``CHANARCHIVE_HOST_DELAY`` and
``CHANARCHIVE_HOST_DELAYS`` (the delay after each request to a host, and
per-host delays; set by :mod:`.worker` from ``DOWNLOAD_DELAY`` and
``DOWNLOAD_SLOTS``), ``DOWNLOAD_TIMEOUT``.

:class:`HostTurnMiddleware` takes the host's lock in Redis before a request
goes out and gives it back when the answer (or the failure) comes, setting
the next free time to now + the host's delay. A worker that dies holding a
lock loses it when its heartbeat runs out (the reaper frees it).

:class:`SharedBackoffMiddleware` is the local crawl's
:class:`~crawler.downloadermiddlewares.backoff.HostBackoffMiddleware` whose pauses (429,
``Retry-After``, 5xx, Telegram's empty page) also push the host's next free
time back for every worker, in Redis instead of the archive.
"""

from __future__ import annotations

import itertools
import logging
from urllib.parse import urlsplit

from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

from ...downloadermiddlewares.backoff import HostBackoffMiddleware

logger = logging.getLogger(__name__)

#: How often a request waiting for a busy host asks again (seconds).
POLL = 0.05


def host_of(netloc_or_url: str) -> str:
    """The host name of a netloc or URL, as Scrapy names its download slots."""
    text = netloc_or_url if "//" in netloc_or_url else "//" + netloc_or_url
    return (urlsplit(text).hostname or "").lower()


class HostTurnMiddleware:
    def __init__(self, crawler) -> None:
        settings = crawler.settings
        if settings.get("POLITENESS_SCOPE", "cluster") != "cluster":
            raise NotConfigured
        self.crawler = crawler
        self.delay = settings.getfloat("CHANARCHIVE_HOST_DELAY", 1.0)
        self.delays = {
            k.lower(): float(v) for k, v in settings.getdict("CHANARCHIVE_HOST_DELAYS").items()
        }
        self.lock_ttl = settings.getfloat("DOWNLOAD_TIMEOUT", 180) + 30
        self._owners = itertools.count(1)
        #: This worker's requests waiting for a host: woken when one of ours gives it back.
        self._waiters: dict[str, list[Deferred]] = {}

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def _delay(self, host: str) -> float:
        return self.delays.get(host, self.delay)

    async def process_request(self, request):
        link = self.crawler.spider.link
        host = urlparse_cached(request).hostname or ""
        owner = f"{link.wid} {next(self._owners)}"
        waited = False
        try:
            while True:
                wait = link.frontier.acquire_host(link.wid, host, owner, self.lock_ttl)
                if wait == 0:
                    break
                if not waited:
                    waited = True
                    link.waiting_for_host += 1
                    self.crawler.stats.inc_value("chanarchive/host_waits")
                await self._sleep(host, POLL if wait < 0 else min(wait, 1.0))
        finally:
            if waited:
                link.waiting_for_host -= 1
        request.meta["host_turn"] = owner
        return None

    async def _sleep(self, host: str, seconds: float) -> None:
        """Wait ``seconds``, or less when a request of this worker gives the host back."""
        from twisted.internet import reactor  # the one Scrapy installed: never import it first

        woken: Deferred = Deferred()
        timer = reactor.callLater(seconds, lambda: woken.called or woken.callback(None))
        self._waiters.setdefault(host, []).append(woken)
        try:
            await maybe_deferred_to_future(woken)
        finally:
            if timer.active():
                timer.cancel()
            waiters = self._waiters.get(host, [])
            if woken in waiters:
                waiters.remove(woken)

    def _release(self, request) -> None:
        owner = request.meta.pop("host_turn", None)
        if owner is None:
            return
        link = self.crawler.spider.link
        host = urlparse_cached(request).hostname or ""
        link.frontier.release_host(link.wid, host, owner, self._delay(host))
        for woken in self._waiters.pop(host, []):
            if not woken.called:
                woken.callback(None)

    def process_response(self, request, response):
        self._release(request)
        return response

    def process_exception(self, request, exception):
        self._release(request)
        return None


class SharedBackoffMiddleware(HostBackoffMiddleware):
    """:class:`HostBackoffMiddleware` whose pauses hold for every worker (through Redis)."""

    def pause(self, host: str, seconds: float, why: str, *, shared: bool = False) -> None:
        super().pause(host, seconds, why, shared=shared)
        link = getattr(self.crawler.spider, "link", None)
        if link is not None:
            link.frontier.push_back_host(host_of(host), min(max(seconds, 0.0), self.max_pause))
