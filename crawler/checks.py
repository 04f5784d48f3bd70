"""Deletion checks in a crawl: which missing posts to look at, and what each look said.

A Telegram listing page that no longer shows a post of its id range makes
that post *missing* in the archive (:func:`archive.store.ingest_page`); its
own single-post embed (``/NAME/ID?embed=1``, on the host the channel is
crawled from) decides whether it is deleted (:mod:`archive.store.deletions`).

The spider stays parse-only: what the archive holds reaches it as plain
data — ``held(name, lo, hi)``, the live post ids of a range, and
``pending(name)``, the posts left undecided by earlier crawls — and each
look goes out as a :class:`~crawler.items.CheckItem` for the pipeline to
write. Looks are ordinary requests (same downloader, same per-host delay)
counted in the source's run like its pages, so a source's crawl row closes
only after its checks are written.

Budget: at most ``budget`` looks per source and crawl (``crawl
--deletion-checks N``); the posts left over stay missing and are looked at
by a later crawl, the longest missing first. ``0`` looks at nothing: posts
gone from the listing stay missing, never deleted. A distributed worker
has no archive to compare with: there the ingester, which has, plans the
checks after each page it writes and queues them for the workers.
"""

from __future__ import annotations

from collections.abc import Callable

import scrapy

from archive.extract.embed import embed_url, read_embed
from archive.models import CHECK_FAILED, KIND_TELEGRAM, Page, post_number
from archive.times import utcnow

from .captures import capture_from_response
from .failures import describe_failure
from .items import CheckItem

#: Checks wait behind the pages of the walk (Scrapy serves higher priorities first).
CHECK_PRIORITY = -10

Held = Callable[[str, int, int], list[int]]
Pending = Callable[[str], list[int]]


def judged_range(page: Page) -> tuple[int, int] | None:
    """The id range whose absent posts the archive takes as missing, as ingest judges it."""
    if page.kind != KIND_TELEGRAM or page.channel is None or not page.posts or page.errors:
        return None
    if page.throttled and not page.start:
        return None
    return page.listing_range()


class DeletionChecks:
    """Which missing posts each source's crawl looks at, within its budget."""

    def __init__(
        self, budget: int = 0, held: Held | None = None, pending: Pending | None = None
    ) -> None:
        self.budget = max(0, int(budget or 0))
        self.held = held or (lambda name, lo, hi: [])
        self.pending = pending or (lambda name: [])
        self._asked: dict[str, set[int]] = {}
        self._loaded: set[str] = set()

    def used(self, source: str) -> int:
        return len(self._asked.get(source, ()))

    def to_check(self, source: str, page: Page) -> list[int]:
        """Ids of the page's channel to look at now (each once per crawl), within the budget."""
        if self.budget <= 0 or page.kind != KIND_TELEGRAM or page.channel is None:
            return []
        name = page.channel.name
        present = {n for p in page.posts if (n := post_number(p.post_id)) is not None}
        wanted: list[int] = []
        if source not in self._loaded:  # the first page: what earlier crawls left undecided
            self._loaded.add(source)
            wanted += self.pending(name)
        span = judged_range(page)
        if span is not None:
            wanted += self.held(name, *span)
        asked = self._asked.setdefault(source, set())
        chosen = []
        for number in wanted:
            if len(asked) >= self.budget:
                break
            if number in present or number in asked:
                continue
            asked.add(number)
            chosen.append(number)
        return chosen


def check_request(
    source: str, page_url: str, channel: str, post_num: int, callback, errback
) -> scrapy.Request:
    """The look at one post's embed, on the host ``page_url`` came from."""
    return scrapy.Request(
        embed_url(page_url, channel, post_num),
        callback=callback,
        errback=errback,
        meta={
            "source": source,
            "check": [channel, str(post_num)],
            # Every answer is a verdict to keep (an error status: undecided); a redirect too.
            "handle_httpstatus_all": True,
        },
        dont_filter=True,
        priority=CHECK_PRIORITY,
    )


def check_item(response) -> CheckItem:
    """What the embed in ``response`` says of its post."""
    channel, post_id = response.meta["check"]
    answer = read_embed(response.status, response.body, channel, post_id)
    return CheckItem(
        source=response.meta["source"],
        channel=channel,
        post_id=post_id,
        url=response.url,
        outcome=answer.outcome,
        http_status=response.status,
        reason=answer.reason,
        checked_at=utcnow(),
        capture=capture_from_response(response),
    )


def failed_check_item(failure) -> CheckItem:
    """A look that got no answer (timeout, refused, robots.txt): the post stays undecided."""
    request = failure.request
    channel, post_id = request.meta["check"]
    _kind, message = describe_failure(failure)
    response = getattr(failure.value, "response", None)
    return CheckItem(
        source=request.meta["source"],
        channel=channel,
        post_id=post_id,
        url=request.url,
        outcome=CHECK_FAILED,
        http_status=getattr(response, "status", None),
        reason=message,
        checked_at=utcnow(),
    )
