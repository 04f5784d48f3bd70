"""Run one crawl of some sources into an archive, in this process.

The Twisted reactor under Scrapy cannot be restarted, so a process runs at
most one crawl: the scheduler and the demo start a new process for each.
One crawl takes any number of sources; each keeps its own ``crawls`` row,
closed when that source is done (or cut off at its time limit), and Scrapy
keeps the politeness per host across all of them.

A write the archive refuses (a full disk, read-only, an I/O error, a damaged
file) stops the crawl (:mod:`crawler.pipelines.archive`); its rows still
open are closed at the end as cut short with the reason, tried once more a
moment later when the archive refuses that too, and :class:`CrawlStopped`
is raised with them (a row that could not be closed is left ``running``,
and the next crawl marks it failed: :func:`archive.store.reap_interrupted_crawls`).
"""

from __future__ import annotations

import os
import time
from typing import Any

from scrapy.settings import Settings

from archive import store
from archive.errors import ArchiveUnwritable
from archive.models import RUNNING
from archive.source import Source
from archive.store import open_archive
from archive.store.faults import archive_fault, refusal, restart_log, unwritable

from .options import CrawlOptions
from .spiders.channels import ChannelSpider
from .state import CrawlState, SourceRuns
from .stopping import CrawlProcess
from .view import SqliteView

#: Seconds before a row the archive refused to close is tried once more (space may be back).
CLOSE_RETRY_PAUSE = 1.0


class CrawlStopped(ArchiveUnwritable):
    """A crawl the archive stopped by refusing a write; ``rows``: its crawl rows as they
    ended (one the archive refused to close is still ``running``)."""

    def __init__(self, message: str, rows: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.rows = rows


def crawl_settings(
    db_path: str, options: CrawlOptions, *, progress: bool = False, verbose: bool = False
) -> Settings:
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    settings.set("CHANARCHIVE_DB", os.fspath(db_path), priority="cmdline")
    settings.set("CHANARCHIVE_PROGRESS", progress, priority="cmdline")
    if verbose:
        settings.set("LOG_LEVEL", "INFO", priority="cmdline")
    for name, value in options.settings:
        settings.set(name, value, priority="cmdline")
    return settings


def run_crawl(
    db_path: str,
    sources: list[Source],
    options: CrawlOptions,
    *,
    trigger: str = "manual",
    crawl_ids: dict[str, int] | None = None,
    time_limits: dict[str, float] | None = None,
    progress: bool = False,
    verbose: bool = False,
) -> list[dict[str, Any]]:
    """Crawl ``sources`` once; returns the finished ``crawls`` rows, one per source.

    ``crawl_ids``: rows already begun for these sources (by the scheduler,
    for a batch), which this crawl takes over instead of beginning its own.
    ``time_limits``: seconds each source may take from its first request.
    """
    db = open_archive(db_path)
    try:
        store.reap_interrupted_crawls(db)
        recorded = options.to_record()
        if crawl_ids is None:
            crawl_ids = {
                s.key: store.begin_crawl(db, s.key, trigger=trigger, options=recorded)
                for s in sources
            }
        else:
            store.claim_crawls(db, list(crawl_ids.values()), recorded)
    except Exception as exc:  # refused before anything was crawled: no row is left running
        db.close()
        if archive_fault(exc):
            raise unwritable(exc, db_path) from exc
        raise
    runs = SourceRuns(crawl_ids, time_limits)
    state = CrawlState(sources, options, view=SqliteView(db), crawl_ids=crawl_ids, runs=runs)
    process = CrawlProcess(crawl_settings(db_path, options, progress=progress, verbose=verbose))
    crawler = process.create_crawler(ChannelSpider)
    process.crawl(crawler, state=state)
    process.start()
    finish_reason = crawler.stats.get_value("finish_reason") if crawler.stats else None
    stopped = runs.fault is not None
    rows = close_runs(db, runs, crawl_ids, finish_reason, path=db_path)
    db.close()
    if runs.fault is not None:
        raise CrawlStopped(stopped_line(runs.fault, stopped, rows, len(crawl_ids)), rows)
    return rows


def stopped_line(fault: str, stopped: bool, rows: list[dict[str, Any]], crawls: int) -> str:
    """What a crawl the archive refused says: why and where, and any row left running."""
    left = sum(row["status"] == RUNNING for row in rows) + crawls - len(rows)
    line = f"{fault}: the crawl stopped" if stopped else fault
    if left == 1:
        line += "; its crawl row could not be closed (left running: the next crawl marks it failed)"
    elif left:
        line += (
            f"; {left} of its crawl rows could not be closed (left running:"
            " the next crawl marks them failed)"
        )
    return line


def close_runs(
    db,
    runs: SourceRuns,
    crawl_ids: dict[str, int],
    finish_reason: str | None,
    *,
    path: str | os.PathLike[str] = "the archive",
    pause: float = CLOSE_RETRY_PAUSE,
) -> list[dict[str, Any]]:
    """The crawl rows once the crawl is over: those its sources left open closed too.

    A spider that finished closes them from their pages and errors. Any other
    end (a signal, an error) cuts them short, saying so: so does no end at
    all (``None``: stopped before the spider ran), which must not read as a
    crawl that fetched nothing. A crawl the archive stopped
    (:attr:`SourceRuns.fault <crawler.state.SourceRuns.fault>`) cuts them
    short with its reason: partial with the pages it wrote, else failed.

    After a refused write the log is restarted first (the closing writes then
    reuse its room). A row the archive refuses to close is tried once more after ``pause``
    seconds; one still refused is returned as it is (``running``), and the
    refusal kept in ``runs.fault``. A row that cannot even be read is left out.
    """
    for key in crawl_ids:
        runs.close(key)  # nothing more of any source is wanted
    fault, refused = runs.fault, None
    rows: dict[str, dict[str, Any]] = {}
    for attempt in range(2):
        if attempt:
            time.sleep(pause)
        if fault is not None:  # a full log: the closing writes reuse its own room
            restart_log(db)
        for key, crawl_id in crawl_ids.items():
            if key in rows:
                continue
            try:
                rows[key] = _close_row(db, crawl_id, fault, finish_reason)
            except Exception as exc:
                if not archive_fault(exc):
                    raise
                refused = refusal(exc, path)
        if len(rows) == len(crawl_ids):
            break
    if len(rows) < len(crawl_ids) and refused is not None:
        runs.fail(refused)
    for key, crawl_id in crawl_ids.items():
        if key not in rows:
            try:
                rows[key] = store.crawl_row(db, crawl_id)
            except Exception as exc:
                if not archive_fault(exc):
                    raise
    return [rows[key] for key in crawl_ids if key in rows]


def _close_row(db, crawl_id: int, fault: str | None, finish_reason: str | None) -> dict[str, Any]:
    """Crawl ``crawl_id``'s row, closed if it is still running (see :func:`close_runs`)."""
    row = store.crawl_row(db, crawl_id)
    if row["status"] != RUNNING:  # closed as its source ended
        return row
    if fault is not None:
        return store.cut_crawl(db, crawl_id, fault)
    if finish_reason != "finished":
        why = finish_reason or "before the crawl began"
        return store.cut_crawl(db, crawl_id, f"stopped: {why}")
    return store.finish_crawl(db, crawl_id)
