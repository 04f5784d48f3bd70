"""The local runner: each batch crawled here, by one child process, each source ending as its own row.

The runner begins a ``crawls`` row for every source of the batch (so it
can always close them, whatever happens to the child), hands the batch to
a crawl process (:mod:`.processes`, which keeps one started ahead for the
next batch), and watches the rows: each source is reported finished the
moment its row is closed — by the child when the source is done or its
time limit passed, or here when the child crashed, overran, or was
stopped. A source's row is never left ``running`` and is reported
exactly once.

The child enforces each source's time limit itself; the watch here is the
backstop for a child too wedged to do so (a page that keeps the CPU busy):
a source past its limit by more than the stop grace (plus
:data:`BACKSTOP_SLACK`) gets the process stopped, and the batch's
unfinished sources end with the reason.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from datetime import UTC, datetime
from typing import Any

import sqlite_utils

from archive.models import OK, RUNNING
from archive.store import begin_crawls, crawl_row, cut_crawl, open_archive
from archive.store.crawls import set_crawl_reason
from archive.times import to_datetime

from ..sources.scheduled import ScheduledSource
from .processes import CrawlProcess, CrawlProcesses
from .runner import STOPPED, TRIGGER, Batch, Finished

logger = logging.getLogger(__name__)

#: Seconds past a source's limit and the stop grace before the child is taken for wedged.
BACKSTOP_SLACK = 5.0
#: Seconds between two looks for such a source.
BACKSTOP_EVERY = 1.0


def batch_spec(db_path: str, crawl_ids: dict[str, int], batch: Batch) -> dict[str, Any]:
    """The line a batch crawl process reads on stdin (``crawler.batch``): what, into which rows, how."""
    return {
        "db": os.fspath(db_path),
        "crawl_ids": crawl_ids,
        "time_limits": batch.time_limits,
        "options": batch.sources[0].crawl.effective().to_record(),
    }


class LocalRunner:
    """Crawls each batch here, in a child process of its own (see :class:`~.runner.BatchRunner`)."""

    def __init__(self, db_path: str, *, stop_grace: float = 5.0, poll: float = 0.1) -> None:
        self.db_path = db_path
        self.stop_grace = stop_grace  # seconds a stopped crawl gets to close before it is killed
        self.poll = poll
        self.processes = CrawlProcesses()
        self._handed: dict[int, CrawlProcess] = {}  # batch number -> its process, until it runs
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        self.processes.warm_up()

    def tidy(self) -> float | None:
        return self.processes.tidy()

    def launch(self, batch: Batch, *, more: bool) -> None:
        """Give ``batch`` a process (the one started ahead), and start the next one ahead."""
        process = self.processes.take()
        if more:
            self.processes.warm_up()  # for the batch after this one
        with self._lock:
            self._handed[batch.number] = process
        logger.info("%s, crawl process %s", batch.describe(), process.pid)

    def run(self, batch: Batch, *, finished: Finished, stop: threading.Event) -> None:
        """Crawl ``batch`` with its process; ``finished(source, row, returncode)`` once per source."""
        with self._lock:
            process = self._handed.pop(batch.number, None)
        if process is None:  # not launched: a process of its own
            process = self.processes.take()
        db = open_archive(self.db_path)
        try:
            _Watch(
                self.db_path, db, batch, process, finished, stop, self.stop_grace, self.poll
            ).run()
        finally:
            process.close()
            db.close()

    def close(self) -> None:
        self.processes.close()


class _Watch:
    """The rows of one batch, watched until every one is closed and reported."""

    def __init__(
        self,
        db_path: str,
        db: sqlite_utils.Database,
        batch: Batch,
        process: CrawlProcess,
        finished: Finished,
        stop: threading.Event,
        stop_grace: float,
        poll: float,
    ) -> None:
        self.db_path = db_path
        self.db: sqlite_utils.Database = db
        self.batch = batch
        self.process = process
        self.finished = finished
        self.stop = stop
        self.stop_grace = stop_grace
        self.poll = poll
        self.by_id: dict[int, ScheduledSource] = {}
        self.begun_at = ""
        self._checked = time.monotonic()

    def run(self) -> None:
        ids = begin_crawls(self.db, self.batch.keys, trigger=TRIGGER)
        sources = {s.key: s for s in self.batch.sources}
        self.by_id = {crawl_id: sources[key] for key, crawl_id in ids.items()}
        self.begun_at = crawl_row(self.db, min(self.by_id))["started_at"]
        spec = batch_spec(self.db_path, ids, self.batch)
        why: str | None = None
        overdue: tuple[str, float] | None = None
        if not self.process.hand(spec):
            why = self.process.error or "could not start the crawl process"
        returncode = None
        while self.by_id and why is None and overdue is None:
            if self.stop.is_set():
                why = STOPPED
                break
            returncode = self.process.returncode(timeout=self.poll)
            overdue = self._report_closed()
            if returncode is not None:
                break
        if why is not None or overdue is not None:
            self.process.stop(self.stop_grace)
        elif not self.by_id:
            # Every row is closed: the process is finishing; give it the grace to exit.
            if self.process.returncode(timeout=self.stop_grace) is None:
                self.process.stop(self.stop_grace)
        returncode = self.process.returncode(timeout=self.stop_grace)
        self._settle(why, overdue, returncode)

    def _report_closed(self) -> tuple[str, float] | None:
        """Report the rows the child closed; a source overrunning its limit, if any."""
        lo, hi = min(self.by_id), max(self.by_id)
        closed = self.db.execute(
            "SELECT id FROM crawls WHERE id BETWEEN ? AND ? AND status != ?", [lo, hi, RUNNING]
        ).fetchall()
        for (crawl_id,) in closed:
            if crawl_id in self.by_id:
                self._report(crawl_id, crawl_row(self.db, crawl_id), None)
        now = time.monotonic()
        if not self.by_id or now - self._checked < BACKSTOP_EVERY:
            return None
        self._checked = now
        return self._overdue(lo, hi)

    def _overdue(self, lo: int, hi: int) -> tuple[str, float] | None:
        """A source past its time limit (and the grace) that the child has not cut off."""
        now = datetime.now(UTC)
        for crawl_id, started_at in self.db.execute(
            "SELECT id, started_at FROM crawls WHERE id BETWEEN ? AND ? AND status = ?",
            [lo, hi, RUNNING],
        ).fetchall():
            source = self.by_id.get(crawl_id)
            limit = self.batch.time_limits.get(source.key) if source else None
            if not limit or started_at == self.begun_at:
                continue  # no limit, or not started yet: its clock is not running
            started = to_datetime(started_at)
            if started is None:
                continue
            late = (now - started).total_seconds() - limit
            if late > self.stop_grace + BACKSTOP_SLACK:
                return source.key, limit
        return None

    def _report(self, crawl_id: int, row: dict[str, Any], returncode: int | None) -> None:
        source = self.by_id.pop(crawl_id)
        try:
            self.finished(source, row, returncode)
        except Exception:  # one source's bookkeeping never stops the batch
            logger.exception("%s: could not report the finished run", source.key)

    def _settle(
        self, why: str | None, overdue: tuple[str, float] | None, returncode: int | None
    ) -> None:
        """Close what the child left open, say why, and report every source not reported yet."""
        if overdue is not None:
            key, limit = overdue
            logger.warning(
                "%s: past its time limit and its crawl process did not cut it off: "
                "the process of %s was stopped",
                key,
                self.batch.describe(),
            )
        for crawl_id in sorted(self.by_id):
            source = self.by_id[crawl_id]
            row = crawl_row(self.db, crawl_id)
            if overdue is not None:
                key, limit = overdue
                reason = (
                    f"timed out after {limit:g} s"
                    if source.key == key
                    else f"stopped: its batch's crawl process was stopped ({key} overran its time limit)"
                )
            elif why is not None:
                reason = why
            else:
                detail = self.process.last_line() or "no output"
                reason = f"the crawl process ended with status {returncode}: {detail}"
            if row["status"] == RUNNING:
                row = cut_crawl(self.db, crawl_id, reason)
            elif why and row["status"] != OK and (row["reason"] or "").startswith("stopped:"):
                # The child closed it on our SIGTERM ("stopped: shutdown"): say why.
                set_crawl_reason(self.db, crawl_id, why)
                row = crawl_row(self.db, crawl_id)
            self._report(crawl_id, row, returncode)
