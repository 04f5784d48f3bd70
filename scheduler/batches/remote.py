"""The Redis runner: each batch queued for the workers (``scheduler run --redis``), not crawled here.

Each source of the batch becomes one job on the Redis queue (as ``crawl
--redis`` makes them); the ingester begins and finishes its ``crawls`` row,
and publishes the finished row under the job's token. The batch thread waits
for those rows and reports each source the moment its row comes back, so
notifications, adaptive intervals and the log line follow as for a local
batch. A source's time limit, or the scheduler stopping, takes back a job no
ingester has begun (its run is recorded as failed with the reason) and ends
the row of one that has begun (the ingester then writes no more of it).
A row read back from Redis is checked first
(:func:`~crawler.distributed.jobs.read_result`); a job the ingester refused
comes back as a failed row without a crawl, recorded here with its reason.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from archive.errors import BadInput
from archive.models import FAILED, PARTIAL
from archive.source import parse_source
from archive.store import begin_crawl, crawl_row, finish_crawl, open_archive

from .runner import STOPPED, TRIGGER, Batch, Finished

logger = logging.getLogger(__name__)


class RedisRunner:
    """Queues each batch on a Redis for the workers (see :class:`~.runner.BatchRunner`).

    Nothing is started ahead and nothing is held between batches; the Redis
    is reached only when a batch runs.
    """

    def __init__(self, db_path: str, redis_url: str, *, poll: float = 0.25) -> None:
        self.db_path = db_path
        self.redis_url = redis_url
        self.poll = poll

    def warm_up(self) -> None:
        pass  # the workers are running already

    def tidy(self) -> float | None:
        return None

    def launch(self, batch: Batch, *, more: bool) -> None:
        logger.info("%s, queued for the workers", batch.describe())

    def run(self, batch: Batch, *, finished: Finished, stop: threading.Event) -> None:
        """Queue ``batch`` for the workers; ``finished(source, row, None)`` once per source."""
        from crawler.distributed.frontier import Frontier, connect
        from crawler.distributed.jobs import submit_crawls, withdraw_crawls

        frontier = Frontier(connect(self.redis_url))
        sources = [parse_source(s.key) for s in batch.sources]
        options = batch.sources[0].crawl.effective()
        tokens = submit_crawls(frontier, sources, options, trigger=TRIGGER)
        waiting = dict(zip(tokens, batch.sources, strict=True))
        started = time.monotonic()
        while waiting:
            for token, source in list(waiting.items()):
                row = _result(frontier, token)
                if row is not None:
                    del waiting[token]
                    if row["id"] is None:  # the ingester refused the job: no row has it yet
                        row = _end(self.db_path, source.key, token, row["reason"], True)
                    finished(source, row, None)
                    continue
                limit = batch.time_limits[source.key]
                if stop.is_set():
                    why = STOPPED
                elif time.monotonic() - started >= limit:
                    why = f"timed out after {limit:g} s"
                else:
                    continue
                del waiting[token]
                taken_back = withdraw_crawls(frontier, [token]) == 1
                finished(source, _end(self.db_path, source.key, token, why, taken_back), None)
            if waiting:
                stop.wait(self.poll)

    def close(self) -> None:
        pass


def _result(frontier, token: str) -> dict[str, Any] | None:
    """The finished row the ingester published for ``token``, if it did (one that cannot be
    read is not the ingester's: logged, and waited past)."""
    from crawler.distributed.jobs import read_result

    raw = frontier.server.get(frontier.result(token))
    if raw is None:
        return None
    try:
        return read_result(raw)
    except BadInput as exc:
        logger.warning("the finished row of job %s in Redis cannot be read: %s", token, exc)
        return None


def _end(db_path: str, key: str, token: str, why: str, taken_back: bool) -> dict[str, Any]:
    """The row of a run cut short: its job taken back (a failed row), or its begun row ended."""
    db = open_archive(db_path)
    try:
        row = db.execute("SELECT crawl_id FROM queued_crawls WHERE token = ?", [token]).fetchone()
        if row is None or taken_back:
            crawl_id = begin_crawl(db, key, trigger=TRIGGER)
            return finish_crawl(db, crawl_id, status=FAILED, reason=why)
        current = crawl_row(db, row[0])
        if current["status"] != "running":
            return current  # it finished meanwhile
        status = PARTIAL if current["pages"] else FAILED
        logger.info("%s: %s; the ingester writes no more of this crawl", key, why)
        return finish_crawl(db, row[0], status=status, reason=why)
    finally:
        db.close()
