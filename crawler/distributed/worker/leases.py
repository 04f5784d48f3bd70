"""A worker's leases: who it is, what it holds, and the heartbeat that keeps its leases alive.

Settings: ``REDIS_URL``, ``WORKER_LEASE_TTL`` (seconds a worker may stay
silent before its leases go back to the queue; default 15), and
``WORKER_POLL_INTERVAL`` (how often an idle worker looks for work; see
:mod:`.worker`).

:class:`WorkerLink` is the one object the worker's scheduler, pipeline and
middlewares share (``spider.link``). :class:`Heartbeat` is the extension
that keeps ``workers[wid]`` fresh while the worker runs, and on a clean
close hands back at once whatever it still holds.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid

from scrapy import signals
from twisted.internet import task

from ..frontier import Frontier

logger = logging.getLogger(__name__)

DEFAULT_LEASE_TTL = 15.0


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class WorkerLink:
    """This worker's identity and lease bookkeeping, shared by its Scrapy components.

    ``starting`` holds the leases popped but not yet handed to a download
    slot; ``waiting_for_host`` counts requests waiting for another worker to
    finish with their host. The scheduler leases no more while either is
    non-zero or a download slot has a queue: work goes to idle workers
    instead of piling up behind one host here.
    """

    def __init__(self, frontier: Frontier, lease_ttl: float = DEFAULT_LEASE_TTL) -> None:
        self.frontier = frontier
        self.wid = new_worker_id()
        self.lease_ttl = lease_ttl
        self.starting: set[int] = set()
        self.waiting_for_host = 0

    def settled(self, token: int | None) -> None:
        """The request of lease ``token`` reached a download slot, or its lease ended."""
        if token is not None:
            self.starting.discard(token)


def fail_stop(what: str) -> None:
    """Exit at once: Redis refused a step that must not be lost; the leases return by heartbeat.

    Scrapy only logs an exception raised in a scheduler or pipeline and goes
    on, which would drop a request silently. A supervisor restarts the worker.
    """
    logger.critical("%s: stopping this worker; its leases return to the queue", what, exc_info=True)
    logging.shutdown()
    os._exit(3)


class Heartbeat:
    """Extension: beat every ``ttl / 5`` seconds; release the leases on close."""

    def __init__(self, crawler) -> None:
        self.crawler = crawler
        self.loop: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler):
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(ext.reached_downloader, signal=signals.request_reached_downloader)
        return ext

    @property
    def link(self) -> WorkerLink:
        return self.crawler.spider.link

    def beat(self) -> None:
        try:
            self.link.frontier.heartbeat(self.link.wid, self.link.lease_ttl)
        except Exception as exc:
            # Harmless if Redis comes back: a lease that ran out meanwhile is re-queued,
            # and this worker's late delivery of it is dropped.
            logger.warning("heartbeat failed: %s", exc)

    def spider_opened(self, spider=None) -> None:
        self.beat()
        self.loop = task.LoopingCall(self.beat)
        self.loop.start(self.link.lease_ttl / 5, now=False)
        logger.info("worker %s started", self.link.wid)

    def reached_downloader(self, request, spider=None) -> None:
        token = request.meta.get("lease")
        if token is None:
            return
        self.link.settled(token)
        # Ask the engine for the next request now rather than at its next heartbeat.
        slot = getattr(self.crawler.engine, "_slot", None)
        if slot is not None:
            slot.nextcall.schedule()

    def spider_closed(self, spider=None, reason=None) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        released = self.link.frontier.reap(self.link.wid)
        logger.info(
            "worker %s stopped (%s): %d leases handed back", self.link.wid, reason, released
        )
