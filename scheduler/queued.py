"""A batch of due sources queued for the workers (``scheduler run --redis``), not crawled here.

Each source of the batch becomes one job on the Redis queue (as ``crawl
--redis`` makes them); the ingester begins and finishes its ``crawls`` row,
and publishes the finished row under the job's token. The batch thread waits
for those rows and reports each source the moment its row comes back, so
notifications, adaptive intervals and the log line follow as for a local
batch. A source's time limit, or the scheduler stopping, takes back a job no
ingester has begun (its run is recorded as failed with the reason) and ends
the row of one that has begun (the ingester then writes no more of it).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from archive import store
from archive.models import FAILED, PARTIAL
from archive.source import parse_source
from archive.store import open_archive

from .runner import TRIGGER, Batch

logger = logging.getLogger(__name__)

#: Called once per source of a batch, with its finished crawl row.
Finished = Callable[[Any, dict[str, Any], int | None], None]


def run_queued_batch(
    db_path: str,
    batch: Batch,
    redis_url: str,
    *,
    finished: Finished,
    stop: threading.Event,
    poll: float = 0.25,
) -> None:
    """Queue ``batch`` for the workers; ``finished(source, row, None)`` once per source."""
    from crawler.distributed.frontier import Frontier, connect
    from crawler.distributed.jobs import submit_crawls, withdraw_crawls

    frontier = Frontier(connect(redis_url))
    sources = [parse_source(s.key) for s in batch.sources]
    options = batch.sources[0].crawl.effective()
    tokens = submit_crawls(frontier, sources, options, trigger=TRIGGER)
    waiting = dict(zip(tokens, batch.sources, strict=True))
    started = time.monotonic()
    while waiting:
        for token, source in list(waiting.items()):
            raw = frontier.server.get(frontier.result(token))
            if raw is not None:
                del waiting[token]
                finished(source, json.loads(raw), None)
                continue
            limit = batch.time_limits[source.key]
            if stop.is_set():
                why = "stopped: the scheduler was stopped"
            elif time.monotonic() - started >= limit:
                why = f"timed out after {limit:g} s"
            else:
                continue
            del waiting[token]
            taken_back = withdraw_crawls(frontier, [token]) == 1
            finished(source, _end(db_path, source.key, token, why, taken_back), None)
        if waiting:
            stop.wait(poll)


def _end(db_path: str, key: str, token: str, why: str, taken_back: bool) -> dict[str, Any]:
    """The row of a run cut short: its job taken back (a failed row), or its begun row ended."""
    db = open_archive(db_path)
    try:
        row = db.execute("SELECT crawl_id FROM queued_crawls WHERE token = ?", [token]).fetchone()
        if row is None or taken_back:
            crawl_id = store.begin_crawl(db, key, trigger=TRIGGER)
            return store.finish_crawl(db, crawl_id, status=FAILED, reason=why)
        current = store.crawl_row(db, row[0])
        if current["status"] != "running":
            return current  # it finished meanwhile
        status = PARTIAL if current["pages"] else FAILED
        logger.info("%s: %s; the ingester writes no more of this crawl", key, why)
        return store.finish_crawl(db, row[0], status=status, reason=why)
    finally:
        db.close()
