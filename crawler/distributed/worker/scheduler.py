"""The worker's scheduler: scrapy-redis's, with leases and a per-crawl duplicate filter.

Settings: ``SCHEDULER = "crawler.distributed.worker.scheduler.LeaseScheduler"``,
``SCHEDULER_QUEUE_CLASS = "crawler.distributed.worker.scheduler.LeaseQueue"``,
``SCHEDULER_SERIALIZER = "crawler.distributed.serialize"``, ``REDIS_URL``.

What differs from the stock ``scrapy_redis.scheduler.Scheduler``:

- a pop *leases* the request to this worker (:meth:`Frontier.pop`), so a
  worker that dies loses nothing;
- requests are deduplicated per crawl, inside the atomic enqueue, never
  forever per spider (the stock filter would skip every page a scheduled
  crawl fetched last time); the stock duplicate filter is not built;
- closing never flushes: the queue belongs to every worker;
- the stats are counted without the ``spider`` argument Scrapy 2.19 deprecates;
- a worker leases no new request while one of its own waits (for a host
  another worker is using, or in a busy download slot), so work goes to the
  workers that can start it.
"""

from __future__ import annotations

import logging

import redis
from scrapy.utils.request import request_from_dict
from scrapy_redis.queue import Base
from scrapy_redis.scheduler import Scheduler

from archive.errors import BadInput

from ..frontier import Child, request_key
from ..requests import CrawlContext
from .leases import fail_stop

logger = logging.getLogger(__name__)


class LeaseQueue(Base):
    """The shared priority queue (a sorted set) whose pop leases a request to this worker."""

    def __init__(self, server, spider, key, serializer=None):
        super().__init__(server, spider, key, serializer)
        self.link = spider.link

    def __len__(self) -> int:
        return self.server.zcard(self.key)

    def push(self, request) -> bool:
        data = request.to_dict(spider=self.spider)
        meta = data["meta"] = dict(data["meta"])
        token = meta.pop("lease", None)
        if token is not None:
            # A retry or redirect of a leased request: it takes the lease's place in the queue.
            self.link.settled(token)
            member = self.serializer.dumps(data)
            return self.link.frontier.continue_(self.link.wid, token, -request.priority, member)
        try:
            context = CrawlContext.from_meta(meta)
        except BadInput as exc:
            logger.warning("Not queued (%s): %s", exc, request.url)
            return False
        meta["rkey"] = request_key(request.method, request.url)
        child = Child(meta["rkey"], -request.priority, self.serializer.dumps(data))
        return self.link.frontier.enqueue(context.id, child, context.options.max_pages)

    def _busy(self) -> bool:
        """A request of this worker waits: lease no more for now."""
        if self.link.starting or self.link.waiting_for_host:
            return True
        downloader = getattr(self.spider.crawler.engine, "downloader", None)
        slots = getattr(downloader, "slots", {}) or {}
        return any(getattr(slot, "queue", None) for slot in slots.values())

    def pop(self, timeout: int = 0):
        if self._busy():
            return None
        try:
            found = self.link.frontier.pop(self.link.wid, self.link.lease_ttl)
        except redis.RedisError as exc:
            logger.warning("Could not take a request from Redis: %s", exc)
            return None
        if found is None:
            return None
        token, member = found
        data = self.serializer.loads(member)
        data["meta"]["lease"] = token
        self.link.starting.add(token)
        return request_from_dict(data, spider=self.spider)


class LeaseScheduler(Scheduler):
    def open(self, spider) -> None:
        self.spider = spider
        self.queue = LeaseQueue(
            server=self.server,
            spider=spider,
            key=self.queue_key % {"spider": spider.name},
            serializer=self.serializer,
        )

    def close(self, reason) -> None:
        """Nothing to flush: the queue is every worker's. The leases go back on spider_closed."""

    def enqueue_request(self, request) -> bool:
        try:
            queued = self.queue.push(request)
        except Exception:
            fail_stop(f"could not queue {request.url}")
        if self.stats:
            self.stats.inc_value("scheduler/enqueued/redis" if queued else "scheduler/lost_lease")
        return queued

    def next_request(self):
        request = self.queue.pop()
        if request is not None and self.stats:
            self.stats.inc_value("scheduler/dequeued/redis")
        return request

    def has_pending_requests(self) -> bool:
        return len(self.queue) > 0
