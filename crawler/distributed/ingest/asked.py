"""What a crawl asked for: the ingester writes a delivery only when it answers a request the
crawl queued.

A delivery comes from Redis, where anyone who can reach it may write: its
record is checked by :func:`~crawler.distributed.deliveries.read_delivery`,
and here, against what the crawl itself queued (:func:`check_asked`):

- it names a running crawl of this queue (:meth:`QueuedCrawls.running`);
- its request key is one the crawl still waits for (``pending:<crawl>``);
- it speaks for the crawl's own source;
- a side request (a key in ``sseen:<crawl>``: a media file, a deletion
  check) is answered only by media or check items fetched from exactly the
  URL queued (the key is that URL's), a page request only by pages and
  errors.

These hold for the queue only: a local crawl asks and answers in one
process. What holds for every crawl — a page only of the source's own
origin, a deletion check only at the post's own embed and with its
evidence, media linked only to the crawl's own posts — is the writer's and
the store's to refuse (:mod:`crawler.writer`, :mod:`archive.store`).
"""

from __future__ import annotations

from archive.errors import BadRecord

from ...items import CheckItem, ErrorItem, MediaItem, PageItem
from ..deliveries import Delivered
from ..frontier import Frontier, request_key

#: The items that may answer each kind of request.
ANSWERS = {"page": (PageItem, ErrorItem), "side": (MediaItem, CheckItem)}


class NotAsked(BadRecord):
    """A delivery that answers nothing its crawl queued: never written."""


def check_asked(frontier: Frontier, delivery: Delivered, source: str) -> None:
    """Refuse (:class:`NotAsked`) ``delivery`` unless it answers a request its crawl, of
    source ``source``, queued and still waits for."""
    crawl, rkey = delivery.crawl, delivery.rkey
    pipe = frontier.server.pipeline(transaction=False)
    pipe.sismember(frontier.pending(crawl), rkey)
    pipe.sismember(frontier.side_seen(crawl), rkey)
    pending, side = pipe.execute()
    if not pending:
        raise NotAsked(f"request {rkey} is none crawl {crawl} waits for")
    if delivery.refused is not None:
        return  # a worker could not read the request: nothing is written but why
    if delivery.source != source:
        raise NotAsked(f"a delivery for source {delivery.source[:100]!r}, not {source!r}")
    kind = "side" if side else "page"
    for index, item in enumerate(delivery.items):
        if not isinstance(item, ANSWERS[kind]):
            raise NotAsked(f"item {index}: a {item.TYPE} item does not answer a {kind} request")
        if kind == "side" and request_key("GET", item.url) != rkey:
            raise NotAsked(f"item {index}: {item.url[:200]} is not the URL queued")
