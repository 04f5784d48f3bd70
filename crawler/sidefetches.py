"""Side fetches: the requests a crawl makes beside its pages, and how one ends early.

A *side fetch* is a request whose answer no page waits for: a media file
(photos, link-preview images, thumbnails: :func:`crawler.plans.media.media_request`),
a deletion-check embed (:func:`crawler.plans.checks.check_request`) and the
robots.txt Scrapy asks for before a host's first request (its failure only
means the host's rules are not known: Scrapy then fetches as if they allowed
it). A slow, hanging or unreachable host of one must never hold the crawl's
pages hostage, so a side fetch's time is bounded
(:mod:`crawler.handlers.http`: ``SIDE_FETCH_TIMEOUT``, ``SIDE_FETCH_MIN_RATE``),
it is not retried when its host failed below HTTP, and a crawl stops
asking a host that failed it ``HOST_BREAKER_FAILURES`` times
(:mod:`crawler.downloadermiddlewares.breaker`).

Each early end is an exception whose message is the one line kept (a media
URL's ``reason``, a check's): :class:`NoAnswer`, :class:`TooSlow`,
:class:`NotTried`; a robots.txt that could not be fetched is
:class:`RobotsTxtUnread`, which Scrapy's robots.txt middleware takes without
a traceback.
"""

from __future__ import annotations

from typing import Any

from scrapy.exceptions import DownloadTimeoutError, IgnoreRequest
from scrapy.utils.httpobj import urlparse_cached


def is_robots_txt(request: Any) -> bool:
    """Whether ``request`` is the robots.txt Scrapy asks for before a host's first request."""
    return (
        bool(request.meta.get("dont_obey_robotstxt"))
        and urlparse_cached(request).path == "/robots.txt"
    )


def is_side_fetch(request: Any) -> bool:
    """Whether ``request`` is a side fetch (a media file, a check, a robots.txt), not a page."""
    meta = request.meta
    return "media_url" in meta or "check" in meta or is_robots_txt(request)


class SideFetchCut(DownloadTimeoutError):
    """A side fetch ended by its bounds: a timeout, to everything that sorts failures."""


class NoAnswer(SideFetchCut):
    """No answer (not even its headers) within ``SIDE_FETCH_TIMEOUT``: a host that hangs."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"timed out: no answer within {seconds:g} s")


class TooSlow(SideFetchCut):
    """A body arriving slower than ``SIDE_FETCH_MIN_RATE``: a host that drips."""

    def __init__(self, received: int, seconds: float, rate: float) -> None:
        floor = f"{rate / 1024:g} KB/s" if rate >= 1024 else f"{rate:g} bytes/s"
        super().__init__(f"too slow: {received} bytes in {seconds:.0f} s (under {floor})")


class NotTried(IgnoreRequest):
    """A side fetch not sent: its host failed too often in this crawl. Its URL is left for a
    later crawl and uses up none of its tries."""

    def __init__(self, host: str, failures: int, last: str) -> None:
        super().__init__(f"not tried: host {host} failed {failures} times in this crawl ({last})")


class RobotsTxtUnread(IgnoreRequest):
    """A robots.txt that could not be fetched: its host is fetched as if it allowed everything
    (Scrapy's robots.txt middleware takes an ``IgnoreRequest`` silently, any other failure
    with its traceback)."""
