"""Downloader middlewares: no retry storms, and a crawl stops asking a host that keeps failing.

A crawl counts, per host, the host's failures below HTTP
(:func:`crawler.responses.host_failure`: a name that does not resolve, a
connection refused, no answer in time, an answer too slow, a connection
lost), of any request, in :class:`HostBreaker`. The download handler
(:mod:`crawler.handlers.http`) counts each as its download ends, before the
host's download slot sends its next request: counted any later, by a
middleware, the next request would already be on its way.

- :class:`HostBreaker` sits first after the reach check: once a host has
  failed ``HOST_BREAKER_FAILURES`` times in a crawl (default 3; 0: never), the
  crawl's other side fetches to it are not sent
  (:class:`~crawler.sidefetches.NotTried`, one line kept as the media URL's
  or the check's reason, using up none of the URL's tries; one WARNING line
  says the crawl gave up on the host), so twenty pictures on a host that
  hangs cost three timeouts, not twenty. The side fetches already waiting in
  the host's download slot are held back by the download handler as their
  turn comes (it asks :meth:`HostBreaker.check`); and until a host has given
  an answer in the crawl, the handler sends it one side fetch at a time, so
  a host that is down meets exactly ``HOST_BREAKER_FAILURES`` of them, however
  many were queued together. Pages are never held back: a page's failure is
  its crawl's to report.
- :class:`HostFailures` sits after retry and backoff (its
  ``process_exception`` runs before theirs). It makes two kinds of failure
  below HTTP final, neither retried nor backing the host off: a side
  fetch's (:func:`crawler.sidefetches.is_side_fetch`: a media file or a
  check is tried again by the next crawl, not three more times now, one
  after another on a host that is down) and a name's that did not resolve,
  for pages too (the answer will not change in the seconds a backoff waits:
  no network, a typo, a dead domain; the system resolver has already
  retried a lost packet, the crawl's resolver remembers the failure for a
  minute, and the next crawl asks again). A robots.txt that could not be
  fetched, whatever the reason, is one log line (INFO when its host failed
  below HTTP: the pages' own requests say so, or succeed; WARNING
  otherwise), not Scrapy's ERROR with a traceback: it goes on as
  :class:`~crawler.sidefetches.RobotsTxtUnread`, and the host is fetched as
  if its robots.txt allowed everything, as Scrapy does.

A crawl is the process's own for a local crawl; a worker keeps a count per
crawl it serves (the spider's ``crawl_key``). Reads ``HOST_BREAKER_FAILURES``;
counts ``chanarchive/host_failures``, ``chanarchive/not_retried`` and
``chanarchive/not_tried`` in the stats.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy.exceptions import IgnoreRequest
from scrapy.utils.datatypes import LocalCache
from scrapy.utils.httpobj import urlparse_cached
from twisted.python.failure import Failure

from ..responses import describe_failure, dns_failure, host_failure
from ..sidefetches import NotTried, RobotsTxtUnread, is_robots_txt, is_side_fetch
from .reach import crawl_resolver

logger = logging.getLogger(__name__)

#: Hosts (of all crawls, in a worker) whose failures are remembered at once.
REMEMBERED = 10_000


class HostBreaker:
    """Holds back the side fetches of a host that failed too often in their crawl."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.limit = crawler.settings.getint("HOST_BREAKER_FAILURES", 3)
        #: (crawl, host) -> (failures so far, the last one's reason).
        self.failures: LocalCache[tuple[Any, str], tuple[int, str]] = LocalCache(REMEMBERED)
        #: The (crawl, host) given up on that the log was told of.
        self.told: LocalCache[tuple[Any, str], bool] = LocalCache(REMEMBERED)
        #: The (crawl, host) that gave an answer (any HTTP status) in the crawl.
        self.answers: LocalCache[tuple[Any, str], bool] = LocalCache(REMEMBERED)

    @classmethod
    def from_crawler(cls, crawler: Any) -> HostBreaker:
        return cls(crawler)

    def key(self, request: Any) -> tuple[Any, str]:
        """(the crawl, the host) of ``request``: what the breaker counts by."""
        crawl_key = getattr(self.crawler.spider, "crawl_key", None)
        crawl = crawl_key(request) if crawl_key is not None else None
        return crawl, urlparse_cached(request).netloc

    def answered(self, request: Any) -> None:
        """``request``'s host gave an answer (any HTTP status): it is up, in this crawl."""
        self.answers[self.key(request)] = True

    def has_answered(self, request: Any) -> bool:
        """Whether ``request``'s host gave an answer in its crawl (see the download handler:
        until then, its side fetches go one at a time)."""
        return self.key(request) in self.answers

    def failed(self, request: Any, exception: BaseException) -> None:
        """``request`` ended with ``exception``: counted when its host failed below HTTP.

        Called by the download handler as the download ends, before the host's download
        slot sends its next request (which the breaker may then hold back).
        """
        if not host_failure(exception) or _refused(request, exception):
            return
        self.crawler.stats.inc_value("chanarchive/host_failures")
        reason = describe_failure(Failure(exception))[1]
        key = self.key(request)
        count = self.failures.get(key, (0, ""))[0] + 1
        self.failures[key] = (count, reason)

    def check(self, request: Any) -> None:
        """Raise :class:`~crawler.sidefetches.NotTried` for a side fetch to a host given up on."""
        if self.limit <= 0 or not is_side_fetch(request):
            return
        key = self.key(request)
        count, last = self.failures.get(key, (0, ""))
        if count >= self.limit:
            self.crawler.stats.inc_value("chanarchive/not_tried")
            if key not in self.told:  # one line per host and crawl, when it first matters
                self.told[key] = True
                logger.warning(
                    "Giving up on %s for the rest of this crawl: it failed %d times (%s); its"
                    " other media files and checks are left for a later crawl",
                    key[1], count, last,
                )  # fmt: skip
            logger.info("Not tried: %s (host %s failed %d times)", request.url, key[1], count)
            raise NotTried(key[1], count, last)

    def process_request(self, request: Any) -> None:
        self.check(request)
        return None


def _refused(request: Any, exception: BaseException) -> bool:
    """Whether a DNS failure is the crawl's resolver refusing the host's addresses
    (:class:`~crawler.downloadermiddlewares.reach.ConnectRefusal` reports it): no failure of
    the host's."""
    if not dns_failure(exception):
        return False
    resolver = crawl_resolver()
    host = urlparse_cached(request).hostname
    return resolver is not None and bool(host) and resolver.refusal(host) is not None


class HostFailures:
    """Makes a side fetch's failure below HTTP, a name's that did not resolve, and a
    robots.txt's, final (see the module)."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> HostFailures:
        return cls(crawler)

    def process_exception(self, request: Any, exception: BaseException) -> None:
        if isinstance(exception, IgnoreRequest):
            return None  # never sent (refused, not tried, robots.txt): the host did nothing
        own = host_failure(exception)
        if is_robots_txt(request):
            reason = describe_failure(Failure(exception))[1]
            logger.log(
                logging.INFO if own else logging.WARNING,
                "robots.txt of %s not read (%s): fetching as if it allowed everything",
                urlparse_cached(request).netloc, reason,
            )  # fmt: skip
            raise RobotsTxtUnread(reason) from exception
        if own and (is_side_fetch(request) or dns_failure(exception)):
            self.crawler.stats.inc_value("chanarchive/not_retried")
            raise exception
        return None
