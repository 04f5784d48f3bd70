"""Rounds: due sources gathered into batches, each batch crawled by one process (or the workers).

A scheduled crawl used to be a process of its own, and the sources of one
host queued behind each other process by process: a round of a thousand
channels spent most of its time starting Python and Scrapy. Here the
sources that fall due together are gathered (one pass of APScheduler over
its due jobs, or :data:`GATHER` seconds) and planned into batches
(:mod:`.planning`); one crawl process crawls a whole batch, and Scrapy
keeps the politeness per host inside it (one request at a time per host,
with its delay), which is what the per-process queue used to buy. At most
``concurrency`` batches run at once, each in a thread of its own, by the
runner the service chose (:class:`~.runner.BatchRunner`: crawled here, or
queued for the workers).

Each source still ends as its own ``crawls`` row, reported the moment it is
closed, and its run is over for the scheduler only then: a run due
meanwhile is skipped, as before.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from archive.store import open_archive

from ..sources.scheduled import ScheduledSource, sources_by_key
from .planning import host_backoffs, plan_batches
from .runner import Batch, BatchRunner, Done, RunOutcome

logger = logging.getLogger(__name__)

#: Seconds the scheduler gathers due sources before it plans their batches.
GATHER = 1.0


@dataclass
class _Pending:
    key: str
    done: Done
    since: float
    source: ScheduledSource | None = None
    not_before: float = 0.0  # monotonic: its host is backed off until then
    logged_wait: bool = False


class Rounds:
    """Gathers due sources, plans them into batches and runs the batches, each in a thread."""

    def __init__(
        self,
        db_path: str,
        runner: BatchRunner,
        *,
        stop: threading.Event,
        finished: Callable[[ScheduledSource, RunOutcome], None],
        concurrency: int = 4,
        batch_size: int = 500,
        time_limit: float = 3600.0,
        gather: float = GATHER,
    ) -> None:
        self.db_path = db_path
        self.runner = runner  # crawls each batch: here, or through the workers
        self.stop = stop
        self.finished = finished
        self.concurrency = max(1, concurrency)
        self.batch_size = max(1, batch_size)
        self.time_limit = time_limit
        self.gather = gather
        self._cond = threading.Condition()
        self._pending: dict[str, _Pending] = {}
        self._running: dict[str, tuple[int, Done]] = {}  # key -> (batch number, its done)
        self._busy: dict[str, int] = {}  # host -> batch number
        self._threads: dict[int, threading.Thread] = {}
        self._numbers = 0
        self._flushed = False
        self._dispatcher: threading.Thread | None = None

    # -- the scheduler's side ---------------------------------------------------

    def start(self) -> None:
        self._dispatcher = threading.Thread(target=self._loop, name="rounds", daemon=True)
        self._dispatcher.start()

    def submit(self, key: str, done: Done) -> None:
        """Run source ``key`` in the next batch that can take it; ``done`` is told how it went."""
        with self._cond:
            if self.stop.is_set():
                done(None)
                return
            self._pending[key] = _Pending(key, done, time.monotonic())
            self._flushed = False
            self._cond.notify_all()

    def flush(self) -> None:
        """Everything due now has been submitted: plan without waiting out the gathering time."""
        with self._cond:
            self._flushed = True
            self._cond.notify_all()

    def warm_up(self) -> None:
        """Get the runner ready for a batch that is coming (a crawl process started now)."""
        self.runner.warm_up()

    def crawling(self) -> int:
        """Crawl processes running now with sources not finished."""
        with self._cond:
            return len({number for number, _ in self._running.values()})

    def where(self, key: str) -> str:
        """Why a run of ``key`` is still going, for the log line of a skipped run."""
        with self._cond:
            if key in self._running:
                return "the last run is still going"
            pending = self._pending.get(key)
        if pending is None or pending.source is None:
            return "the last run is still going"
        host = pending.source.host
        if host in self._busy:
            return (
                f"the last run is still waiting for batch {self._busy[host]} to finish with {host}"
            )
        if pending.not_before > time.monotonic():
            return f"the last run is still waiting for the backoff of {host}"
        return "the last run is still waiting for a free crawl process"

    def close(self) -> None:
        """After ``stop`` is set: wait for the running batches; runs not started are told None."""
        with self._cond:
            self._cond.notify_all()
        if self._dispatcher is not None:
            self._dispatcher.join()
        while True:
            with self._cond:
                threads = list(self._threads.values())
            if not threads:
                break
            for thread in threads:
                thread.join()
        with self._cond:
            left, self._pending = list(self._pending.values()), {}
        for pending in left:
            _tell(pending.key, pending.done, None)
        self.runner.close()

    # -- planning ---------------------------------------------------------------

    def _loop(self) -> None:
        while True:
            idle = None if self._pending else self.runner.tidy()
            with self._cond:
                if self.stop.is_set():
                    return
                wake = self._wake_in()
                if idle is not None:
                    wake = idle if wake is None else min(wake, idle)
                self._cond.wait(timeout=wake)
                if self.stop.is_set():
                    return
                unknown = [p.key for p in self._pending.values() if p.source is None]
            try:
                if unknown:
                    self._load(unknown)
                self._plan()
            except Exception:  # a busy or broken archive: try again on the next wake
                logger.exception("could not plan the next batches")
                time.sleep(1.0)

    def _wake_in(self) -> float | None:
        """Seconds until there may be something to plan (None: until told)."""
        if not self._pending or len(self._threads) >= self.concurrency:
            return None
        now = time.monotonic()
        if not self._flushed:
            newest = max(p.since for p in self._pending.values())
            if now - newest < self.gather:
                return self.gather - (now - newest)
        waits = [p.not_before - now for p in self._pending.values() if p.not_before > now]
        ready = any(
            p.not_before <= now and (p.source is None or p.source.host not in self._busy)
            for p in self._pending.values()
        )
        if ready:
            return 0.01
        return min(waits) if waits else None

    def _load(self, keys: list[str]) -> None:
        """Read the pending sources from the table; removed and paused ones do not run."""
        db = open_archive(self.db_path)
        try:
            found = sources_by_key(db, keys)
        finally:
            db.close()
        dropped = []
        with self._cond:
            for key in keys:
                pending = self._pending.get(key)
                if pending is None:
                    continue
                source = found.get(key)
                if source is None or source.paused:
                    del self._pending[key]
                    dropped.append((pending, source))
                else:
                    pending.source = source
        for pending, source in dropped:
            if source is None:
                logger.info("%s: removed from the schedule: run skipped", pending.key)
            _tell(pending.key, pending.done, None)

    def _plan(self) -> None:
        now = time.monotonic()
        with self._cond:
            if any(p.source is None for p in self._pending.values()):
                return  # submitted while the others were read: read it first, plan them together
            if not self._flushed and self._pending:
                newest = max(p.since for p in self._pending.values())
                if now - newest < self.gather:
                    return
            free = self.concurrency - len(self._threads)
            candidates = [
                p
                for p in self._pending.values()
                if p.source is not None and p.not_before <= now and p.source.host not in self._busy
            ]
            busy = set(self._busy)
        if free <= 0 or not candidates:
            return
        if self._hold_backed_off(candidates):
            candidates = [p for p in candidates if p.not_before <= now]
        batches = plan_batches(
            [p.source for p in sorted(candidates, key=lambda p: p.since)],
            busy_hosts=busy,
            batch_size=self.batch_size,
            slots=free,
        )
        for sources in batches:
            self._launch(sources)

    def _hold_backed_off(self, candidates: list[_Pending]) -> bool:
        """Hold the sources of hosts that asked to be left alone; True when some were held."""
        db = open_archive(self.db_path)
        try:
            backoffs = host_backoffs(db, {p.source.host for p in candidates})
        finally:
            db.close()
        if not backoffs:
            return False
        now = time.monotonic()
        for pending in candidates:
            backoff = backoffs.get(pending.source.host)
            if backoff is None:
                continue
            left, reason = backoff
            pending.not_before = now + left
            if not pending.logged_wait:
                pending.logged_wait = True
                logger.info(
                    "%s: %s is backed off for %.1fs more (%s): waiting",
                    pending.key,
                    pending.source.host,
                    left,
                    reason,
                )
        return True

    def _launch(self, sources: list[ScheduledSource]) -> None:
        with self._cond:
            self._numbers += 1
            number = self._numbers
            for source in sources:
                pending = self._pending.pop(source.key)
                self._running[source.key] = (number, pending.done)
                self._busy[source.host] = number
            more = bool(self._pending)
        batch = Batch(
            number, sources, {s.key: float(s.time_limit or self.time_limit) for s in sources}
        )
        self.runner.launch(batch, more=more)
        thread = threading.Thread(
            target=self._run, args=(batch,), name=f"batch-{number}", daemon=True
        )
        with self._cond:
            self._threads[number] = thread
        thread.start()

    def _run(self, batch: Batch) -> None:
        started = time.monotonic()
        try:
            self.runner.run(batch, finished=self._finished, stop=self.stop)
        except Exception:
            logger.exception("%s failed", batch.describe())
        finally:
            with self._cond:
                left = [k for k in batch.keys if k in self._running]
                dones = [self._running.pop(k)[1] for k in left]
                for host in batch.hosts:
                    if self._busy.get(host) == batch.number:
                        del self._busy[host]
                self._threads.pop(batch.number, None)
                self._cond.notify_all()
            for key, done in zip(left, dones, strict=True):
                _tell(key, done, None)
            logger.info("batch %d ended after %.1fs", batch.number, time.monotonic() - started)

    def _finished(self, source: ScheduledSource, row: dict, returncode: int | None) -> None:
        """A source of a running batch ended (its row is closed): tell the scheduler, then its job."""
        outcome = RunOutcome.from_row(source.key, row, returncode)
        try:
            self.finished(source, outcome)
        finally:
            with self._cond:
                entry = self._running.pop(source.key, None)
            if entry is not None:
                _tell(source.key, entry[1], outcome)


def _tell(key: str, done: Done, outcome: RunOutcome | None) -> None:
    try:
        done(outcome)
    except Exception:
        logger.exception("%s: could not record the end of its run", key)
