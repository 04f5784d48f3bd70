"""The host breaker on its own: which failures count, what it holds back, and for whom.

A real Scrapy crawler (``scrapy.utils.test.get_crawler``: its settings and
stats) and real requests; the failures are the exceptions Scrapy's handler
raises. What a crawl through the command line makes of it is
``tests/crawler/test_side_fetches.py``'s.
"""

from __future__ import annotations

import pytest
import scrapy
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadConnectionRefusedError,
    DownloadTimeoutError,
)
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.test import get_crawler
from twisted.internet.error import DNSLookupError

from crawler.downloadermiddlewares.breaker import HostBreaker, HostFailures
from crawler.sidefetches import NoAnswer, NotTried, RobotsTxtUnread, TooSlow


class CrawlsSpider(scrapy.Spider):
    """A spider serving several crawls, as a worker's does: the crawl is the request's."""

    name = "crawls"

    def crawl_key(self, request: scrapy.Request) -> int | None:
        return request.meta.get("crawl")


def breaker(limit: int = 3, spider: scrapy.Spider | None = None) -> HostBreaker:
    crawler = get_crawler(settings_dict={"HOST_BREAKER_FAILURES": limit})
    crawler.spider = spider
    return HostBreaker.from_crawler(crawler)


def picture(host: str = "cdn.example", n: int = 1, **meta) -> scrapy.Request:
    url = f"https://{host}/p{n}.jpg"
    return scrapy.Request(url, meta={"media_url": url, **meta})


def page(host: str = "cdn.example") -> scrapy.Request:
    return scrapy.Request(f"https://{host}/s/chan")


def robots(host: str = "cdn.example") -> scrapy.Request:
    return scrapy.Request(f"https://{host}/robots.txt", meta={"dont_obey_robotstxt": True})


def held_back(gate: HostBreaker, request: scrapy.Request) -> str | None:
    """The reason ``request`` is not sent (None: it is sent)."""
    try:
        gate.process_request(request)
    except NotTried as exc:
        return str(exc)
    return None


FAILURES = [
    DNSLookupError("no results for hostname lookup: cdn.example"),
    CannotResolveHostError("cdn.example"),
    DownloadConnectionRefusedError("Connection was refused by other side"),
    DownloadTimeoutError("Getting https://cdn.example/p1.jpg took longer than 30 seconds."),
    NoAnswer(10),
    TooSlow(50, 5, 20480),
]


@pytest.mark.parametrize("failure", FAILURES, ids=lambda e: type(e).__name__)
def test_a_host_that_fails_below_http_is_given_up_on_at_the_limit(failure):
    gate = breaker(limit=3)
    for n in range(2):
        assert held_back(gate, picture(n=n)) is None
        gate.failed(picture(n=n), failure)
    assert held_back(gate, picture(n=5)) is None  # two failures: still asked
    gate.failed(robots(), failure)  # any request of the host counts, robots.txt too
    reason = held_back(gate, picture(n=6))
    assert reason is not None
    assert reason.startswith("not tried: host cdn.example failed 3 times in this crawl (")
    assert held_back(gate, robots()) is not None  # a side fetch too
    assert held_back(gate, page()) is None  # a page never: its failure is the crawl's to tell
    assert held_back(gate, picture("other.example")) is None  # other hosts are not concerned
    assert gate.crawler.stats.get_value("chanarchive/host_failures") == 3
    assert gate.crawler.stats.get_value("chanarchive/not_tried") == 2


def test_answers_that_are_errors_do_not_count():
    gate = breaker(limit=1)
    answer = scrapy.http.Response("https://cdn.example/p1.jpg", status=503)
    for failure in (HttpError(answer, "503"), ValueError("a bug"), RobotsTxtUnread("HTTP 500")):
        gate.failed(picture(), failure)
    assert held_back(gate, picture()) is None
    assert gate.crawler.stats.get_value("chanarchive/host_failures") is None


def test_a_limit_of_zero_never_gives_up():
    gate = breaker(limit=0)
    for n in range(20):
        gate.failed(picture(n=n), DNSLookupError("cdn.example"))
    assert held_back(gate, picture(n=21)) is None


def test_each_crawl_a_worker_serves_counts_its_own_failures():
    gate = breaker(limit=2, spider=CrawlsSpider())
    for n in range(2):
        gate.failed(picture(n=n, crawl=7), NoAnswer(10))
    assert held_back(gate, picture(n=3, crawl=7)) is not None
    assert held_back(gate, picture(n=3, crawl=8)) is None  # another crawl still asks


def test_which_failures_are_final_and_which_are_left_to_retry():
    crawler = get_crawler()
    final = HostFailures.from_crawler(crawler)

    def outcome(request: scrapy.Request, failure: Exception) -> str:
        try:
            final.process_exception(request, failure)
        except RobotsTxtUnread:
            return "robots.txt unread"
        except Exception as raised:
            assert raised is failure
            return "final"
        return "left to the retry middleware"

    refused = DownloadConnectionRefusedError("refused")
    assert outcome(picture(), refused) == "final"  # a side fetch: the next crawl tries again
    assert outcome(page(), refused) == "left to the retry middleware"  # with backoff, as before
    assert outcome(page(), DNSLookupError("t.me")) == "final"  # the answer would not change
    assert outcome(robots(), refused) == "robots.txt unread"  # one line, no traceback
    assert outcome(robots(), ValueError("x")) == "robots.txt unread"
    answer = scrapy.http.Response("https://cdn.example/p1.jpg", status=503)
    assert outcome(picture(), HttpError(answer, "503")) == "left to the retry middleware"
    # Never sent: the host did nothing (and the retry middleware lets an IgnoreRequest be).
    assert outcome(picture(), NotTried("cdn.example", 3, "x")) == "left to the retry middleware"
    assert crawler.stats.get_value("chanarchive/not_retried") == 2


def test_a_deletion_check_is_a_side_fetch_held_back_with_its_host():
    from crawler.plans.checks import check_request

    gate = breaker(limit=1)
    gate.failed(page("t.me"), NoAnswer(10))  # a page's failure counts for the host too
    check = check_request("@chan", "https://t.me/s/chan", "chan", 7)
    assert held_back(gate, check) is not None
    assert held_back(gate, page("t.me")) is None
