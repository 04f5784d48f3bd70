"""Backfill with several ``?before=`` pages in flight: a ``--full`` walk when the host allows it.

A t.me/s page shows about twenty messages below its ``before``; the plain
walk (:class:`~crawler.plans.walks.TelegramWalk`) asks for one page at a time,
since the next ``before`` is the lowest id of the page just read. Message
ids are dense enough that the next windows can be guessed: with the newest
page read (lowest id ``L``, twenty a page), the pages below start at about
``L``, ``L - 20``, ``L - 40`` … :class:`ConcurrentWalk` keeps up to
``concurrency`` such pages in flight, and reconciles what came back:

- every page covers its lowest id up to its ``before - 1`` (the ids it does
  not show there are deleted), so the walk keeps the ranges covered in this
  crawl, and for every gap between two of them (a window guessed too low,
  where deleted ids or albums made a page cover more than twenty ids above)
  it asks for the page at the gap's top: gaps are refilled, never skipped;
- an empty page that is not throttling, the message with id 1 or the
  "Channel created" service message proves nothing older exists: no
  window below it is asked for, and the archive remembers the start;
- a throttled page stops new windows (what is missing is not recorded as
  covered, so the next crawl fills it).

It is used only when the crawl's host allows more than one request at a
time (``-s CONCURRENT_REQUESTS_PER_DOMAIN=4`` for a host of its own; for
t.me, whose politeness slot says one, ``-s 'DOWNLOAD_SLOTS={"t.me":
{"concurrency": 4, "delay": 1.5}}'``): the default stays one page at a time.
The archive ends up with the same posts either way, in a different order.
"""

from __future__ import annotations

from archive.models import Page, post_number
from archive.times import to_datetime

from .walks import merge_ranges, older_than


class ConcurrentWalk:
    """The pages of one channel's ``--full`` walk, several in flight at a time."""

    def __init__(self, concurrency: int, *, since: str | None = None):
        self.concurrency = max(1, concurrency)
        #: ``crawl --since``: no window below a page with a post older than this.
        self.since = to_datetime(since) if since else None
        self.asked: set[int] = set()  # every ``before`` requested in this crawl
        self.in_flight: set[int] = set()
        self.covered: list[tuple[int, int]] = []  # ranges covered by this crawl's pages
        self.top: int | None = None  # the newest page's highest id
        self.stride = 20  # ids a page spans, as the fullest page showed
        self.floor = 1  # nothing below this id exists (an empty page proved it)
        self.stopped = False  # throttled or stalled: no new windows
        self.reached_start = False
        self.stalled = False
        self.pages = 0
        #: The last page read proved that no message of the channel is older than it shows
        #: (as :attr:`TelegramWalk.start_page <crawler.plans.walks.TelegramWalk.start_page>`).
        self.start_page = False

    def next_befores(self, page: Page) -> list[int]:
        """The ``before`` values to ask for now that ``page`` is read (none: nothing to add)."""
        self.pages += 1
        self.start_page = False
        if page.before is not None:
            self.in_flight.discard(page.before)
        ids = [n for p in page.posts if (n := post_number(p.post_id)) is not None]
        if page.throttled:
            self.stopped = True
            return []
        if page.before is not None and ids and min(ids) >= page.before:
            self.stalled = self.stopped = True  # the server ignores ?before=: it would loop
            return []
        if ids:
            self.stride = max(self.stride, len(ids))
            if page.before is None:
                self.top = max(ids) if self.top is None else max(self.top, max(ids))
        elif page.before is not None:
            self.floor = max(self.floor, page.before)  # nothing is older than its before
            self.start_page = True
        if ids and (min(ids) <= 1 or page.shows_creation()):
            self.floor = max(self.floor, min(ids))  # the channel's first message: nothing below
            self.start_page = True
        if ids and older_than(page, self.since):
            self.floor = max(self.floor, min(ids))  # older than asked for: nothing below
        covered = page.covered_range(start=self.start_page)
        if covered is not None:
            self.covered = merge_ranges([*self.covered, covered])
        if self.top is None:
            return []
        chosen = [b for b in self._gaps() if b not in self.asked and b > self.floor]
        for before in chosen:
            self._ask(before)
        if not self.stopped:
            before = self._next_window()
            while before is not None and len(self.in_flight) < self.concurrency:
                self._ask(before)
                chosen.append(before)
                before = self._next_window()
        if self.covered and self.covered[0][0] <= 1 and len(self.covered) == 1:
            self.reached_start = True
        return chosen

    def _ask(self, before: int) -> None:
        self.asked.add(before)
        self.in_flight.add(before)

    def _gaps(self) -> list[int]:
        """``before`` of the page at the top of each gap between covered ranges, top first."""
        tops = [
            above[0]
            for below, above in zip(self.covered, self.covered[1:], strict=False)
            if below[1] + 1 < above[0]
        ]
        return sorted(tops, reverse=True)

    def _next_window(self) -> int | None:
        """The next guessed ``before`` below everything asked and covered, or None at the floor."""
        lowest_covered = self.covered[0][0] if self.covered else self.top
        if any(before <= lowest_covered for before in self.asked):
            guess = min(self.asked) - self.stride  # a page below is on its way: guess past it
        else:
            guess = lowest_covered  # nothing asked below what is read: the page just below
        if guess <= self.floor or guess in self.asked:
            return None
        return guess
