"""One scheduled batch: its sources crawled by one child process, each ending as its own row.

The scheduler begins a ``crawls`` row for every source of the batch (so it
can always close them, whatever happens to the child), hands the batch to
a crawl process (:mod:`scheduler.processes`), and watches the rows: each
source is reported finished the moment its row is closed — by the child
when the source is done or its time limit passed, or here when the child
crashed, overran, or was stopped. A source's row is never left
``running`` and is reported exactly once.

The child enforces each source's time limit itself; the watch here is the
backstop for a child too wedged to do so (a page that keeps the CPU busy):
a source past its limit by more than the stop grace (plus
:data:`BACKSTOP_SLACK`) gets the process stopped, and the batch's
unfinished sources end with the reason.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlite_utils

from archive import store
from archive.models import OK, RUNNING
from archive.store import open_archive

from .processes import CrawlProcess
from .registry import ScheduledSource

logger = logging.getLogger(__name__)

TRIGGER = "scheduled"
STOPPED = "stopped: the scheduler was stopped"
#: Seconds past a source's limit and the stop grace before the child is taken for wedged.
BACKSTOP_SLACK = 5.0
#: Seconds between two looks for such a source.
BACKSTOP_EVERY = 1.0


@dataclass
class RunOutcome:
    """What one scheduled run of a source did: its ``crawls`` row and how it ended."""

    key: str
    status: str  # ok / partial / failed
    reason: str | None
    duration: float
    rows: list[dict[str, Any]] = field(default_factory=list)
    returncode: int | None = None

    @classmethod
    def from_row(cls, key: str, row: dict[str, Any], returncode: int | None = None) -> RunOutcome:
        started = datetime.fromisoformat(row["started_at"])
        finished = datetime.fromisoformat(row["finished_at"]) if row.get("finished_at") else None
        duration = (finished - started).total_seconds() if finished else 0.0
        return cls(key, row["status"], row.get("reason"), max(duration, 0.0), [row], returncode)

    def totals(self) -> dict[str, int]:
        keys = ("pages", "posts_new", "posts_changed", "posts_unchanged", "posts_deleted", "errors")
        return {k: sum(int(r.get(k) or 0) for r in self.rows) for k in keys}

    def summary(self) -> str:
        """One log line: source, status, pages, new/changed/deleted, duration (and why)."""
        t = self.totals()
        line = (
            f"{self.key}: {self.status}, {t['pages']} pages, {t['posts_new']} new / "
            f"{t['posts_changed']} changed / {t['posts_deleted']} deleted, "
            f"{t['errors']} errors, {self.duration:.1f}s"
        )
        if self.reason and self.status != OK:
            line += f" ({self.reason})"
        return line


@dataclass
class Batch:
    """Sources crawled together by one process: the same crawl options, whole hosts."""

    number: int
    sources: list[ScheduledSource]
    time_limits: dict[str, float]

    @property
    def keys(self) -> list[str]:
        return [s.key for s in self.sources]

    @property
    def hosts(self) -> list[str]:
        return sorted({s.host for s in self.sources})

    def describe(self) -> str:
        hosts = self.hosts
        shown = ", ".join(hosts[:3]) + (f" and {len(hosts) - 3} more" if len(hosts) > 3 else "")
        sources = f"{len(self.sources)} source" + ("s" if len(self.sources) != 1 else "")
        return f"batch {self.number}: {sources} of {len(hosts)} host{'s' * (len(hosts) != 1)} ({shown})"


def batch_spec(db_path: str, crawl_ids: dict[str, int], batch: Batch) -> dict[str, Any]:
    """The line a batch crawl process reads on stdin (``crawler.batch``): what, into which rows, how."""
    return {
        "db": os.fspath(db_path),
        "crawl_ids": crawl_ids,
        "time_limits": batch.time_limits,
        "options": batch.sources[0].crawl.effective().to_record(),
    }


#: Called once per source of a batch, with its finished crawl row.
Finished = Callable[[ScheduledSource, dict[str, Any], int | None], None]


def run_batch(
    db_path: str,
    batch: Batch,
    process: CrawlProcess,
    *,
    finished: Finished,
    stop,
    stop_grace: float = 5.0,
    poll: float = 0.1,
) -> None:
    """Crawl ``batch`` with ``process``; ``finished(source, row, returncode)`` once per source."""
    db = open_archive(db_path)
    try:
        _Watch(db_path, db, batch, process, finished, stop, stop_grace, poll).run()
    finally:
        process.close()
        db.close()


class _Watch:
    """The rows of one batch, watched until every one is closed and reported."""

    def __init__(
        self,
        db_path: str,
        db: sqlite_utils.Database,
        batch: Batch,
        process: CrawlProcess,
        finished: Finished,
        stop,
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
        ids = store.begin_crawls(self.db, self.batch.keys, trigger=TRIGGER)
        sources = {s.key: s for s in self.batch.sources}
        self.by_id = {crawl_id: sources[key] for key, crawl_id in ids.items()}
        self.begun_at = store.crawl_row(self.db, min(self.by_id))["started_at"]
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
                self._report(crawl_id, store.crawl_row(self.db, crawl_id), None)
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
            late = (now - datetime.fromisoformat(started_at)).total_seconds() - limit
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
            row = store.crawl_row(self.db, crawl_id)
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
                row = store.cut_crawl(self.db, crawl_id, reason)
            elif why and row["status"] != OK and (row["reason"] or "").startswith("stopped:"):
                # The child closed it on our SIGTERM ("stopped: shutdown"): say why.
                self.db.execute("UPDATE crawls SET reason = ? WHERE id = ?", [why, crawl_id])
                row = store.crawl_row(self.db, crawl_id)
            self._report(crawl_id, row, returncode)
