"""A crawl told to stop (SIGTERM, SIGINT) stops within seconds, whatever its delays.

Scrapy's own stop, on the first SIGINT or SIGTERM, closes the spider
gracefully: it waits for every request its downloader holds, those waiting
out a download slot's delay (``DOWNLOAD_DELAY``, a ``DOWNLOAD_SLOTS`` delay),
a host's backoff or a worker's turn at a host included, and for the
downloads in flight (up to ``DOWNLOAD_TIMEOUT``). A crawl with a 20 s delay
and a few media files queued behind its next page took a minute and more to
stop, and the scheduler kills a crawl process still there 5 s after its
SIGTERM, losing what its writer had not written yet.

Here the first signal is enough. :class:`CrawlProcess`, the Scrapy process
of every crawl and worker, sends :data:`crawl_stopping` to its crawlers
before Scrapy's graceful close, and then:

- the engine takes no more requests from its scheduler (it is paused; a
  worker leases nothing more);
- :class:`StoppableDownloader` fails with :class:`CrawlStopped`, at once,
  every request it holds: those queued in a download slot (their delay is not
  waited out), those waiting in a downloader middleware (a host's backoff, a
  worker's turn at a host, robots.txt), and any that come later;
- :class:`StoppableDownloadHandler` cancels the downloads in flight (their
  connections are closed).

A request cut off so is no error of its crawl and says nothing of its host
(:class:`CrawlStopped` is an ``IgnoreRequest``: no retry, no backoff): the
spider's errbacks drop it (:func:`stopped`), and a worker delivers nothing
for it, so its lease goes back to the queue with the worker's others when
it closes. Everything already fetched is still handled: responses are
parsed, the items they gave are written (the pipeline's writer thread
finishes them) before the spider closes, and the rows of the sources not
done are closed as stopped (``stopped: shutdown``, by
:func:`crawler.local.close_runs`). A second signal still forces Scrapy's
unclean stop, as before.

Settings (``crawler/settings.py``): ``DOWNLOADER =
"crawler.stopping.StoppableDownloader"``, and
``crawler.stopping.StoppableDownloadHandler`` as the ``http`` and ``https``
entries of ``DOWNLOAD_HANDLERS``. Counts ``chanarchive/stop_cut`` in the
stats (the requests cut off).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from scrapy.core.downloader import Downloader
from scrapy.crawler import CrawlerProcess
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.asyncio import is_asyncio_available
from twisted.internet import defer
from twisted.python.failure import Failure

from .handlers.http import BoundedHTTPDownloadHandler

logger = logging.getLogger(__name__)

#: Scrapy signal (no arguments): the crawl is told to stop; every request it holds is cut off.
crawl_stopping = object()


class CrawlStopped(IgnoreRequest):
    """A request cut off, unanswered, because its crawl was told to stop."""


def stopped(failure: Failure) -> bool:
    """Whether a request failed only because its crawl was told to stop (nothing to record)."""
    return failure.check(CrawlStopped) is not None


class CrawlProcess(CrawlerProcess):
    """Scrapy's ``CrawlerProcess`` whose stop (the first SIGINT or SIGTERM) is prompt.

    Scrapy calls :meth:`stop` on the first signal; here it first pauses each
    crawler's engine and sends :data:`crawl_stopping`, then closes as Scrapy does.
    """

    def stop(self) -> defer.Deferred:
        for crawler in list(self.crawlers):
            engine = getattr(crawler, "engine", None)
            if engine is None or not engine.running:
                continue
            logger.info("Stopping: requests not yet answered are dropped")
            engine.pause()  # no more requests from the scheduler (a worker leases no more)
            crawler.signals.send_catch_log(signal=crawl_stopping)
        return super().stop()


class StoppableDownloader(Downloader):
    """Scrapy's downloader, which drops every request it holds when the crawl is stopped."""

    def __init__(self, crawler) -> None:
        super().__init__(crawler)
        self.stopping = False
        #: Each request between its fetch and its answer: the Deferred the engine waits on.
        self._fetching: dict[Any, defer.Deferred] = {}
        crawler.signals.connect(self.stop_now, signal=crawl_stopping)

    def fetch(self, request, spider=None) -> defer.Deferred:
        if self.stopping:
            return defer.fail(CrawlStopped(f"{request.url}: the crawl is stopping"))
        fetching = super().fetch(request)
        self._fetching[request] = fetching
        fetching.addBoth(self._fetched, request)
        return fetching

    def _fetched(self, result, request):
        self._fetching.pop(request, None)
        if (
            self.stopping
            and isinstance(result, Failure)
            and result.check(defer.CancelledError, asyncio.CancelledError)
        ):
            return Failure(CrawlStopped(f"{request.url}: cut off by the crawl's stop"))
        return result

    def stop_now(self) -> None:
        """Fail every request held here: queued in a slot, waiting in a middleware, and later."""
        if self.stopping:
            return
        self.stopping = True
        in_slots = {request for slot in self.slots.values() for request in slot.active}
        cut = 0
        for slot in self.slots.values():
            slot.close()  # its delayed call: the delay is not waited out
            while slot.queue:
                request, queued = slot.queue.popleft()
                cut += 1
                queued.errback(Failure(CrawlStopped(f"{request.url}: the crawl stopped")))
        # Those not in a slot wait in a downloader middleware (a backoff, a host's turn):
        # cancelled where they wait. Those in flight are cut by the download handler.
        for request, fetching in list(self._fetching.items()):
            if request not in in_slots:
                cut += 1
                fetching.cancel()
        if cut:
            self.crawler.stats.inc_value("chanarchive/stop_cut", cut)


class StoppableDownloadHandler(BoundedHTTPDownloadHandler):
    """The http(s) handler (side fetches bounded), whose downloads in flight end when the
    crawl stops."""

    def __init__(self, crawler) -> None:
        super().__init__(crawler)
        self.stopping = False
        self._downloads: set[asyncio.Future] = set()
        crawler.signals.connect(self.stop_now, signal=crawl_stopping)

    async def download_request(self, request):
        if self.stopping:
            raise CrawlStopped(f"{request.url}: the crawl is stopping")
        if not is_asyncio_available():  # no task to cancel: downloaded as Scrapy does
            return await super().download_request(request)
        download = asyncio.ensure_future(super().download_request(request))
        self._downloads.add(download)
        try:
            return await download
        except asyncio.CancelledError:
            if self.stopping and download.cancelled():
                self.crawler.stats.inc_value("chanarchive/stop_cut")
                raise CrawlStopped(
                    f"{request.url}: cut off in flight by the crawl's stop"
                ) from None
            raise
        finally:
            self._downloads.discard(download)

    def stop_now(self) -> None:
        """Cancel the downloads in flight (their connections are closed)."""
        self.stopping = True
        for download in list(self._downloads):
            download.cancel()
