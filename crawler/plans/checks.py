"""Deletion checks in a crawl: which missing posts to look at, and what each look said.

A Telegram listing page that no longer shows a post of its id range makes
that post *missing* in the archive (:func:`archive.store.ingest_page`, which
says which range it judged); its own single-post embed (``/NAME/ID?embed=1``,
on the host the channel is crawled from) decides whether it is deleted
(:mod:`archive.store.deletions`).

Once a page is written, the writer asks its crawl's :class:`DeletionChecks`
which posts to look at: the archive's live posts of the range the page was
judged on that it does not show, and on the crawl's first page the posts
earlier crawls left undecided. Each look goes out as an ordinary request
(same downloader, same per-host delay) counted in the source's run like its
pages, so a source's crawl row closes only after its checks are written;
its answer comes back as a :class:`~crawler.items.CheckItem`, kept only
when :func:`check_problem` finds nothing wrong with it: a look at the post's
own embed on the host the source is crawled from, and a confirmed deletion
with its evidence (the answer as fetched, which must itself say so).

Budget: at most ``budget`` looks per source and crawl (``crawl
--deletion-checks N``); the posts left over stay missing and are looked at
by a later crawl, the longest missing first. ``0`` looks at nothing: posts
gone from the listing stay missing, never deleted.
"""

from __future__ import annotations

from typing import Protocol

import scrapy

from archive.extract.embed import embed_url, read_embed
from archive.models import CHECK_DELETED, CHECK_FAILED, KIND_TELEGRAM, Page, post_number
from archive.source import origin_of
from archive.times import utcnow

from ..items import CheckItem
from ..responses import capture_from_response, describe_failure

#: Checks wait behind the pages of the walk (Scrapy serves higher priorities first).
CHECK_PRIORITY = -10
#: The spider's callbacks of a check request: (callback, errback).
CALLBACKS = ("parse_check", "check_failed")


class Archived(Protocol):
    """What the checks ask of the archive (:class:`crawler.view.SqliteView` answers)."""

    def live_post_nums(self, channel: str, lo: int, hi: int) -> list[int]: ...

    def pending_checks(self, channel: str, limit: int) -> list[int]: ...


class DeletionChecks:
    """Which missing posts one source's crawl looks at, within its budget."""

    def __init__(self, budget: int, archived: Archived) -> None:
        self.budget = max(0, int(budget or 0))
        self.archived = archived
        self.asked: set[int] = set()
        self._loaded = False

    def to_check(self, page: Page, judged: tuple[int, int] | None) -> list[int]:
        """Ids of the page's channel to look at now (each once per crawl), within the budget.

        ``judged``: the id range the archive took the page's absent posts as
        missing in (:attr:`archive.store.PageResult.judged`), None when none.
        """
        if self.budget <= 0 or page.kind != KIND_TELEGRAM or page.channel is None:
            return []
        name = page.channel.name
        present = {n for p in page.posts if (n := post_number(p.post_id)) is not None}
        wanted: list[int] = []
        if not self._loaded:  # the first page: what earlier crawls left undecided
            self._loaded = True
            wanted += self.archived.pending_checks(name, self.budget)
        if judged is not None:
            wanted += self.archived.live_post_nums(name, *judged)
        chosen = []
        for number in wanted:
            if len(self.asked) >= self.budget:
                break
            if number in present or number in self.asked:
                continue
            self.asked.add(number)
            chosen.append(number)
        return chosen


def check_request(source: str, page_url: str, channel: str, post_num: int) -> scrapy.Request:
    """The look at one post's embed, on the host ``page_url`` came from (callbacks:
    :data:`CALLBACKS`, set by whoever sends it)."""
    return scrapy.Request(
        embed_url(page_url, channel, post_num),
        meta={
            "source": source,
            "check": [channel, str(post_num)],
            # Every answer is a verdict to keep (an error status: undecided); a redirect too.
            "handle_httpstatus_all": True,
        },
        dont_filter=True,
        priority=CHECK_PRIORITY,
    )


def check_problem(item: CheckItem, source_url: str) -> str | None:
    """Why the look ``item`` cannot be kept for a crawl of the source at ``source_url``, or None.

    It must be a look at its post's own embed (:func:`check_request`'s URL) on
    the host the source is crawled from; a ``deleted`` one must carry its
    evidence, the answer as fetched from that URL, which itself says the post
    is gone (:func:`~archive.extract.embed.read_embed`).
    """
    if post_number(item.post_id) is None:
        return f"a check of {item.channel}/{item.post_id[:40]}, which is no post number"
    if origin_of(item.url) != origin_of(source_url) or item.url != embed_url(
        item.url, item.channel, item.post_id
    ):
        return f"a check at {item.url[:200]}, not the embed of {item.channel}/{item.post_id}"
    if item.outcome != CHECK_DELETED:
        return None
    capture = item.capture
    if capture is None:
        return f"a deletion of {item.channel}/{item.post_id} without the answer that said so"
    if capture.url != item.url:
        return f"a deletion of {item.channel}/{item.post_id} with the answer of {capture.url[:200]}"
    said = read_embed(capture.status, capture.body, item.channel, item.post_id)
    if said.outcome != CHECK_DELETED:
        return f"a deletion of {item.channel}/{item.post_id} whose answer says: {said.reason}"
    return None


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
        # The embed looked at, on the channel's host, even when a redirect failed elsewhere.
        url=(request.meta.get("redirect_urls") or [request.url])[0],
        outcome=CHECK_FAILED,
        http_status=getattr(response, "status", None),
        reason=message,
        checked_at=utcnow(),
    )
