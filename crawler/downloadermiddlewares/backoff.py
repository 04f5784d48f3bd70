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
import sqlite3
import time
from email.utils import parsedate_to_datetime

from scrapy import signals
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet import reactor
from twisted.internet.task import deferLater

from archive.store import connect
from archive.store.backoff import backoff_left, record_backoff

logger = logging.getLogger(__name__)

THROTTLE_MARKER = b"tme_no_messages_found"


def parse_retry_after(value: bytes | str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta-seconds or an HTTP date)."""
    if not value:
        return None
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


class SharedBackoff:
    """A host's backoff kept in the archive (``host_backoff``), so every crawl of it honours it.

    Best effort: the archive being busy or old never fails a crawl.
    """

    def __init__(self, db_path: str) -> None:
        self.db_path = db_path
        self._conn: sqlite3.Connection | None = None

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = connect(self.db_path)
        return self._conn

    def load(self, host: str) -> tuple[float, str] | None:
        """Seconds left of the host's stored backoff, and why; None when there is none."""
        try:
            return backoff_left(self._db(), host)
        except sqlite3.Error as exc:
            logger.debug("No shared backoff for %s: %s", host, exc)
            return None

    def save(self, host: str, seconds: float, why: str) -> None:
        try:
            record_backoff(self._db(), host, seconds, why)
        except sqlite3.Error as exc:
            logger.warning("Could not share the backoff of %s: %s", host, exc)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


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
        # 429s and Retry-After are shared with every crawl of the host, through the archive.
        db_path = settings.get("CHANARCHIVE_DB")
        share = db_path and settings.getbool("CHANARCHIVE_SHARED_BACKOFF", True)
        self.shared = SharedBackoff(db_path) if share else None
        self._loaded: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler):
        middleware = cls(crawler)
        if middleware.shared is not None:
            crawler.signals.connect(middleware.shared.close, signal=signals.spider_closed)
        return middleware

    def pause(self, host: str, seconds: float, why: str, *, shared: bool = False) -> None:
        seconds = min(max(seconds, 0.0), self.max_pause)
        until = time.monotonic() + seconds
        if until > self._not_before.get(host, 0.0):
            self._not_before[host] = until
            logger.info("Backing off %s for %.1fs (%s)", host, seconds, why)
        if shared and self.shared is not None:
            self.shared.save(host, seconds, why)
        self.stats.inc_value("chanarchive/backoff")

    def _load_shared(self, host: str) -> None:
        """Once per host and crawl: honour a backoff an earlier crawl stored."""
        self._loaded.add(host)
        stored = self.shared.load(host) if self.shared is not None else None
        if stored:
            left, why = stored
            left = min(left, self.max_pause)
            self._not_before[host] = max(self._not_before.get(host, 0.0), time.monotonic() + left)
            logger.info(
                "Waiting %.1fs for %s: backed off by an earlier crawl (%s)", left, host, why
            )
            self.stats.inc_value("chanarchive/backoff_shared")

    async def process_request(self, request):
        host = urlparse_cached(request).netloc
        if host not in self._loaded:
            self._load_shared(host)
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
            # A 429, or any answer with Retry-After, is the host asking every crawl to wait.
            shared = response.status == 429 or retry_after is not None
            if retry_after is not None:
                self.pause(host, retry_after, f"HTTP {response.status}, Retry-After", shared=shared)
            else:
                self.pause(host, self.base * 2**tries, f"HTTP {response.status}", shared=shared)
            return response
        if response.status == 200 and THROTTLE_MARKER in response.body[:200_000]:
            done = request.meta.get("tme_throttle_retries", 0)
            if done < self.throttle_retries:
                self.stats.inc_value("chanarchive/telegram_throttled")
                self.pause(
                    host,
                    self.throttle_delay * 2**done,
                    "Telegram served an empty page",
                    shared=True,
                )
                retry = request.replace(dont_filter=True)
                retry.meta["tme_throttle_retries"] = done + 1
                return retry
        return response

    def process_exception(self, request, exception):
        if isinstance(exception, IgnoreRequest):
            return None  # robots.txt, a source cut off at its limit: the host did nothing wrong
        host = urlparse_cached(request).netloc
        tries = request.meta.get("retry_times", 0)
        self.pause(host, self.base * 2**tries, type(exception).__name__)
        return None
