"""The APScheduler executor that hands due sources to the rounds instead of running them.

APScheduler 3 runs each due job in an executor; a thread pool would give
every due source a thread that waits for its own crawl. This executor
hands the source to :class:`~scheduler.batches.rounds.Rounds` and returns at once;
the run counts as going (APScheduler's ``max_instances``: a run due
meanwhile is skipped and reported) until the rounds say the source's crawl
row is closed. Everything else stays APScheduler's: coalesced missed runs,
the misfire grace time (checked here, when the run is handed over, as
APScheduler's own executors check it when they start a run), the events.

Events are dispatched from one thread of their own, never from the
thread that submitted the job (it holds APScheduler's locks).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from apscheduler.events import EVENT_JOB_EXECUTED, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.base import BaseExecutor

from ..batches.runner import Done

logger = logging.getLogger(__name__)

#: ``submit(key, done)``: run source ``key``; ``done(outcome or None)`` when its run is over.
Submit = Callable[[str, Done], None]


class RoundsExecutor(BaseExecutor):
    def __init__(self, submit: Submit) -> None:
        super().__init__()
        self._submit = submit
        self._events = ThreadPoolExecutor(max_workers=1, thread_name_prefix="job-events")

    def _do_submit_job(self, job, run_times) -> None:
        alias = getattr(job, "_jobstore_alias", None)
        events = []
        now = datetime.now(UTC)
        due = []
        for run_time in run_times:
            grace = job.misfire_grace_time
            if grace is not None and now - run_time > timedelta(seconds=grace):
                events.append(JobExecutionEvent(EVENT_JOB_MISSED, job.id, alias, run_time))
            else:
                due.append(run_time)
        if not due:
            self._finish(job.id, events)
            return
        run_time = due[-1]

        def done(outcome) -> None:
            executed = JobExecutionEvent(
                EVENT_JOB_EXECUTED, job.id, alias, run_time, retval=outcome
            )
            self._finish(job.id, [*events, executed])

        self._submit(job.args[0], done)

    def _finish(self, job_id: str, events: list) -> None:
        try:
            self._events.submit(self._run_job_success, job_id, events)
        except RuntimeError:  # shut down: the scheduler is gone, nobody listens any more
            logger.debug("%s ended after the scheduler shut down", job_id)

    def shutdown(self, wait: bool = True) -> None:
        self._events.shutdown(wait=wait)
