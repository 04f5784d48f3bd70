"""A crawl's state: its sources, options and walks (:class:`CrawlState`), and each
source's run inside a crawl of many (:class:`SourceRuns`).

:class:`CrawlState` is everything the spider's logic works on: a local crawl
has one for its whole process; a distributed worker rebuilds one from each
request's metadata, so no state of one crawl can leak into another's.

Each source's run: what it still waits for, and its time limit.

One crawl process crawls many sources (``chanarchive crawl A B C``, or a
scheduled batch of hundreds). Each source keeps its own run and its own
``crawls`` row, which is closed as soon as that source is done — no request
of it queued or in flight, no item of it not yet written — rather than when
the whole crawl ends; and a source with a time limit is cut off when its
limit passes, counted from its first request, whatever the others do.

:class:`SourceRuns` is the book, plain state with no Scrapy and no SQLite in
it. The spider counts the requests and items it makes for a source, the
pipeline counts the items it has written; whoever brings a source's count
to zero sends the :data:`source_idle` signal, and
:class:`~crawler.downloadermiddlewares.lifecycle.SourceLifecycle` closes the row.
When the archive refuses a write, every run stops at once
(:meth:`SourceRuns.fail`): nothing more is written or asked, no source is idle,
and the rows are closed at the crawl's end with the reason
(:func:`crawler.local.close_runs`).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from archive.clean.options import ExtractOptions
from archive.clean.profiles import load_options
from archive.extract.unreadable import preview_channel
from archive.models import WebKnown
from archive.source import SOURCE_TELEGRAM, Source

from .options import CrawlOptions
from .plans.backfill import ConcurrentWalk
from .plans.gaps import GapWalk
from .plans.walks import TelegramWalk, WebWalk
from .view import ArchiveView, EmptyView

#: Scrapy signal (``source=KEY``): nothing of this source is outstanding any more.
source_idle = object()
#: Scrapy signal (``reason=TEXT``): the archive refused a write; the whole crawl stops
#: (:meth:`SourceRuns.fail`, and the engine is closed).
archive_refused = object()


@dataclass
class SourceRun:
    """One source's run: its crawl row, its limit, and how much of it is outstanding."""

    crawl_id: int | None = None
    time_limit: float | None = None  # seconds from its first request; None: no limit
    outstanding: int = 0  # requests not yet handled + items not yet written
    started: float | None = None  # monotonic time of its first request
    closed: bool = False


class SourceRuns:
    """The runs of the sources of one crawl, by source key."""

    def __init__(
        self,
        crawl_ids: Mapping[str, int] | None = None,
        time_limits: Mapping[str, float] | None = None,
    ) -> None:
        self._runs: dict[str, SourceRun] = {}
        #: Why the archive refused a write, once it has: every run stops (see :meth:`fail`).
        self.fault: str | None = None
        #: Held while an item is written (in the pipeline's writer thread) and while a run is
        #: cut off: an item is written wholly before its run closes, or not at all.
        self.lock = threading.RLock()
        for key, crawl_id in (crawl_ids or {}).items():
            self._run(key).crawl_id = crawl_id
        for key, limit in (time_limits or {}).items():
            self._run(key).time_limit = float(limit) if limit else None

    def _run(self, source: str) -> SourceRun:
        run = self._runs.get(source)
        if run is None:
            run = self._runs[source] = SourceRun()
        return run

    def crawl_id(self, source: str) -> int | None:
        run = self._runs.get(source)
        return run.crawl_id if run else None

    def time_limit(self, source: str) -> float | None:
        run = self._runs.get(source)
        return run.time_limit if run else None

    def is_open(self, source: str) -> bool:
        """Whether work of ``source`` is still wanted (its run is not closed, nor the archive
        refusing writes)."""
        if self.fault is not None:
            return False
        run = self._runs.get(source)
        return run is None or not run.closed

    def fail(self, reason: str) -> bool:
        """The archive refused a write: no source gets anything more written or requested,
        and none is idle (its row is closed as cut short, with ``reason``, at the end).
        True the first time only (the first reason is kept)."""
        if self.fault is not None:
            return False
        self.fault = reason
        return True

    def hold(self, source: str) -> None:
        """One more request or item of ``source`` is outstanding."""
        self._run(source).outstanding += 1

    def release(self, source: str) -> bool:
        """One request or item of ``source`` is done; True when that was its last, and it is open."""
        run = self._run(source)
        run.outstanding = max(0, run.outstanding - 1)
        return run.outstanding == 0 and not run.closed and self.fault is None

    def start(self, source: str, now: float) -> bool:
        """Start ``source``'s clock at its first request; True the first time only."""
        run = self._run(source)
        if run.started is not None:
            return False
        run.started = now
        return True

    def time_left(self, source: str, now: float) -> float | None:
        """Seconds left before ``source``'s limit; None without a limit or before it started."""
        run = self._runs.get(source)
        if run is None or run.time_limit is None or run.started is None:
            return None
        return run.started + run.time_limit - now

    def close(self, source: str) -> tuple[bool, int | None]:
        """Close ``source``'s run: (whether it was open until now, its crawl id)."""
        run = self._run(source)
        was_open = not run.closed
        run.closed = True
        return was_open, run.crawl_id

    def open_sources(self) -> list[str]:
        return [key for key, run in self._runs.items() if not run.closed]


@functools.lru_cache(maxsize=64)
def extraction_options(profile: str | None) -> ExtractOptions:
    """The extraction options of a site profile (None: the defaults), read once per process."""
    return load_options(profile)


class CrawlState:
    """One crawl: its sources and options, what it asked for, and where each walk is."""

    def __init__(
        self,
        sources: Iterable[Source],
        options: CrawlOptions,
        *,
        view: ArchiveView | None = None,
        crawl_ids: Mapping[str, int] | None = None,
        runs: SourceRuns | None = None,
        budgeted: bool = True,
        backfill: bool = True,
    ) -> None:
        self.sources: dict[str, Source] = {s.key: s for s in sources}
        self.options = options
        #: How the pages are read: the extraction options of ``options.profile``.
        self.extract = extraction_options(options.profile)
        self.view: ArchiveView = view or EmptyView()
        self.crawl_ids: dict[str, int] = dict(crawl_ids or {})
        self.runs = runs or SourceRuns(self.crawl_ids)
        #: Pages each source may ask for here (None: no cap here; a worker's is kept in Redis).
        self.page_budget = options.max_pages if budgeted else None
        #: Whether a ``--full`` walk may ask for several pages at a time (a host that allows it).
        self.backfill = backfill
        self.requested: dict[str, int] = {}
        #: Sources a page of which the archive refused whole: they ask for nothing more.
        self.halted: set[str] = set()
        self.telegram_walks: dict[str, TelegramWalk | ConcurrentWalk | GapWalk] = {}
        self.web_walks: dict[str, WebWalk] = {}
        self.web_known: dict[str, WebKnown] = {}
        #: The Telegram channel each source's pages must list (a @name source knows it).
        self.channel_names: dict[str, str] = {}
        for s in self.sources.values():
            name = s.name if s.kind == SOURCE_TELEGRAM else preview_channel(s.url)
            if name:  # a /s/NAME page anywhere lists NAME's messages, whatever it redirects to
                self.channel_names[s.key] = name

    def crawl_id(self, source: str) -> int | None:
        return self.crawl_ids.get(source)

    def may_request(self, source: str) -> bool:
        """Whether ``source`` may ask for one more page (its budget, its run still open)."""
        if self.page_budget is not None and self.requested.get(source, 0) >= self.page_budget:
            return False
        return source not in self.halted and self.runs.is_open(source)

    def known(self, channel: str) -> WebKnown:
        """A web channel's live posts, as they stood when this crawl first asked."""
        if channel not in self.web_known:
            self.web_known[channel] = self.view.known_posts(channel)
        return self.web_known[channel]
