"""Run one crawl of some sources into an archive, in this process.

The Twisted reactor under Scrapy cannot be restarted, so a process runs at
most one crawl: the scheduler and the demo start a new process for each.
One crawl takes any number of sources; each keeps its own ``crawls`` row,
closed when that source is done (or cut off at its time limit), and Scrapy
keeps the politeness per host across all of them.
"""

from __future__ import annotations

import os
from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from archive import store
from archive.source import Source
from archive.store import open_archive

from .options import CrawlOptions
from .spiders.channels import ChannelSpider
from .state import CrawlState, SourceRuns
from .view import SqliteView


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
    store.reap_interrupted_crawls(db)
    recorded = options.to_record()
    if crawl_ids is None:
        crawl_ids = {
            s.key: store.begin_crawl(db, s.key, trigger=trigger, options=recorded) for s in sources
        }
    else:
        store.claim_crawls(db, list(crawl_ids.values()), recorded)
    runs = SourceRuns(crawl_ids, time_limits)
    state = CrawlState(sources, options, view=SqliteView(db), crawl_ids=crawl_ids, runs=runs)
    process = CrawlerProcess(crawl_settings(db_path, options, progress=progress, verbose=verbose))
    crawler = process.create_crawler(ChannelSpider)
    process.crawl(crawler, state=state)
    process.start()
    finish_reason = crawler.stats.get_value("finish_reason") if crawler.stats else None
    rows = close_runs(db, runs, crawl_ids, finish_reason)
    db.close()
    return rows


def close_runs(
    db, runs: SourceRuns, crawl_ids: dict[str, int], finish_reason: str | None
) -> list[dict[str, Any]]:
    """The crawl rows once the crawl is over: those its sources left open closed too.

    A spider that finished closes them from their pages and errors. Any other
    end (a signal, an error) cuts them short, saying so: so does no end at
    all (``None``: stopped before the spider ran), which must not read as a
    crawl that fetched nothing.
    """
    rows = []
    for key, crawl_id in crawl_ids.items():
        was_open, _ = runs.close(key)  # the sources not closed as they ended
        if not was_open:
            rows.append(store.crawl_row(db, crawl_id))
        elif finish_reason != "finished":
            why = finish_reason or "before the crawl began"
            rows.append(store.cut_crawl(db, crawl_id, f"stopped: {why}"))
        else:
            rows.append(store.finish_crawl(db, crawl_id))
    return rows
