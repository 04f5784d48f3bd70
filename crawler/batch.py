"""A crawl process of the scheduler: ``python -m crawler.batch``, its batch read from stdin.

The scheduler starts this process *before* it knows the batch: importing
Scrapy, Twisted and the extractors takes about a second, and a process
that is already warm when a round is due crawls at once. The batch comes
as one JSON line on stdin (written by :func:`scheduler.batches.local.batch_spec`):
``db`` (the archive), ``crawl_ids`` (source key -> the ``crawls`` row begun
for it), ``time_limits`` (source key -> seconds) and ``options`` (the
record of a :class:`~crawler.options.CrawlOptions`).
An empty stdin means "not needed after all": the process exits without
touching anything.

The crawl rows are begun by the scheduler (it must be able to close them
whatever happens to this process); this process takes them over and closes
each one as its source ends, or at its time limit. A write the archive
refuses stops the batch: one line on stderr, exit status 3 (the rows it
could not close are the scheduler's to close).
"""

from __future__ import annotations

import json
import sys
from typing import Any

from archive.errors import ArchiveUnwritable
from archive.source import parse_source

from .local import run_crawl  # the slow imports, done while waiting
from .options import CrawlOptions
from .spiders import channels  # noqa: F401 - warms the extractors up too

TRIGGER = "scheduled"


def run_batch(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Crawl the batch ``spec`` describes; returns its finished crawl rows."""
    options = CrawlOptions.from_record(spec.get("options"))
    crawl_ids = {key: int(crawl_id) for key, crawl_id in spec["crawl_ids"].items()}
    sources = [parse_source(key) for key in crawl_ids]
    time_limits = {k: float(v) for k, v in (spec.get("time_limits") or {}).items()}
    return run_crawl(
        spec["db"], sources, options, trigger=TRIGGER, crawl_ids=crawl_ids, time_limits=time_limits
    )


def main() -> int:
    line = sys.stdin.readline()
    if not line.strip():
        return 0  # dismissed before it was needed
    try:
        run_batch(json.loads(line))
    except ArchiveUnwritable as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
