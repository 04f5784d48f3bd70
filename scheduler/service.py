"""The scheduler service: ``chanarchive scheduler run``.

An APScheduler 3 ``BackgroundScheduler`` whose jobs — one per scheduled
source, id ``source:<key>`` — live in a SQLAlchemy job store beside the
archive (``ARCHIVE.scheduler.sqlite``; see :mod:`scheduler.jobs`). The
``sources`` table in the archive is the truth: jobs are synced from it at
start and whenever it changes (checked every second), so ``sources
add|remove|pause|resume`` take effect while the scheduler runs.

Why the job store sits beside the archive rather than in it: APScheduler
keeps each job as a pickle, and unpickling runs code; archives are files
people share and open with Datasette, so they carry no pickles. The job
store is derived state (rebuilt from ``sources`` when missing); what it adds
is the planned next run of each job, which makes misfire handling after a
restart work. It also keeps APScheduler's own connection off the archive's
write lock, which the crawls hold page by page.

Each run is a crawl in its own process (:mod:`scheduler.runner`) with a time
limit; the outcome is the crawl's ``crawls`` row. Runs of one job never
overlap (``max_instances=1``: a run due while the last one is still going or
queued is skipped and logged), missed runs are coalesced into one, a run
later than the misfire grace time is skipped, and crawls of one host never
run at once (:mod:`scheduler.politeness`).
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from dataclasses import dataclass, field

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    JobEvent,
)
from apscheduler.executors.pool import ThreadPoolExecutor
from sqlalchemy.exc import SQLAlchemyError

from archive import store
from archive.errors import ArchiveError
from archive.models import FAILED, OK, PARTIAL
from archive.store import open_archive

from . import adaptive
from .jobs import (
    JOB_PREFIX,
    ArchiveScheduler,
    at_text,
    due_jobs,
    jobstore_path,
    make_jobstore,
    misfire_grace,
    planned_runs,
    sync_jobs,
)
from .lock import SchedulerLock
from .politeness import HostGate, host_backoff
from .registry import (
    ScheduledSource,
    UnknownSource,
    get_source,
    set_interval,
    set_next_runs,
)
from .runner import TRIGGER, RunOutcome, run_crawl_process
from .schedules import format_duration

logger = logging.getLogger(__name__)

#: Threads that run jobs: most of them wait (for their host, or for their crawl process).
JOB_THREADS = 64


@dataclass
class ServiceOptions:
    """How ``scheduler run`` behaves."""

    once: bool = False  # run what is due, then exit
    concurrency: int = 4  # crawls at once (of different hosts)
    time_limit: float = 3600.0  # seconds a run may take, unless its source says otherwise
    misfire_grace: float | None = None  # None: one period of the source's schedule
    stop_grace: float = 5.0  # seconds a stopped crawl gets to close before it is killed
    sync_every: float = 1.0  # seconds between checks of the sources table for changes
    full_sync_every: float = 60.0  # seconds between full syncs, changed or not
    redis: str | None = None  # queue each run for the workers of this Redis (crawl --redis)


@dataclass
class ServiceReport:
    """What a scheduler session did."""

    outcomes: list[RunOutcome] = field(default_factory=list)
    skipped: int = 0  # runs skipped because the last one was still going
    missed: int = 0  # runs later than the misfire grace time

    @property
    def all_failed(self) -> bool:
        return bool(self.outcomes) and all(o.status == FAILED for o in self.outcomes)


_ACTIVE: Service | None = None


def run_source(key: str, db_path: str) -> None:
    """The job function APScheduler calls (by its import path) for each due source."""
    service = _ACTIVE
    if service is None or service.db_path != db_path:
        logger.warning("%s: no scheduler running for %s: run skipped", key, db_path)
        return
    service.run_job(key)


class Service:
    """One scheduler on one archive. Use :meth:`run`; :meth:`stop` from a signal or thread."""

    def __init__(self, db_path: str | os.PathLike[str], options: ServiceOptions | None = None):
        self.db_path = os.path.abspath(os.fspath(db_path))
        self.options = options or ServiceOptions()
        self.stop_event = threading.Event()
        self.gate = HostGate(self.options.concurrency, self.stop_event)
        self.report = ServiceReport()
        self.scheduler: ArchiveScheduler | None = None
        self._sync_lock = threading.RLock()
        self._state = threading.Condition()
        self._once_pending: set[str] = set()  # job ids --once waits for
        self._once_allowed: set[str] = set()  # source keys --once may still run
        self._mirrored: dict[str, str | None] = {}

    # -- life cycle ---------------------------------------------------------

    def run(self, *, handle_signals: bool = True) -> ServiceReport:
        """Run until stopped (or, with ``once``, until what was due has run); returns the report.

        Raises :class:`~scheduler.lock.SchedulerBusy` when another scheduler
        runs on this archive.
        """
        global _ACTIVE
        with SchedulerLock(self.db_path):
            db = open_archive(self.db_path)
            reaped = store.reap_interrupted_crawls(db)
            db.close()
            if reaped:
                logger.info("marked %d crawls left running by a dead process as failed", reaped)
            previous = self._install_signals() if handle_signals else {}
            _ACTIVE = self
            self.scheduler = ArchiveScheduler(
                jobstores={"default": make_jobstore(self.db_path)},
                executors={"default": ThreadPoolExecutor(JOB_THREADS)},
                job_defaults={"coalesce": True, "max_instances": 1},
            )
            self.scheduler.add_listener(
                self._on_event,
                EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES | EVENT_JOB_ERROR | EVENT_JOB_EXECUTED,
            )
            try:
                try:
                    self.scheduler.start(paused=True)
                except SQLAlchemyError as exc:
                    raise ArchiveError(
                        f"cannot open the scheduler's job store {jobstore_path(self.db_path)}: "
                        f"{exc.__class__.__name__}; remove it and it is rebuilt from the "
                        "sources table"
                    ) from exc
                self.sync()
                planned = planned_runs(self.scheduler)
                logger.info(
                    "scheduler started on %s: %d sources (%d paused), job store %s",
                    self.db_path,
                    len(planned),
                    sum(1 for when in planned.values() if when is None),
                    jobstore_path(self.db_path),
                )
                if self.options.once:
                    self._plan_once()
                self.scheduler.resume()
                self._loop()
            finally:
                # Job threads touch the scheduler under _sync_lock only while not
                # stopping: once past here, none will, and shutdown cannot deadlock.
                with self._sync_lock:
                    if self.scheduler.running:
                        self.scheduler.hold()
                    self.stop_event.set()
                if self.scheduler.running:
                    running = self.gate.busy()
                    if running:
                        logger.info("stopping: %d crawls running are being stopped", running)
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

    def sync(self, *, fresh: frozenset[str] = frozenset()) -> None:
        """Bring the jobs in line with the sources table (see :func:`scheduler.jobs.sync_jobs`)."""
        with self._sync_lock:
            db = open_archive(self.db_path)
            try:
                sync_jobs(
                    self.scheduler,
                    db,
                    self.db_path,
                    grace=lambda source: misfire_grace(source, self.options.misfire_grace),
                    fresh=fresh,
                )
                self._mirror_next_runs(db)
            finally:
                db.close()

    def _mirror_next_runs(self, db=None) -> None:
        """Copy each job's next run into ``sources.next_run_at``, for ``sources list``."""
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
        key = event.job_id[len(JOB_PREFIX) :]
        run_time = getattr(event, "scheduled_run_time", None)
        if run_time is None:
            times = getattr(event, "scheduled_run_times", None) or [None]
            run_time = times[-1]
        when = at_text(run_time)
        if event.code == EVENT_JOB_MAX_INSTANCES:
            self.report.skipped += 1
            holder = self.gate.holder_of_host_of(key)
            if holder and holder != key:
                why = f"the last run is still waiting for {holder} to finish with the same host"
            else:
                why = "the last run is still going"
            logger.info("%s: skipped the run due %s: %s", key, when, why)
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
        with self._state:
            self._once_pending.discard(event.job_id)
            self._state.notify_all()
        with self._sync_lock:
            if not self.stop_event.is_set():
                self._mirror_safely()

    def _mirror_safely(self) -> None:
        try:
            self._mirror_next_runs()
        except Exception:  # only a mirror for `sources list`: never fail a run for it
            logger.debug("could not record the next runs", exc_info=True)

    # -- one run ------------------------------------------------------------

    def run_job(self, key: str) -> RunOutcome | None:
        """Run source ``key`` now (called in a job thread): wait for its host, crawl, log."""
        if self.stop_event.is_set():
            return None
        if self.options.once:
            with self._state:
                if key not in self._once_allowed:
                    return None  # not due when --once started
                self._once_allowed.discard(key)
        try:
            db = open_archive(self.db_path)
            try:
                source = get_source(db, key)
            finally:
                db.close()
        except UnknownSource:
            logger.info("%s: removed from the schedule: run skipped", key)
            return None
        if source.paused:
            return None
        try:
            outcome = self._crawl(source)
        except Exception as exc:
            logger.exception("%s: the run failed", key)
            outcome = self._record_failure(source, f"the scheduler could not run it: {exc!r}")
        if outcome is None:
            return None
        self.report.outcomes.append(outcome)
        log = logger.warning if outcome.status == FAILED else logger.info
        log("%s", outcome.summary())
        if source.adaptive and outcome.status in (OK, PARTIAL):
            self._adapt(source)
        return outcome

    def _crawl(self, source: ScheduledSource) -> RunOutcome | None:
        with self.gate.enter(source.host, source.key) as entered:
            if not entered:
                return None  # stopped while waiting for the host
            db = open_archive(self.db_path)
            try:
                backoff = host_backoff(db, source.host)
            finally:
                db.close()
            if backoff:
                left, reason = backoff
                logger.info(
                    "%s: %s is backed off for %.1fs more (%s): waiting",
                    source.key,
                    source.host,
                    left,
                    reason,
                )
                if self.stop_event.wait(left):
                    return None
            time_limit = source.time_limit or self.options.time_limit
            return run_crawl_process(
                self.db_path,
                source,
                time_limit=time_limit,
                stop=self.stop_event,
                stop_grace=self.options.stop_grace,
                redis=self.options.redis,
            )

    def _record_failure(self, source: ScheduledSource, reason: str) -> RunOutcome | None:
        try:
            db = open_archive(self.db_path)
            try:
                crawl_id = store.begin_crawl(db, source.key, trigger=TRIGGER)
                row = store.finish_crawl(db, crawl_id, status=FAILED, reason=reason)
            finally:
                db.close()
        except Exception:
            logger.exception("%s: could not record the failed run", source.key)
            return None
        return RunOutcome(source.key, FAILED, reason, 0.0, [row])

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
                self.sync(fresh=frozenset({source.key}))
