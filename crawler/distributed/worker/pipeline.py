"""The worker's item pipeline: push each delivery to Redis, which acknowledges its lease.

Settings: ``ITEM_PIPELINES = {"crawler.distributed.worker.pipeline.DeliveryPipeline": 300}``.

It stands in for ``scrapy_redis.pipelines.RedisPipeline``, whose
``process_item(item, spider)`` and Deferred result Scrapy 2.19 deprecates,
and which pushes an item without acknowledging anything. Here one atomic
step (:meth:`Frontier.deliver`) enqueues the request's children, pushes the
delivery and drops the lease: a worker killed before it loses nothing
(the lease returns to the queue), a worker killed after it owes nothing.
"""

from __future__ import annotations

import logging

from ...items import CheckItem, ErrorItem, MediaItem, PageItem
from .. import serialize
from ..deliveries import Delivery
from .leases import fail_stop

logger = logging.getLogger(__name__)


class DeliveryPipeline:
    def __init__(self, crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_item(self, item):
        if not isinstance(item, Delivery):
            return item
        link = self.crawler.spider.link
        stats = self.crawler.stats
        try:
            added = link.frontier.deliver(
                link.wid,
                item.lease,
                item.crawl,
                serialize.dumps(item.to_record()),
                item.children,
                item.max_pages,
            )
        except Exception:
            fail_stop(f"could not deliver crawl {item.crawl} request {item.rkey}")
        link.settled(item.lease)
        if added < 0:
            # The lease was taken back (this worker was silent too long): its new copy delivers.
            logger.warning("Dropped a late delivery of crawl %s: its lease expired", item.crawl)
            stats.inc_value("chanarchive/late_deliveries")
            return item
        stats.inc_value("chanarchive/deliveries")
        stats.inc_value("chanarchive/requests_queued", added)
        for entry in item.items:
            if isinstance(entry, PageItem):
                stats.inc_value("chanarchive/pages")
            elif isinstance(entry, MediaItem):
                outcome = "fetched" if entry.fetch is not None and entry.fetch.ok else "failed"
                stats.inc_value(f"chanarchive/media/{outcome}")
            elif isinstance(entry, CheckItem):
                stats.inc_value(f"chanarchive/deletion_checks/{entry.outcome}")
            elif isinstance(entry, ErrorItem):
                stats.inc_value(f"chanarchive/errors/{entry.kind}")
        return item
