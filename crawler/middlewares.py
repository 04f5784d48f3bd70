"""Downloader middleware: back off a whole host when it asks us to.

Scrapy's RetryMiddleware retries 429 and 5xx answers but at once, and it
ignores ``Retry-After``. This middleware sits next to it: on such an answer
it pauses the *host* (every request to it waits) for ``Retry-After`` seconds
when given, else for an exponential backoff; the retry itself is still made
by RetryMiddleware. It also treats Telegram's empty ``tme_no_messages_found``
page as throttling: the request is retried later, not taken as the end of
the channel.
"""

from __future__ import annotations

import logging
import time
from email.utils import parsedate_to_datetime

from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet import reactor
from twisted.internet.task import deferLater

logger = logging.getLogger(__name__)

THROTTLE_MARKER = b"tme_no_messages_found"


def parse_retry_after(value: bytes | str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta-seconds or an HTTP date)."""
    if not value:
        return None
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


class HostBackoffMiddleware:
    def __init__(self, crawler):
        settings = crawler.settings
        if not settings.getbool("RETRY_ENABLED"):
            raise NotConfigured
        self.crawler = crawler
        self.stats = crawler.stats
        self.base = settings.getfloat("BACKOFF_BASE", 2.0)
        self.max_pause = settings.getfloat("BACKOFF_MAX", 300.0)
        self.codes = {int(c) for c in settings.getlist("RETRY_HTTP_CODES")}
        self.throttle_retries = settings.getint("TELEGRAM_THROTTLE_RETRIES", 3)
        self.throttle_delay = settings.getfloat("TELEGRAM_THROTTLE_DELAY", 10.0)
        self._not_before: dict[str, float] = {}

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def pause(self, host: str, seconds: float, why: str) -> None:
        seconds = min(max(seconds, 0.0), self.max_pause)
        until = time.monotonic() + seconds
        if until > self._not_before.get(host, 0.0):
            self._not_before[host] = until
            logger.info("Backing off %s for %.1fs (%s)", host, seconds, why)
        self.stats.inc_value("chanarchive/backoff")

    async def process_request(self, request):
        host = urlparse_cached(request).netloc
        wait = self._not_before.get(host, 0.0) - time.monotonic()
        if wait > 0:
            self.stats.inc_value("chanarchive/backoff_waits")
            await maybe_deferred_to_future(deferLater(reactor, wait, lambda: None))
        return None

    def process_response(self, request, response):
        host = urlparse_cached(request).netloc
        tries = request.meta.get("retry_times", 0)
        if response.status in self.codes and not request.meta.get("dont_retry"):
            retry_after = parse_retry_after(response.headers.get(b"Retry-After"))
            if retry_after is not None:
                self.pause(host, retry_after, f"HTTP {response.status}, Retry-After")
            else:
                self.pause(host, self.base * 2**tries, f"HTTP {response.status}")
            return response
        if response.status == 200 and THROTTLE_MARKER in response.body[:200_000]:
            done = request.meta.get("tme_throttle_retries", 0)
            if done < self.throttle_retries:
                self.stats.inc_value("chanarchive/telegram_throttled")
                self.pause(host, self.throttle_delay * 2**done, "Telegram served an empty page")
                retry = request.replace(dont_filter=True)
                retry.meta["tme_throttle_retries"] = done + 1
                return retry
        return response

    def process_exception(self, request, exception):
        host = urlparse_cached(request).netloc
        tries = request.meta.get("retry_times", 0)
        self.pause(host, self.base * 2**tries, type(exception).__name__)
        return None
