"""The one writer of a crawl: items in, archive rows out, and the side requests they lead to.

Both ways of crawling write through :class:`ArchiveWriter`: the local
crawl's pipeline (:mod:`crawler.pipelines.archive`, in its writer thread)
and the distributed crawl's ingester (:mod:`crawler.distributed.ingest`).
It holds, once:

- the dispatch over the four items (:mod:`crawler.items`) to the archive's
  write functions (:mod:`archive.store`);
- the error policy: an item that cannot be written is refused alone and
  its reason kept with its crawl (a media file's with the file), so the
  crawl goes on; a fault of the archive itself (locked past the busy
  timeout, disk full, read-only, I/O error, a damaged file:
  :func:`~archive.store.faults.archive_fault`) is no item's fault and is
  raised, its transaction rolled back, for the caller to stop on (a local
  crawl) or retry (the ingester, after :meth:`ArchiveWriter.reset`);
- what a crawl may write at all, whichever way it crawls: items of its own
  source only, pages fetched from its source's origin only (the spider
  archives nothing a redirect took elsewhere), and looks at posts' embeds on
  that origin, a deletion only with its evidence
  (:func:`~crawler.plans.checks.check_problem`); each refusal is one log
  line and an ``ingest`` error of the crawl;
- the counts, under Scrapy-style stats keys (``chanarchive/pages``,
  ``chanarchive/posts_new``, ``chanarchive/media/fetched``,
  ``chanarchive/deletion_checks/deleted``, ``chanarchive/errors/<kind>`` …);
- what Telegram's throttled answer means for a crawl (an error to keep);
- the *side requests* a written page leads to: its media files the archive
  lacks (:class:`~crawler.plans.media.MediaPlan`) and looks at the posts it
  no longer shows (:class:`~crawler.plans.checks.DeletionChecks`), planned
  from what the archive holds once the page is in it. They are returned as
  Scrapy requests without callbacks (:func:`side_callbacks` names them):
  the local pipeline hands them to its engine, the ingester queues them;
- a page the archive refuses whole (another channel's, another origin's)
  leads nowhere: no side request, and its crawl is *halted* (:attr:`ArchiveWriter.halted`:
  the local pipeline drops the source's other requests, the ingester ends the crawl).

What a crawl asks beside its pages follows its options, read from its
``crawls`` row (the one record every way of crawling writes).
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import dataclass
from typing import Protocol

import scrapy
import sqlite_utils

from archive import store
from archive.clean.options import ExtractOptions
from archive.errors import BadInput, BadRecord
from archive.models import ERROR_INGEST, ERROR_THROTTLED
from archive.source import origin_of, parse_source
from archive.store.faults import archive_fault

from .items import CheckItem, ErrorItem, Item, MediaItem, PageItem
from .options import CrawlOptions
from .plans import checks, media
from .plans.checks import DeletionChecks
from .plans.media import MediaPlan
from .state import extraction_options
from .view import SqliteView

logger = logging.getLogger(__name__)

#: Kept with a crawl's errors when Telegram kept answering its empty page.
THROTTLED_MESSAGE = "Telegram kept serving an empty page (tme_no_messages_found); try again later"


class Refused(BadRecord):
    """An item its crawl may not write (another source's, from another origin, a look at a
    post without its evidence): refused alone, its reason kept with the crawl."""


class Stats(Protocol):
    """Where the writer counts (Scrapy's stats collector is one)."""

    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None: ...


class Counts(Counter):
    """A :class:`Stats` of its own, for a writer outside Scrapy (the ingester)."""

    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None:
        self[key] += count


@dataclass
class CrawlSides:
    """One crawl, as the writer needs it: how its pages were read, and what it asks besides."""

    source: str
    options: CrawlOptions
    extract: ExtractOptions
    media: MediaPlan
    checks: DeletionChecks

    @property
    def source_url(self) -> str:
        """Where the crawl's source is crawled from ("" when its row names none)."""
        try:
            return parse_source(self.source).url
        except BadInput:
            return ""


def side_callbacks(request: scrapy.Request) -> tuple[str, str]:
    """The names of the spider's (callback, errback) for a side request of the writer."""
    return media.CALLBACKS if "media_url" in request.meta else checks.CALLBACKS


class ArchiveWriter:
    """Writes the items of any number of crawls into one archive; see the module docstring."""

    def __init__(self, db: sqlite_utils.Database, stats: Stats | None = None) -> None:
        self.db = db
        self.stats: Stats = stats if stats is not None else Counts()
        self.view = SqliteView(db)
        self._crawls: dict[int, CrawlSides] = {}
        #: Crawls a page of which the archive refused whole (another channel's, another
        #: origin's): they ask for nothing more (callers stop their requests).
        self.halted: set[int] = set()

    # -- crawls -----------------------------------------------------------------

    def crawl(self, crawl_id: int) -> CrawlSides:
        """What the writer knows of crawl ``crawl_id``, read from its row the first time."""
        sides = self._crawls.get(crawl_id)
        if sides is None:
            row = self.db.execute(
                "SELECT source, options FROM crawls WHERE id = ?", [crawl_id]
            ).fetchone()
            source, recorded = row if row else ("", None)
            options = CrawlOptions.from_record(json.loads(recorded) if recorded else None)
            sides = self._crawls[crawl_id] = CrawlSides(
                source=source,
                options=options,
                extract=extraction_options(options.profile),
                media=MediaPlan(options.media, options.media_max_size),
                checks=DeletionChecks(options.deletion_checks, self.view),
            )
        return sides

    def forget(self, crawl_id: int) -> None:
        """Crawl ``crawl_id`` is over: nothing more of it is written."""
        self._crawls.pop(crawl_id, None)
        self.halted.discard(crawl_id)

    def reset(self) -> None:
        """Forget what every crawl asked for: the archive refused a write, and what was
        planned in the transaction it rolled back (media asked for, looks at posts, a
        page refused whole) is planned again when its items are written again."""
        self._crawls.clear()
        self.halted.clear()

    # -- items ------------------------------------------------------------------

    def write(self, crawl_id: int | None, item: Item) -> list[scrapy.Request]:
        """Write ``item`` of crawl ``crawl_id``; returns the side requests it leads to."""
        problem = self._not_its(crawl_id, item)
        if problem is not None:
            self._refused(crawl_id, getattr(item, "url", None), "write", Refused(problem))
            return []
        if isinstance(item, PageItem):
            return self._page(crawl_id, item)
        if isinstance(item, ErrorItem):
            if crawl_id is not None:
                store.record_error(self.db, crawl_id, item.url, item.kind, item.message)
            self.stats.inc_value(f"chanarchive/errors/{item.kind}")
        elif isinstance(item, MediaItem):
            self._media(crawl_id, item)
        elif isinstance(item, CheckItem):
            self._check(crawl_id, item)
        else:
            raise TypeError(f"not an item: {type(item).__name__}")
        return []

    def _not_its(self, crawl_id: int | None, item: Item) -> str | None:
        """Why crawl ``crawl_id`` may not write ``item`` at all, or None."""
        if crawl_id is None:
            return None
        sides = self.crawl(crawl_id)
        if item.source != sides.source:
            return f"an item of source {item.source[:200]!r}, not of this crawl's {sides.source!r}"
        if isinstance(item, PageItem):
            got, wanted = origin_of(item.capture.url), origin_of(sides.source_url)
            if got != wanted:
                return f"a page from {got or item.capture.url[:200]}, not from {wanted}"
        if isinstance(item, CheckItem):
            return checks.check_problem(item, sides.source_url)
        return None

    def _refused(self, crawl_id: int | None, url: str | None, what: str, exc: Exception) -> None:
        """An item that could not be written: its reason kept with its crawl; the crawl goes on."""
        if archive_fault(exc):
            raise exc
        if isinstance(exc, BadInput):  # a named refusal: one line says it all
            logger.warning("Could not %s %s: %s", what, url, exc)
            reason = str(exc)
        else:
            logger.exception("Could not %s %s", what, url)
            reason = repr(exc)
        self.stats.inc_value("chanarchive/errors/ingest")
        if crawl_id is not None:
            store.record_error(self.db, crawl_id, url, ERROR_INGEST, reason)

    def _page(self, crawl_id: int | None, item: PageItem) -> list[scrapy.Request]:
        sides = self.crawl(crawl_id) if crawl_id is not None else None
        page = item.page
        try:
            result = store.ingest_page(
                self.db, crawl_id, item.capture, page,
                options=sides.extract if sides else None, start=item.start,
            )  # fmt: skip
        except Exception as exc:
            self._refused(crawl_id, item.capture.url, "archive", exc)
            return []
        self.stats.inc_value("chanarchive/pages")
        self.stats.inc_value("chanarchive/posts_new", result.new)
        self.stats.inc_value("chanarchive/posts_changed", result.changed)
        self.stats.inc_value("chanarchive/posts_deleted", result.deleted)
        if page is None:
            return []
        if page.throttled and not item.start and crawl_id is not None:
            store.record_error(
                self.db, crawl_id, item.capture.url, ERROR_THROTTLED, THROTTLED_MESSAGE
            )
        if result.refused_page:  # kept as a capture only: it leads nowhere
            if crawl_id is not None:
                self.halted.add(crawl_id)
            self.stats.inc_value("chanarchive/pages_refused")
            return []
        if sides is None:
            return []
        requests = sides.media.plan(
            item.source, page, self.view.known_media, self._linker(crawl_id)
        )
        for number in sides.checks.to_check(page, result.judged):
            requests.append(
                checks.check_request(item.source, item.capture.url, page.channel.name, number)
            )
        return requests

    def _linker(self, crawl_id: int):
        def link(url: str, refs: list) -> None:
            store.ingest_media(self.db, url, refs, None, crawl_id=crawl_id)

        return link

    def _media(self, crawl_id: int | None, item: MediaItem) -> None:
        """A media file (or why it could not be fetched): its failures are kept with the
        file, never the crawl's; the URL is tried again by a later crawl."""
        try:
            store.ingest_media(self.db, item.url, item.refs, item.fetch, crawl_id=crawl_id)
        except Exception as exc:
            if archive_fault(exc):
                raise
            logger.exception("Could not archive media %s", item.url)
            self.stats.inc_value("chanarchive/media/errors")
            return
        if item.fetch is not None:
            outcome = "fetched" if item.fetch.ok else "failed"
            self.stats.inc_value(f"chanarchive/media/{outcome}")

    def _check(self, crawl_id: int | None, item: CheckItem) -> None:
        """A look at a missing post's embed: kept, and a confirmed deletion applied."""
        try:
            store.record_deletion_check(
                self.db, crawl_id, item.channel, item.post_id, url=item.url,
                outcome=item.outcome, checked_at=item.checked_at,
                http_status=item.http_status, reason=item.reason, capture=item.capture,
            )  # fmt: skip
        except Exception as exc:
            self._refused(crawl_id, item.url, "keep the check of", exc)
            return
        self.stats.inc_value(f"chanarchive/deletion_checks/{item.outcome}")
        if item.outcome == store.CHECK_DELETED:
            self.stats.inc_value("chanarchive/posts_deleted")
