"""The crawls of one queue, as the ingester runs them: begun from jobs, finished when done.

1. A *job* (one source to crawl, :class:`~crawler.distributed.jobs.Job`)
   becomes a ``crawls`` row, named by the job's token so that a job handed
   over twice begins one crawl, and the crawl's seed request, made from the
   row (its source and options as recorded). The job is acknowledged only
   then. A job that cannot be read (:func:`~crawler.distributed.jobs.read_job`,
   whatever its shape) is dropped with one log line and counted; when it
   names a token no crawl has, a failed row with the reason is published
   under it, so whoever waits for it is told.
2. A crawl with no request pending is finished (status from its pages and
   errors, as a local crawl's), and its row published under the job's token
   for ``crawl --redis``; a finished row an earlier ingester did not get to
   publish is published at start.
3. Running crawls of this queue that Redis no longer knows (it was flushed)
   end as failed, saying so.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import redis
import sqlite_utils

from archive import store
from archive.errors import BadInput
from archive.models import FAILED, PARTIAL, RUNNING
from archive.store import queued

from ...writer import ArchiveWriter, Counts
from ..frontier import Frontier
from ..jobs import MAX_JOB, Job, job_from_raw, read_job, refused_result, token_of
from ..requests import CrawlContext, context_of, seed_child
from ..serialize import read_json

logger = logging.getLogger(__name__)


def queue_name(url: str) -> str:
    """How the archive names a Redis queue: host:port/db, never the password."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return f"unix:{parts.path}"
    host = parts.hostname or "localhost"
    db = parts.path.strip("/") or "0"
    return f"{host}:{parts.port or 6379}/{db}"


@dataclass
class IngestStats:
    """What an ingester did; the writer's counts (pages, media, checks …) in :attr:`counts`."""

    jobs: int = 0
    deliveries: int = 0
    repeated: int = 0  # deliveries already written (handed over again)
    late: int = 0  # deliveries of crawls already finished
    reaped: int = 0  # leases of dead workers put back
    dropped: int = 0  # jobs and deliveries that could not be read, or were not asked for
    refused: int = 0  # queued requests a worker could not read (each kept with its crawl)
    finished: list[dict[str, Any]] = field(default_factory=list)
    counts: Counts = field(default_factory=Counts)

    @property
    def pages(self) -> int:
        return self.counts["chanarchive/pages"]

    @property
    def media(self) -> int:
        """Media deliveries written (a file, or why it could not be fetched)."""
        return self.counts["chanarchive/media/fetched"] + self.counts["chanarchive/media/failed"]

    @property
    def checks(self) -> int:
        """Looks at missing posts' embeds written."""
        return sum(
            v for k, v in self.counts.items() if k.startswith("chanarchive/deletion_checks/")
        )


class QueuedCrawls:
    """The crawls of one queue in one archive."""

    def __init__(
        self,
        frontier: Frontier,
        db: sqlite_utils.Database,
        queue: str,
        writer: ArchiveWriter,
        stats: IngestStats,
        *,
        result_ttl: int,
    ) -> None:
        self.frontier = frontier
        self.server = frontier.server
        self.db = db
        self.queue = queue
        self.writer = writer
        self.stats = stats
        self.result_ttl = result_ttl

    # -- jobs
    def take_jobs(self, limit: int = 20) -> int:
        """Begin up to ``limit`` queued jobs; returns how many were taken."""
        taken = 0
        f = self.frontier
        while taken < limit:
            raw = self.server.lmove(f.jobs, f.jobs_processing, "LEFT", "RIGHT")
            if raw is None:
                break
            taken += 1
            try:
                self.begin_raw(raw)
            except (BadInput, redis.ResponseError) as exc:  # Redis: a key of another type
                self.refuse_job(raw, exc)
            self.server.lrem(f.jobs_processing, 1, raw)
        return taken

    def begin_raw(self, raw: Any) -> None:
        """The crawl of a job as Redis holds it (see :meth:`begin`)."""
        job = job_from_raw(raw)
        self._begin(job)

    def begin(self, record: Any) -> None:
        """The crawl of a job record: its row (once per token) and its seed request."""
        job = read_job(record)
        self._begin(job)

    def _begin(self, job: Job) -> None:
        crawl_id, new = queued.begin_queued_crawl(
            self.db, job.token, job.source.key, queue=self.queue, trigger=job.trigger,
            options=job.options.to_record(),
        )  # fmt: skip
        if not self.running(crawl_id):
            return
        # The row's own source and options: a job handed over again changes nothing.
        context = self.context(crawl_id)
        self.frontier.enqueue(crawl_id, seed_child(context), context.options.max_pages)
        if new:
            self.stats.jobs += 1
            logger.info("crawl %d of %s begun", crawl_id, job.source.key)

    def refuse_job(self, raw: Any, exc: Exception) -> None:
        """A job that cannot be read: dropped, and its waiter told when it names a new token."""
        self.stats.dropped += 1
        logger.error("dropped a job that cannot be read (%s): %r", exc, raw[:200])
        try:
            record = read_json(raw, "a job", limit=MAX_JOB)
        except BadInput:
            return
        token = token_of(record)
        if token is None or queued.token_known(self.db, token):
            return
        row = refused_result(record, str(exc))
        self.server.set(self.frontier.result(token), json.dumps(row), ex=self.result_ttl, nx=True)
        self.server.publish(f"{self.frontier.prefix}:finished", token)

    def running(self, crawl_id: int) -> bool:
        """Whether crawl ``crawl_id`` is a running crawl of this queue."""
        return queued.queued_crawl_status(self.db, crawl_id, self.queue) == RUNNING

    def ended_here(self, crawl_id: int) -> bool:
        """Whether crawl ``crawl_id`` is a crawl of this queue that has ended."""
        status = queued.queued_crawl_status(self.db, crawl_id, self.queue)
        return status is not None and status != RUNNING

    def context(self, crawl_id: int) -> CrawlContext:
        """What the side requests of crawl ``crawl_id`` carry: its source and options."""
        sides = self.writer.crawl(crawl_id)
        return context_of(crawl_id, sides.source, sides.options)

    # -- ends
    def check(self, crawl_ids: set[int] | None) -> None:
        """Finish the crawls (those given, else every running one) with no request left."""
        running = {
            crawl_id: token for token, crawl_id in queued.running_queued_crawls(self.db, self.queue)
        }
        for crawl_id in sorted(crawl_ids if crawl_ids is not None else running):
            token = running.get(crawl_id)
            if token is None:
                continue
            seen, pending = self.frontier.seen(crawl_id), self.frontier.pending(crawl_id)
            if self.server.exists(seen) and self.server.scard(pending) == 0:
                self.finish(token, crawl_id)

    def halt(self, crawl_id: int) -> None:
        """End crawl ``crawl_id`` now: a page of it was refused whole (another channel's,
        another origin's), and it asks for nothing more (its queued requests are dropped
        as late deliveries). Its status follows from its pages and errors, the refusal
        among them."""
        running = dict((c, t) for t, c in queued.running_queued_crawls(self.db, self.queue))
        if crawl_id in running:
            logger.warning("crawl %d: a page of it was refused: it is ended", crawl_id)
            self.finish(running[crawl_id], crawl_id)
        else:
            self.writer.forget(crawl_id)

    def finish(self, token: str, crawl_id: int, **how: Any) -> None:
        row = queued.finish_queued_crawl(self.db, crawl_id, **how)
        self.announce(token, row)
        self.ended(crawl_id)
        self.stats.finished.append(row)
        logger.info(
            "crawl %d of %s finished: %s, %d pages, posts %d new / %d changed / %d deleted, "
            "%d errors",
            crawl_id, row["source"], row["status"], row["pages"], row["posts_new"],
            row["posts_changed"], row["posts_deleted"], row["errors"],
        )  # fmt: skip

    def ended(self, crawl_id: int) -> None:
        """Nothing more of crawl ``crawl_id`` will be written: drop what it kept."""
        self.server.delete(*self.frontier.crawl_keys(crawl_id))
        self.writer.forget(crawl_id)

    def announce(self, token: str, row: dict[str, Any]) -> None:
        self.server.set(
            self.frontier.result(token), json.dumps(row, default=str), ex=self.result_ttl
        )
        self.server.publish(f"{self.frontier.prefix}:finished", token)
        queued.mark_announced(self.db, token)

    def announce_finished(self) -> None:
        """Rows finished by an ingester that died before it said so."""
        for token, crawl_id in queued.unannounced_crawls(self.db, self.queue):
            self.announce(token, store.crawl_row(self.db, crawl_id))
            self.server.delete(*self.frontier.crawl_keys(crawl_id))

    def close_lost(self) -> None:
        """Running crawls of this queue that Redis no longer knows (it was flushed) end as failed."""
        for token, crawl_id in queued.running_queued_crawls(self.db, self.queue):
            if not self.server.exists(self.frontier.seen(crawl_id)):
                logger.warning("crawl %d: its requests are gone from Redis", crawl_id)
                pages = store.crawl_row(self.db, crawl_id)["pages"]
                self.finish(
                    token,
                    crawl_id,
                    status=PARTIAL if pages else FAILED,
                    reason="lost: its queued requests are gone from Redis (was it flushed?)",
                )
