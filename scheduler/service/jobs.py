"""The APScheduler side: jobs kept in step with the ``sources`` table, and nothing stored else.

One job per scheduled source, id ``source:<key>``, calling
``scheduler.service:run_source(key, archive_path)``. The jobs live in
APScheduler's memory store only: APScheduler's persistent stores keep jobs
as pickles, and loading a pickle runs code, so none is ever written or read
(a file an older chanarchive left beside an archive, ``ARCHIVE.scheduler.sqlite``,
is never opened). What a persistent store gave — each source's planned next
run surviving a restart, so that missed runs are coalesced and judged
against the misfire grace time — comes from the archive: the service
mirrors every job's next run into ``sources.next_run_at``, and a job made at
start takes its first run from there (:func:`first_run`).

:func:`sync_jobs` adds, replaces (same id, ``replace_existing``), pauses,
resumes and removes jobs to match the table, and leaves unchanged jobs alone.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import sqlite_utils
from apscheduler.job import Job
from apscheduler.schedulers.background import BackgroundScheduler

from archive.times import to_datetime

from ..sources.due import first_run_time, planned_time
from ..sources.scheduled import ScheduledSource, all_sources, sources_by_key
from ..sources.schedules import make_trigger, schedule_period, trigger_signature

logger = logging.getLogger(__name__)

#: Sources whose refused row was already logged (once per process).
_warned: set[str] = set()
#: The job function, by its import path (:func:`scheduler.service.run_source`).
JOB_FUNC = "scheduler.service:run_source"
JOB_PREFIX = "source:"


def job_id(key: str) -> str:
    """The stable APScheduler job id of a source."""
    return JOB_PREFIX + key


def old_jobstore(db_path: str | os.PathLike[str]) -> Path:
    """Where an older chanarchive kept APScheduler's pickled jobs: never opened now."""
    return Path(f"{os.fspath(db_path)}.scheduler.sqlite")


def first_run(
    db: sqlite_utils.Database, source: ScheduledSource, now: datetime | None = None
) -> datetime | None:
    """When a source's job, made now, runs first: the next run planned before (kept in
    ``sources.next_run_at``, past or not: a missed run is then coalesced and judged against
    the misfire grace time), else as a new source runs (:func:`first_run_time`)."""
    if source.paused:
        return None
    planned = to_datetime(source.next_run_at)
    if planned is not None:
        return planned
    return first_run_time(db, source, now)


class ArchiveScheduler(BackgroundScheduler):
    """A BackgroundScheduler that can be told to start no more runs before it shuts down.

    APScheduler 3's ``shutdown`` marks the scheduler stopped, then waits for
    running jobs; its loop may wake meanwhile and process due jobs against
    shut-down executors, moving their next run on without running them. A
    run due while we stop must stay due for the next start: :meth:`hold` first.
    """

    _holding = False

    def hold(self) -> None:
        """Start no more runs; runs already started go on."""
        with self._jobstores_lock:  # lets a round of job processing in progress finish
            self._holding = True

    def _process_jobs(self):
        if self._holding:
            return None
        return super()._process_jobs()


def misfire_grace(source: ScheduledSource, override: float | None = None) -> int:
    """Seconds a run may be late and still be made: ``override``, else one period."""
    if override is not None:
        return max(1, int(override))
    period = schedule_period(source.schedule, every=source.every)
    return max(1, int(period or 3600))


def sync_jobs(
    scheduler: BackgroundScheduler,
    db: sqlite_utils.Database,
    db_path: str,
    *,
    grace: Callable[[ScheduledSource], int] = misfire_grace,
    fresh: frozenset[str] = frozenset(),
    only: frozenset[str] | None = None,
) -> None:
    """Bring the scheduler's jobs in line with the sources table.

    New sources get a job; a changed schedule replaces the job (same id);
    pause/resume pause and resume it; jobs of removed sources are removed.
    Keys in ``fresh`` start their new schedule from now (an adaptive change).
    With ``only``, just those sources' jobs are looked at (one source's
    adaptive change must not cost reading every job).
    """
    if only is None:
        sources = {s.key: s for s in all_sources(db)}
        jobs = {job.id: job for job in scheduler.get_jobs()}
    else:
        sources = sources_by_key(db, sorted(only))
        jobs = {job_id(k): scheduler.get_job(job_id(k)) for k in only}
        jobs = {k: job for k, job in jobs.items() if job is not None}
    for key, source in sources.items():
        if source.problem:  # a row that cannot be used: listed, never run
            if job_id(key) not in _warned:
                _warned.add(job_id(key))
                logger.warning("%s: not scheduled: %s", key, source.problem)
            continue
        job = jobs.pop(job_id(key), None)
        _sync_one(scheduler, db, db_path, source, job, grace(source), key in fresh)
    for stale in jobs.values():
        if stale.id.startswith(JOB_PREFIX):
            scheduler.remove_job(stale.id)
            logger.info("%s: no longer scheduled (removed)", stale.name)


def _sync_one(
    scheduler: BackgroundScheduler,
    db: sqlite_utils.Database,
    db_path: str,
    source: ScheduledSource,
    job: Job | None,
    grace: int,
    fresh: bool,
) -> None:
    trigger = make_trigger(source.schedule, every=source.every)
    args = [source.key, db_path]
    common = dict(
        trigger=trigger,
        args=args,
        id=job_id(source.key),
        name=source.key,
        replace_existing=True,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=grace,
    )
    if job is None:
        first = first_run(db, source)
        scheduler.add_job(JOB_FUNC, next_run_time=first, **common)
        state = "paused" if source.paused else f"first run {when_text(first)}"
        logger.info("%s: scheduled %s (%s)", source.key, source.describe_schedule(), state)
        return
    if trigger_signature(job.trigger) != trigger_signature(trigger) or list(job.args) != args:
        now = datetime.now(UTC)
        upcoming = trigger.get_next_fire_time(None, now.astimezone(trigger.timezone))
        if source.paused:
            first = None
        elif source.every and job.next_run_time and not fresh:
            first = min(job.next_run_time, upcoming)  # a shorter interval starts sooner
        else:
            first = upcoming
        scheduler.add_job(JOB_FUNC, next_run_time=first, **common)
        logger.info(
            "%s: schedule changed to %s (next run %s)",
            source.key,
            source.describe_schedule(),
            when_text(first),
        )
        return
    if job.misfire_grace_time != grace:
        job.modify(misfire_grace_time=grace)
    if source.paused and job.next_run_time is not None:
        scheduler.pause_job(job.id)
        logger.info("%s: paused", source.key)
    elif not source.paused and job.next_run_time is None:
        # Resumed: due at once when its last crawl is an interval old (as a new source).
        first = first_run_time(db, source)
        scheduler.modify_job(job.id, next_run_time=first)
        logger.info("%s: resumed (next run %s)", source.key, when_text(first))


def planned_runs(scheduler: BackgroundScheduler) -> dict[str, str | None]:
    """Each source's next planned run (ISO, UTC), None when paused."""
    return {
        job.name: planned_time(job.next_run_time)
        for job in scheduler.get_jobs()
        if job.id.startswith(JOB_PREFIX)
    }


def due_jobs(scheduler: BackgroundScheduler, now: datetime | None = None) -> list[Job]:
    """The source jobs whose next run is now or past."""
    now = now or datetime.now(UTC)
    return [
        job
        for job in scheduler.get_jobs()
        if job.id.startswith(JOB_PREFIX) and job.next_run_time and job.next_run_time <= now
    ]


def when_text(when: datetime | None) -> str:
    """A planned run time for the log: ``now``, or the UTC time."""
    if when is None:
        return "none"
    if abs((when - datetime.now(UTC)).total_seconds()) <= 1:
        return "now"
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def at_text(when: datetime | None) -> str:
    """A past run time for the log: ``at 12:30:05Z``."""
    return "at " + when.astimezone(UTC).strftime("%H:%M:%SZ") if when else "now"
