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
  workers that can start it;
- a leased request is read only through
  :func:`~crawler.distributed.requests.read_request`, never scrapy-redis's
  ``request_from_dict`` (which imports whatever class a ``_class`` key names
  and calls whatever method a callback names). One that does not fit is
  dropped, and its lease answered at once, so it never comes back: by a
  *refused* delivery when it names its crawl and key (the ingester keeps the
  reason with the crawl), else by dropping the lease. Each is one log line
  and counted (``chanarchive/requests_refused``).
"""

from __future__ import annotations

import logging

import redis
from scrapy_redis.queue import Base
from scrapy_redis.scheduler import Scheduler

from archive.errors import BadInput

from .. import serialize
from ..deliveries import refused_delivery
from ..frontier import Child, request_key
from ..requests import CrawlContext, queued_form, read_request, refusal_of
from .leases import fail_stop

logger = logging.getLogger(__name__)

#: The most refused requests one look at the queue drops before it yields to the engine.
MAX_REFUSED_PER_POP = 100


class LeaseQueue(Base):
    """The shared priority queue (a sorted set) whose pop leases a request to this worker."""

    def __init__(self, server, spider, key, serializer=None):
        super().__init__(server, spider, key, serializer)
        self.link = spider.link

    def __len__(self) -> int:
        return self.server.zcard(self.key)

    def push(self, request) -> bool:
        token = request.meta.get("lease")
        data = queued_form(request, spider=self.spider)  # the lease is this worker's: left out
        meta = data["meta"]
        if token is not None:
            # A retry or redirect of a leased request: it takes the lease's place in the queue.
            self.link.settled(token)
            member = serialize.dumps(data)
            return self.link.frontier.continue_(self.link.wid, token, -request.priority, member)
        try:
            context = CrawlContext.from_meta(meta)
        except BadInput as exc:
            logger.warning("Not queued (%s): %s", exc, request.url)
            return False
        meta["rkey"] = request_key(request.method, request.url)
        child = Child(meta["rkey"], -request.priority, serialize.dumps(data))
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
        for _ in range(MAX_REFUSED_PER_POP):
            try:
                found = self.link.frontier.pop(self.link.wid, self.link.lease_ttl)
            except redis.RedisError as exc:
                logger.warning("Could not take a request from Redis: %s", exc)
                return None
            if found is None:
                return None
            token, member = found
            try:
                request = read_request(member, self.spider)
            except Exception as exc:  # BadInput says what; anything else must not hold the lease
                self._refuse(token, member, exc)
                continue
            request.meta["lease"] = token
            self.link.starting.add(token)
            return request
        return None

    def _refuse(self, token: int, member: str, exc: Exception) -> None:
        """A leased request that cannot be read: answered now, so it never comes back."""
        refusal = refusal_of(member)
        logger.warning(
            "Dropped a queued request that cannot be read (crawl %s): %s",
            refusal.crawl if refusal.crawl is not None else "unknown", exc,
        )  # fmt: skip
        stats = getattr(getattr(self.spider, "crawler", None), "stats", None)
        if stats is not None:
            stats.inc_value("chanarchive/requests_refused")
        frontier, wid = self.link.frontier, self.link.wid
        try:
            if refusal.crawl is not None and refusal.rkey is not None:
                reason = str(exc) if isinstance(exc, BadInput) else repr(exc)
                record = refused_delivery(refusal.crawl, refusal.rkey, reason)
                frontier.deliver(wid, token, refusal.crawl, serialize.dumps(record), [])
            else:
                frontier.drop(wid, token)
        except redis.RedisError as exc:
            # The lease stays this worker's until it stops; then it comes back and is refused again.
            logger.warning("Could not answer the lease of a refused request: %s", exc)


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
