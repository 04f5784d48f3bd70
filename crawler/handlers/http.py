"""The http(s) download handler: Scrapy's HTTP/1.1 handler, with a side fetch's time bounded.

Settings read (besides Scrapy's own):

- ``SIDE_FETCH_TIMEOUT`` (seconds, default 10): how long a side fetch
  (:func:`crawler.sidefetches.is_side_fetch`: a media file, a deletion-check
  embed, a robots.txt) may take to resolve its host, connect and get its
  answer's headers. A host that accepts the connection and never answers
  costs this, not ``DOWNLOAD_TIMEOUT``.
- ``SIDE_FETCH_MIN_RATE`` (bytes a second, default 20 KiB; 0: no floor): once
  :data:`RATE_GRACE` seconds have passed since its headers, a side fetch's body
  must have arrived at least this fast on average, or it is cut
  (:class:`~crawler.sidefetches.TooSlow`): a host sending a picture a few bytes
  a second costs a few seconds.

A page is bound by neither: it keeps ``DOWNLOAD_TIMEOUT``, which still bounds
every side fetch's whole transfer too.

Why a handler. Scrapy's ``download_timeout`` bounds a whole transfer, so it
cannot be both short enough for a host that never answers and long enough
for a large file arriving at a fair rate. Signals alone cannot do it either:
handlers of ``headers_received`` and ``bytes_received`` may raise
``StopDownload``, but they run only when something arrives, and a host that
hangs sends nothing. So this handler keeps a timer per side fetch: it runs
Scrapy's own download as an asyncio task and cancels it when the timer fires,
which cancels the download's Deferred and aborts its connection exactly as
Scrapy's own timeout does. The two signals only tell the timer how the
answer is coming: the headers (the first-byte timer stops, the rate watch
starts) and each chunk of the body. Everything else — connections, TLS, the
size caps, the resolver every connection goes through — is Scrapy's handler
unchanged.

It also keeps the crawl's count of each host's failures below HTTP
(:class:`~crawler.downloadermiddlewares.breaker.HostBreaker`) as each
download ends, before the host's download slot sends its next request, and
does not send a side fetch whose host the crawl gave up on while it waited
for its turn in that slot (the breaker's middleware sees a request before
the slot, this handler when its turn comes).

And it sends a host that has not answered yet in the crawl one side fetch at
a time (a *probe*): once the host answers, its side fetches go as Scrapy
sends them; while it does not, the next waits for the last one's end, and
after ``HOST_BREAKER_FAILURES`` failures the rest are not tried. Without it,
a host's queued side fetches could all be sent together (with
``DOWNLOAD_DELAY=0``, Scrapy 2.19's downloader starts every request queued
for a slot at once, whatever ``CONCURRENT_REQUESTS_PER_DOMAIN`` says) and a
host that hangs would meet them all before the first failure is counted.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from scrapy import signals
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.utils.asyncio import is_asyncio_available

from ..downloadermiddlewares.breaker import HostBreaker
from ..sidefetches import NoAnswer, SideFetchCut, TooSlow, is_side_fetch

logger = logging.getLogger(__name__)

#: Seconds after its headers before a side fetch's rate is judged (a fair start is slow).
RATE_GRACE = 5.0
#: Seconds between two looks at a side fetch's rate.
RATE_CHECK = 1.0


class _Watch:
    """One side fetch's timer: first its answer's headers, then its body's rate."""

    def __init__(self, task: asyncio.Future, first_byte: float, min_rate: float) -> None:
        from twisted.internet import reactor

        self.reactor: Any = reactor
        self.task = task
        self.min_rate = min_rate
        self.first_byte = first_byte
        self.received = 0
        self.answered_at: float | None = None
        #: Why the fetch was cut, once it was.
        self.cut: SideFetchCut | None = None
        self.timer = reactor.callLater(first_byte, self._no_answer) if first_byte > 0 else None

    def _end(self, why: SideFetchCut) -> None:
        self.timer = None
        if self.task.done():
            return
        self.cut = why
        self.task.cancel()

    def _no_answer(self) -> None:
        self._end(NoAnswer(self.first_byte))

    def answered(self) -> None:
        """The headers arrived: from now on the body's rate counts."""
        self.stop()
        self.answered_at = self.reactor.seconds()
        if self.min_rate > 0:
            self.timer = self.reactor.callLater(RATE_GRACE, self._check_rate)

    def _check_rate(self) -> None:
        elapsed = self.reactor.seconds() - (self.answered_at or 0.0)
        if self.received < self.min_rate * elapsed:
            self._end(TooSlow(self.received, elapsed, self.min_rate))
        else:
            self.timer = self.reactor.callLater(RATE_CHECK, self._check_rate)

    def stop(self) -> None:
        if self.timer is not None and self.timer.active():
            self.timer.cancel()
        self.timer = None


class _Probe:
    """The side fetches to a host not answered yet: the lock they take turns with."""

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        #: The side fetches holding or waiting for the lock.
        self.users = 0


class BoundedHTTPDownloadHandler(HTTP11DownloadHandler):
    """Scrapy's HTTP/1.1 handler; a side fetch is cut when it hangs or drips (see the module)."""

    def __init__(self, crawler: Any) -> None:
        super().__init__(crawler)
        settings = crawler.settings
        self.first_byte = settings.getfloat("SIDE_FETCH_TIMEOUT", 10.0)
        self.min_rate = settings.getfloat("SIDE_FETCH_MIN_RATE", 20 * 1024)
        self.bounded = is_asyncio_available()
        if not self.bounded:  # pragma: no cover - chanarchive's reactor is always asyncio's
            logger.warning("Side fetches are not bounded: the asyncio reactor is not installed")
        #: The watch of each side fetch under way, by its request's id.
        self._watches: dict[int, _Watch] = {}
        #: The (crawl, host) not answered yet with side fetches for them: one at a time.
        self._probes: dict[tuple[Any, str], _Probe] = {}
        self._looked: HostBreaker | None | bool = False  # the crawl's breaker, once looked up
        crawler.signals.connect(self._headers_received, signal=signals.headers_received)
        crawler.signals.connect(self._bytes_received, signal=signals.bytes_received)

    def _breaker(self) -> HostBreaker | None:
        if self._looked is False:
            self._looked = self._crawler.get_downloader_middleware(HostBreaker)
        return self._looked

    async def download_request(self, request: Any) -> Any:
        breaker = self._breaker()
        try:
            response = await self._download(request, breaker)
        except Exception as exc:
            if breaker is not None:  # counted before the host's slot sends its next request
                breaker.failed(request, exc)
            raise
        if breaker is not None:
            breaker.answered(request)
        return response

    async def _download(self, request: Any, breaker: HostBreaker | None) -> Any:
        if not self.bounded or not is_side_fetch(request):
            return await super().download_request(request)
        if breaker is None:
            return await self._bounded(request)
        if breaker.has_answered(request):
            breaker.check(request)  # its host may have failed while it waited in the slot
            return await self._bounded(request)
        key = breaker.key(request)
        probe = self._probes.setdefault(key, _Probe())
        probe.users += 1
        try:
            async with probe.lock:  # one at a time until the host answers
                breaker.check(request)  # its host may have failed while it waited its turn
                if not breaker.has_answered(request):
                    return await self._bounded(request)
            return await self._bounded(request)  # it answered meanwhile: no more waiting
        finally:
            probe.users -= 1
            if not probe.users:
                del self._probes[key]

    async def _bounded(self, request: Any) -> Any:
        task = asyncio.ensure_future(super().download_request(request))
        watch = self._watches[id(request)] = _Watch(task, self.first_byte, self.min_rate)
        try:
            return await task
        except asyncio.CancelledError:
            if watch.cut is None:
                raise  # cancelled by whoever waits for it, not by its bounds
            raise watch.cut from None
        finally:
            watch.stop()
            self._watches.pop(id(request), None)

    def _headers_received(self, request: Any, **_: Any) -> None:
        watch = self._watches.get(id(request))
        if watch is not None:
            watch.answered()

    def _bytes_received(self, data: bytes, request: Any, **_: Any) -> None:
        watch = self._watches.get(id(request))
        if watch is not None:
            watch.received += len(data)
