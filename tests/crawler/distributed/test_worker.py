"""A worker's settings, and the Scrapy internals it leans on (pinned here, so an upgrade says so)."""

from __future__ import annotations

from scrapy.core.downloader import Slot
from scrapy.core.engine import ExecutionEngine

from crawler.distributed.worker.process import worker_settings

URL = "redis://127.0.0.1:6379/0"


def test_the_cluster_scope_applies_the_delays_across_workers_instead_of_in_each():
    settings = worker_settings(URL, {"DOWNLOAD_DELAY": "0.5"})
    assert settings.getfloat("CHANARCHIVE_HOST_DELAY") == 0.5
    assert settings.getdict("CHANARCHIVE_HOST_DELAYS")["t.me"] == 1.5
    assert settings.getfloat("DOWNLOAD_DELAY") == 0
    assert settings.getdict("DOWNLOAD_SLOTS")["t.me"] == {"concurrency": 1, "delay": 0}
    assert settings.getbool("SCHEDULER_PERSIST") is True  # a stopping worker flushes nothing
    assert settings.getdict("ITEM_PIPELINES") == {
        "crawler.distributed.worker.pipeline.DeliveryPipeline": 300
    }


def test_the_worker_scope_keeps_each_worker_polite_on_its_own():
    settings = worker_settings(URL, {"POLITENESS_SCOPE": "worker"})
    assert settings.getfloat("DOWNLOAD_DELAY") == 1.0
    assert settings.getdict("DOWNLOAD_SLOTS")["t.me"]["delay"] == 1.5


def test_the_scrapy_internals_a_worker_uses_are_there():
    # An idle worker polls the queue at this interval; a download slot's queue tells
    # that a request of this worker waits, so it leases no more meanwhile.
    assert isinstance(ExecutionEngine._SLOT_HEARTBEAT_INTERVAL, float)
    assert hasattr(Slot(1, 0, 0), "queue")


def test_each_request_brings_its_own_crawl_and_nothing_of_another_leaks():
    from archive.source import parse_source
    from crawler.distributed.requests import CrawlContext
    from crawler.distributed.worker.spider import WorkerSpider
    from crawler.options import CrawlOptions
    from crawler.plans.walks import TelegramWalk

    spider = WorkerSpider(link=None)
    first = CrawlContext(1, parse_source("@first_ch"), CrawlOptions(full=True, media="all"))
    second = CrawlContext(2, parse_source("http://127.0.0.1:9/feed"), CrawlOptions(depth=3))

    def request(context, **meta):
        import scrapy

        return scrapy.Request(context.source.url, meta={"crawl": context.to_meta(), **meta})

    one = spider.crawl_state(request(first, walk=[[5, 30]]))
    one.requested["@first_ch"] = 9  # what a callback does to its crawl's state
    assert isinstance(one.telegram_walks["@first_ch"], TelegramWalk)
    two = spider.crawl_state(request(second))
    assert two.sources.keys() == {"http://127.0.0.1:9/feed"} and two.crawl_ids == {
        "http://127.0.0.1:9/feed": 2
    }
    assert two.options == CrawlOptions(depth=3) and two.extract is not None
    assert not two.requested and not two.telegram_walks and not two.channel_names
    again = spider.crawl_state(request(first))
    assert not again.requested and not again.telegram_walks  # nothing kept between requests
    assert again.channel_names == {"@first_ch": "first_ch"} and again.page_budget is None
