"""The scheduler service: ``chanarchive scheduler run``.

An APScheduler 3 ``BackgroundScheduler`` whose jobs — one per scheduled
source, id ``source:<key>`` — live in memory only (see :mod:`.jobs`: no
pickles, anywhere). The ``sources`` table in the archive is the truth: jobs
are made from it at start, their first runs from the next runs planned
before (``sources.next_run_at``, which the service keeps mirroring), and
synced whenever it changes (checked every second), so ``sources
add|import|remove|pause|resume`` take effect while the scheduler runs.

Due sources are not run one process each: APScheduler hands them to the
rounds (:class:`~.executor.RoundsExecutor`), which gather them
into batches, one crawl process per batch (:mod:`scheduler.batches.rounds`),
or queued for the workers of a Redis (``--redis``): the runner that crawls
them is chosen here, once (:func:`batch_runner`). Each
source's run still ends as its own ``crawls`` row, with its own time limit,
and comes back here, to :meth:`Service.source_finished`, the one place
where a scheduled run of a source is over. Runs of one job never overlap
(``max_instances=1``: a run due while the last one is still going or
waiting is skipped and logged), missed runs are coalesced into one, and a
run later than the misfire grace time is skipped.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from dataclasses import dataclass

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    EVENT_JOB_SUBMITTED,
    JobEvent,
)
from apscheduler.jobstores.memory import MemoryJobStore

from archive.models import FAILED, OK, PARTIAL
from archive.store import open_archive, reap_interrupted_crawls
from archive.store.sources import set_interval, set_next_runs

from ..batches.local import LocalRunner
from ..batches.remote import RedisRunner
from ..batches.rounds import Rounds
from ..batches.runner import BatchRunner, Done, RunOutcome
from ..notify.delivery import notify_after_crawl
from ..sources import adaptive
from ..sources.due import any_due, planned_time
from ..sources.scheduled import ScheduledSource
from ..sources.schedules import format_duration
from .executor import RoundsExecutor
from .jobs import (
    JOB_PREFIX,
    ArchiveScheduler,
    at_text,
    due_jobs,
    job_id,
    misfire_grace,
    old_jobstore,
    planned_runs,
    sync_jobs,
)
from .lock import SchedulerLock

logger = logging.getLogger(__name__)


@dataclass
class ServiceOptions:
    """How ``scheduler run`` behaves."""

    once: bool = False  # run what is due, then exit
    concurrency: int = 4  # crawl processes at once (each a batch of sources)
    batch_size: int = 500  # sources a crawl process takes at most
    time_limit: float = 3600.0  # seconds a run may take, unless its source says otherwise
    misfire_grace: float | None = None  # None: one period of the source's schedule
    stop_grace: float = 5.0  # seconds a stopped crawl gets to close before it is killed
    sync_every: float = 1.0  # seconds between checks of the sources table for changes
    full_sync_every: float = 60.0  # seconds between full syncs, changed or not
    redis: str | None = None  # queue each run for the workers of this Redis (crawl --redis)


@dataclass
class ServiceReport:
    """What a scheduler session did (counts only: a long-running scheduler keeps no list)."""

    runs: int = 0  # runs that ended with a crawl row
    failed: int = 0  # ... of which failed
    skipped: int = 0  # runs skipped because the last one was still going
    missed: int = 0  # runs later than the misfire grace time

    @property
    def all_failed(self) -> bool:
        return self.runs > 0 and self.failed == self.runs


def batch_runner(db_path: str, options: ServiceOptions) -> BatchRunner:
    """The runner of every batch of this scheduler: the workers of ``options.redis``, else here."""
    if options.redis:
        return RedisRunner(db_path, options.redis)
    return LocalRunner(db_path, stop_grace=options.stop_grace)


_ACTIVE: Service | None = None


def run_source(key: str, db_path: str) -> RunOutcome | None:
    """The job function, by its import path, kept in every stored job.

    The scheduler's own executor never calls it (it hands due sources to the
    rounds); any other executor does, and gets the same: the source crawled
    in the next batch, this call waiting for its run to end.
    """
    service = _ACTIVE
    if service is None or service.db_path != db_path:
        logger.warning("%s: no scheduler running for %s: run skipped", key, db_path)
        return None
    ended = threading.Event()
    result: list[RunOutcome | None] = [None]

    def done(outcome: RunOutcome | None) -> None:
        result[0] = outcome
        ended.set()

    service.submit(key, done)
    ended.wait()
    return result[0]


class Service:
    """One scheduler on one archive. Use :meth:`run`; :meth:`stop` from a signal or thread."""

    def __init__(self, db_path: str | os.PathLike[str], options: ServiceOptions | None = None):
        self.db_path = os.path.abspath(os.fspath(db_path))
        self.options = options or ServiceOptions()
        self.stop_event = threading.Event()
        self.report = ServiceReport()
        self.scheduler: ArchiveScheduler | None = None
        self.rounds = Rounds(
            self.db_path,
            batch_runner(self.db_path, self.options),
            stop=self.stop_event,
            finished=self.source_finished,
            concurrency=self.options.concurrency,
            batch_size=self.options.batch_size,
            time_limit=self.options.time_limit,
        )
        self._sync_lock = threading.RLock()
        self._state = threading.Condition()
        self._once_pending: set[str] = set()  # job ids --once waits for
        self._once_allowed: set[str] = set()  # source keys --once may still run
        self._mirrored: dict[str, str | None] = {}
        self._unmirrored: set[str] = set()  # job ids whose next run may have changed
        self._unmirrored_lock = threading.Lock()

    # -- life cycle ---------------------------------------------------------

    def run(self, *, handle_signals: bool = True) -> ServiceReport:
        """Run until stopped (or, with ``once``, until what was due has run); returns the report.

        Raises :class:`~.lock.SchedulerBusy` when another scheduler
        runs on this archive.
        """
        global _ACTIVE
        with SchedulerLock(self.db_path):
            db = open_archive(self.db_path)
            if any_due(db):
                self.rounds.warm_up()  # Scrapy loads in it while the jobs are read
            reaped = reap_interrupted_crawls(db)
            db.close()
            if reaped:
                logger.info("marked %d crawls left running by a dead process as failed", reaped)
            previous = self._install_signals() if handle_signals else {}
            _ACTIVE = self
            self.scheduler = ArchiveScheduler(
                jobstores={"default": MemoryJobStore()},
                executors={"default": RoundsExecutor(self.submit)},
                job_defaults={"coalesce": True, "max_instances": 1},
            )
            self.scheduler.add_listener(
                self._on_event,
                EVENT_JOB_MISSED
                | EVENT_JOB_MAX_INSTANCES
                | EVENT_JOB_ERROR
                | EVENT_JOB_EXECUTED
                | EVENT_JOB_SUBMITTED,
            )
            try:
                self.scheduler.start(paused=True)
                self.sync()
                planned = planned_runs(self.scheduler)
                logger.info(
                    "scheduler started on %s: %d sources (%d paused)",
                    self.db_path,
                    len(planned),
                    sum(1 for when in planned.values() if when is None),
                )
                if old_jobstore(self.db_path).exists():
                    logger.info(
                        "%s (an older chanarchive's job store) is not used: "
                        "the planned runs are kept in the archive now; it may be removed",
                        old_jobstore(self.db_path),
                    )
                if self.options.once:
                    self._plan_once()
                self.rounds.start()
                self.scheduler.resume()
                self._loop()
            finally:
                # Runs touch the scheduler under _sync_lock only while not stopping:
                # once past here, none will, and shutdown cannot deadlock.
                with self._sync_lock:
                    if self.scheduler.running:
                        self.scheduler.hold()
                    self.stop_event.set()
                running = self.rounds.crawling()
                if running:
                    logger.info("stopping: %d crawl processes running are being stopped", running)
                self.rounds.close()
                if self.scheduler.running:
                    self._mirror_safely()
                    self.scheduler.shutdown(wait=True)
                _ACTIVE = None
                for signum, handler in previous.items():
                    signal.signal(signum, handler)
        return self.report

    def stop(self) -> None:
        """Stop: no new runs; running crawls are stopped and their crawls marked."""
        self.stop_event.set()
        with self._state:
            self._state.notify_all()

    def _install_signals(self) -> dict:
        if threading.current_thread() is not threading.main_thread():
            return {}
        previous = {}

        def handler(signum, frame):
            logger.info("received %s: stopping", signal.Signals(signum).name)
            self.stop()

        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, handler)
        return previous

    def _loop(self) -> None:
        if self.options.once:
            with self._state:
                while self._once_pending and not self.stop_event.is_set():
                    self._state.wait(timeout=0.5)
            return
        last_full = time.monotonic()
        seen = self._fingerprint()
        while not self.stop_event.wait(self.options.sync_every):
            try:
                now = time.monotonic()
                current = self._fingerprint()
                if current != seen or now - last_full >= self.options.full_sync_every:
                    self.sync()
                    seen, last_full = current, now
                elif self._unmirrored:
                    with self._sync_lock:
                        self._mirror_next_runs(only=True)
            except Exception:  # a locked or busy archive: try again next round
                logger.exception("could not re-read the sources table")

    def _fingerprint(self) -> tuple:
        """Changes whenever a source is added, removed, paused, resumed or re-scheduled."""
        db = open_archive(self.db_path)
        try:
            return tuple(db.execute("SELECT COUNT(*), MAX(updated_at) FROM sources").fetchone())
        finally:
            db.close()

    def _plan_once(self) -> None:
        due = due_jobs(self.scheduler)
        with self._state:
            self._once_pending = {job.id for job in due}
            self._once_allowed = {job.id[len(JOB_PREFIX) :] for job in due}
        if not due:
            logger.info("nothing is due")

    # -- jobs ---------------------------------------------------------------

    def sync(
        self, *, fresh: frozenset[str] = frozenset(), only: frozenset[str] | None = None
    ) -> None:
        """Bring the jobs in line with the sources table (see :func:`.jobs.sync_jobs`)."""
        with self._sync_lock:
            db = open_archive(self.db_path)
            try:
                sync_jobs(
                    self.scheduler,
                    db,
                    self.db_path,
                    grace=lambda source: misfire_grace(source, self.options.misfire_grace),
                    fresh=fresh,
                    only=only,
                )
                if only is not None:
                    with self._unmirrored_lock:
                        self._unmirrored.update(job_id(key) for key in only)
                self._mirror_next_runs(db, only=only is not None)
            finally:
                db.close()

    def _mirror_next_runs(self, db=None, *, only: bool = False) -> None:
        """Copy each job's next run into ``sources.next_run_at``, for ``sources list``.

        ``only``: just the jobs that ran or were skipped since the last copy
        (reading ten thousand jobs each second of a busy round would cost more
        than the round).
        """
        with self._unmirrored_lock:
            ids, self._unmirrored = self._unmirrored, set()
        if only:
            jobs = (self.scheduler.get_job(job_id) for job_id in ids)
            planned = {job.name: planned_time(job.next_run_time) for job in jobs if job is not None}
        else:
            planned = planned_runs(self.scheduler)
        changed = {k: v for k, v in planned.items() if self._mirrored.get(k, "?") != v}
        if not changed:
            return
        own = db is None
        db = db or open_archive(self.db_path)
        try:
            set_next_runs(db, changed)
            self._mirrored.update(changed)
        finally:
            if own:
                db.close()

    def _on_event(self, event: JobEvent) -> None:
        with self._unmirrored_lock:
            self._unmirrored.add(event.job_id)  # the loop copies its next run, within a second
        if event.code == EVENT_JOB_SUBMITTED:
            if self.options.once:
                self.rounds.flush()  # APScheduler's pass over the due jobs is over
            return
        key = event.job_id[len(JOB_PREFIX) :]
        run_time = getattr(event, "scheduled_run_time", None)
        if run_time is None:
            times = getattr(event, "scheduled_run_times", None) or [None]
            run_time = times[-1]
        when = at_text(run_time)
        if event.code == EVENT_JOB_MAX_INSTANCES:
            self.report.skipped += 1
            logger.info("%s: skipped the run due %s: %s", key, when, self.rounds.where(key))
        elif event.code == EVENT_JOB_MISSED:
            self.report.missed += 1
            logger.info(
                "%s: missed the run due %s (later than the misfire grace time): "
                "it waits for its next time",
                key,
                when,
            )
        elif event.code == EVENT_JOB_ERROR:
            logger.error("%s: the run failed inside the scheduler: %r", key, event.exception)
        if event.code != EVENT_JOB_MAX_INSTANCES:  # a skipped run: the run it skipped for goes on
            with self._state:
                self._once_pending.discard(event.job_id)
                self._state.notify_all()

    def _mirror_safely(self) -> None:
        try:
            self._mirror_next_runs()
        except Exception:  # only a mirror for `sources list`: never fail a run for it
            logger.debug("could not record the next runs", exc_info=True)

    # -- runs ---------------------------------------------------------------

    def submit(self, key: str, done: Done) -> None:
        """Run source ``key`` in the next batch that can take it (called for each due job)."""
        if self.stop_event.is_set():
            done(None)
            return
        if self.options.once:
            with self._state:
                if key not in self._once_allowed:
                    done(None)  # not due when --once started
                    return
                self._once_allowed.discard(key)
        self.rounds.submit(key, done)

    def source_finished(self, source: ScheduledSource, outcome: RunOutcome) -> None:
        """A scheduled run of ``source`` is over: its crawl row is closed (``outcome.rows[0]``).

        The one place every scheduled run of a source ends, exactly once,
        whatever happened (done, failed, timed out, crashed, stopped): the
        place for what follows a run — the log line, the adaptive interval,
        and any per-source hook (e.g. notifications).
        """
        self.report.runs += 1
        if outcome.status == FAILED:
            self.report.failed += 1
        log = logger.warning if outcome.status == FAILED else logger.info
        log("%s", outcome.summary())
        # Issue 13: the crawl rows are finished; tell the source's --notify targets what changed.
        # With --match, only the new and edited posts matching the source's query.
        notify_after_crawl(self.db_path, source.key, stop=self.stop_event, match=source.match)
        if source.adaptive and outcome.status in (OK, PARTIAL):
            try:
                self._adapt(source)
            except Exception:
                logger.exception("%s: could not adapt its interval", source.key)

    def _adapt(self, source: ScheduledSource) -> None:
        db = open_archive(self.db_path)
        try:
            suggestion = adaptive.suggest_interval(db, source.key, source.adaptive)
            if suggestion is None:
                return
            current = source.every
            if source.interval_seconds and not adaptive.worth_changing(current, suggestion.seconds):
                return
            set_interval(db, source.key, suggestion.seconds, suggestion.reason, changed=True)
        finally:
            db.close()
        if suggestion.seconds != current:
            logger.info(
                "%s: interval now every %s (%s)",
                source.key,
                format_duration(suggestion.seconds),
                suggestion.reason,
            )
        with self._sync_lock:
            if not self.stop_event.is_set():  # else the next start picks the change up
                keys = frozenset({source.key})
                self.sync(fresh=keys, only=keys)
