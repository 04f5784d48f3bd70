"""A crawl worker (``chanarchive worker``): the local crawl's Scrapy settings on a shared frontier.

Settings a worker reads besides Scrapy's own (``-s NAME=VALUE``):
``POLITENESS_SCOPE`` (:mod:`.hostturns`), ``WORKER_LEASE_TTL``
(:mod:`.leases`), ``WORKER_POLL_INTERVAL`` (seconds between an idle
worker's looks at the queue; default 0.5). ``DOWNLOAD_DELAY`` and
``DOWNLOAD_SLOTS`` keep their meaning: in the ``cluster`` scope the delay is
applied across workers (in Redis) instead of in each worker.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from scrapy.settings import Settings

from archive.errors import BadInput

from ...stopping import CrawlProcess
from ..frontier import Frontier, connect, queue_key
from .leases import DEFAULT_LEASE_TTL, WorkerLink
from .spider import WorkerSpider

#: ``POLITENESS_SCOPE`` values (see :mod:`.hostturns`).
SCOPES = ("cluster", "worker")
#: Scrapy's idle engine asks its scheduler for work every 5 s; a worker asks more often.
DEFAULT_POLL_INTERVAL = 0.5


def worker_settings(
    redis_url: str,
    overrides: dict[str, Any] | None = None,
    *,
    verbose: bool = False,
    allow_private_hosts: bool = False,
) -> Settings:
    """The settings of a worker: chanarchive's crawl settings, ``overrides``, then the wiring."""
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    for name, value in (overrides or {}).items():
        settings.set(name, value, priority="cmdline")
    if verbose:
        settings.set("LOG_LEVEL", "INFO", priority="cmdline")
    scope = settings.get("POLITENESS_SCOPE", "cluster")
    if scope not in SCOPES:
        raise BadInput(f"POLITENESS_SCOPE takes {' or '.join(SCOPES)}, not {scope!r}")
    for name in ("WORKER_LEASE_TTL", "WORKER_POLL_INTERVAL"):
        if name in settings and settings.getfloat(name) <= 0:
            raise BadInput(f"{name} must be above zero")
    wiring: dict[str, Any] = {
        "REDIS_URL": redis_url,
        "SCHEDULER": "crawler.distributed.worker.scheduler.LeaseScheduler",
        "SCHEDULER_QUEUE_CLASS": "crawler.distributed.worker.scheduler.LeaseQueue",
        "SCHEDULER_SERIALIZER": "crawler.distributed.serialize",
        "SCHEDULER_QUEUE_KEY": queue_key(),
        "SCHEDULER_PERSIST": True,
        # Named for scrapy-redis's Scheduler.from_settings, never built: the duplicate
        # filter is per crawl, in the queue's atomic enqueue (see .scheduler).
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        # A worker writes nothing itself: its one pipeline hands everything to the ingester.
        "ITEM_PIPELINES": {"crawler.distributed.worker.pipeline.DeliveryPipeline": 300},
        # The project's middlewares and extensions, with these in place of the local ones.
        "DOWNLOADER_MIDDLEWARES": {
            **settings.getdict("DOWNLOADER_MIDDLEWARES"),
            "crawler.downloadermiddlewares.backoff.HostBackoffMiddleware": None,
            # The ingester closes the crawl rows: a worker has none (and no archive).
            "crawler.downloadermiddlewares.lifecycle.SourceLifecycle": None,
            "crawler.distributed.worker.hostturns.SharedBackoffMiddleware": 560,
            "crawler.distributed.worker.hostturns.HostTurnMiddleware": 800,
        },
        "EXTENSIONS": {
            **settings.getdict("EXTENSIONS"),
            "crawler.extensions.progress.Progress": None,
            "crawler.distributed.worker.leases.Heartbeat": 500,
        },
        "CHANARCHIVE_DB": None,
        "CHANARCHIVE_PROGRESS": False,
        # Whoever writes to Redis names the sources and the options: a private address is
        # reached only when the worker's own operator allows it (`worker --allow-private-hosts`).
        "CHANARCHIVE_ALLOW_PRIVATE_HOSTS": allow_private_hosts,
    }
    if scope == "cluster":
        slots = settings.getdict("DOWNLOAD_SLOTS")
        wiring["CHANARCHIVE_HOST_DELAY"] = settings.getfloat("DOWNLOAD_DELAY")
        wiring["CHANARCHIVE_HOST_DELAYS"] = {
            host: float(slot["delay"]) for host, slot in slots.items() if "delay" in slot
        }
        # Applied across workers by HostTurnMiddleware instead of in this worker alone.
        wiring["DOWNLOAD_DELAY"] = 0
        wiring["DOWNLOAD_SLOTS"] = {host: {**slot, "delay": 0} for host, slot in slots.items()}
    for name, value in wiring.items():
        settings.set(name, value, priority="cmdline")
    return settings


def run_worker(
    redis_url: str,
    overrides: dict[str, Any] | None = None,
    *,
    verbose: bool = False,
    allow_private_hosts: bool = False,
    started: Callable[[str], None] | None = None,
) -> str | None:
    """Run a worker until it is stopped (SIGINT / SIGTERM); returns Scrapy's finish reason.

    ``started`` is told the worker's id once it is connected, before it takes work.
    """
    settings = worker_settings(
        redis_url, overrides, verbose=verbose, allow_private_hosts=allow_private_hosts
    )
    frontier = Frontier(connect(redis_url))
    link = WorkerLink(frontier, settings.getfloat("WORKER_LEASE_TTL", DEFAULT_LEASE_TTL))
    if started is not None:
        started(link.wid)
    from scrapy.core.engine import ExecutionEngine

    ExecutionEngine._SLOT_HEARTBEAT_INTERVAL = settings.getfloat(
        "WORKER_POLL_INTERVAL", DEFAULT_POLL_INTERVAL
    )
    process = CrawlProcess(settings)
    crawler = process.create_crawler(WorkerSpider)
    process.crawl(crawler, link=link)
    process.start()
    return crawler.stats.get_value("finish_reason") if crawler.stats else None
