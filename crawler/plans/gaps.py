"""``crawl --fill-gaps``: the walk that fetches only the pages covering a channel's holes.

A hole is an id range no crawl has walked (:func:`archive.models.uncovered_ranges`
of the archived ranges, as ``chanarchive gaps`` shows them). The walk starts at
the newest hole's ``?before=`` its top + 1 and walks down through it; each page
covers its lowest id up to its ``before`` - 1, which is taken off the holes;
when the hole is filled, the walk jumps to the top of the next one down, and
it ends when no hole is left. It never asks for the channel's newest page nor
for any page inside ranges the archive holds.
"""

from __future__ import annotations

from archive.models import Page, post_number


class GapWalk:
    """The ``?before=`` pages that fill the holes of one channel, one page at a time."""

    def __init__(self, holes: list[tuple[int, int]]) -> None:
        #: What is left to fill, newest first.
        self.holes = sorted(((lo, hi) for lo, hi in holes if lo <= hi), reverse=True)
        self.pages = 0
        #: Fill walks never decide the channel's start themselves (an empty page does).
        self.start_page = False

    def first_before(self) -> int | None:
        """The ``before`` of the first page: the top of the newest hole + 1."""
        return self.holes[0][1] + 1 if self.holes else None

    def _fill(self, lo: int, hi: int) -> None:
        """Take ``lo..hi`` (now archived in full) off the holes."""
        left: list[tuple[int, int]] = []
        for h_lo, h_hi in self.holes:
            if h_hi < lo or h_lo > hi:
                left.append((h_lo, h_hi))
                continue
            if h_hi > hi:
                left.append((hi + 1, h_hi))
            if h_lo < lo:
                left.append((h_lo, lo - 1))
        self.holes = sorted(left, reverse=True)

    def next_before(self, page: Page) -> int | None:
        """The ``before`` of the next page to fetch, or None when every hole is filled (or the
        walk cannot go on: throttled, a server that ignores ``?before=``)."""
        self.pages += 1
        if page.before is None:
            return None  # not a page this walk asked for
        ids = [n for p in page.posts if (n := post_number(p.post_id)) is not None]
        if not ids:
            if not page.throttled:  # nothing older exists: the page covers 1..before-1
                self._fill(1, page.before - 1)
            return None  # throttled: the holes stay for a later crawl
        lowest = min(ids)
        if lowest >= page.before:
            return None  # the server ignored ?before=: going on would loop
        self._fill(lowest, page.before - 1)
        return self.first_before()
