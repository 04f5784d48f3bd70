"""A delivery: everything one leased request produced, handed to the ingester in one push.

Its record (JSON) is what crosses from a worker to the ingester through
Redis: the crawl, the request's key, its source, and the items in their
record form (:mod:`crawler.items`). :meth:`Delivery.from_record` reads one
back, checked: an unknown version, a field of the wrong type or an item
that does not fit is :class:`~archive.errors.BadRecord`, never written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from archive.errors import BadRecord

from ..items import Item, item_from_record
from .frontier import Child

#: The version of the delivery record the ingester reads.
DELIVERY_VERSION = 2
#: The most items one request may deliver (a page, its errors; a page holds ~20 posts).
MAX_ITEMS = 1000


@dataclass
class Delivery:
    """What one leased request produced: its items, and the requests it leads to."""

    crawl: int
    rkey: str
    lease: int
    source: str
    max_pages: int | None
    items: list[Item] = field(default_factory=list)
    children: list[Child] = field(default_factory=list)

    def to_record(self) -> dict[str, Any]:
        """The JSON-ready record the ingester reads (the children go to the queue instead)."""
        return {
            "v": DELIVERY_VERSION,
            "crawl": self.crawl,
            "rkey": self.rkey,
            "source": self.source,
            "items": [item.to_record() for item in self.items],
        }


@dataclass(frozen=True)
class Delivered:
    """A delivery as the ingester reads it."""

    crawl: int
    rkey: str
    source: str
    items: list[Item]


def crawl_of(record: Any) -> int | None:
    """The crawl a delivery record names, if it names one (to charge a bad record to it)."""
    crawl = record.get("crawl") if isinstance(record, dict) else None
    return crawl if isinstance(crawl, int) and not isinstance(crawl, bool) else None


def read_delivery(record: Any) -> Delivered:
    """A delivery record, checked; :class:`BadRecord` says what does not fit."""
    if not isinstance(record, dict):
        raise BadRecord("a delivery must be an object")
    if record.get("v") != DELIVERY_VERSION:
        raise BadRecord(f"a delivery of version {record.get('v')!r}, not {DELIVERY_VERSION}"[:200])
    crawl, rkey, source = crawl_of(record), record.get("rkey"), record.get("source")
    if crawl is None or not isinstance(rkey, str) or not isinstance(source, str):
        raise BadRecord("a delivery without its crawl, request key or source")
    items = record.get("items")
    if not isinstance(items, list) or len(items) > MAX_ITEMS:
        raise BadRecord(f"a delivery's items must be a list of at most {MAX_ITEMS}")
    read = []
    for index, data in enumerate(items):
        try:
            item = item_from_record(data)
        except BadRecord as exc:
            raise BadRecord(f"item {index}: {exc}") from None
        if item.source != source:
            raise BadRecord(f"item {index}: of source {item.source!r}, not {source!r}"[:200])
        read.append(item)
    return Delivered(crawl, rkey, source, read)
