"""A delivery: everything one leased request produced, handed to the ingester in one push.

Its record (JSON) is what crosses from a worker to the ingester through
Redis: the crawl, the request's key, its source, and the items in their
record form (:mod:`crawler.items`); or, for a queued request the worker
could not read, no items and why (``refused``: :func:`refused_delivery`).
:func:`read_delivery` reads one back, checked: an unknown version or key, a
field of the wrong type or size, or an item that does not fit is
:class:`~archive.errors.BadRecord`, never written. Whether the crawl asked
for it is the ingester's to check (:mod:`.ingest.asked`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from archive.errors import BadRecord

from ..items import Item, item_from_record
from .frontier import RKEY, Child

#: The version of the delivery record the ingester reads.
DELIVERY_VERSION = 2
#: The most items one request may deliver (a page, its errors; a page holds ~20 posts).
MAX_ITEMS = 1000
#: The keys of a delivery record (``refused`` only in a refused request's).
DELIVERY_KEYS = frozenset({"v", "crawl", "rkey", "source", "items", "refused"})
#: The longest source a delivery names, and the longest reason a refused one gives.
MAX_SOURCE, MAX_REASON = 8192, 1000


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


def refused_delivery(crawl: int, rkey: str, reason: str) -> dict[str, Any]:
    """The record of a queued request a worker refused: it answers the request, with why."""
    return {
        "v": DELIVERY_VERSION,
        "crawl": crawl,
        "rkey": rkey,
        "source": "",
        "items": [],
        "refused": reason[:MAX_REASON],
    }


@dataclass(frozen=True)
class Delivered:
    """A delivery as the ingester reads it (``refused``: why the worker could not read it)."""

    crawl: int
    rkey: str
    source: str
    items: list[Item]
    refused: str | None = None


def crawl_of(record: Any) -> int | None:
    """The crawl a delivery record names, if it names one (to charge a bad record to it)."""
    crawl = record.get("crawl") if isinstance(record, dict) else None
    if isinstance(crawl, bool) or not isinstance(crawl, int) or not 1 <= crawl < 2**63:
        return None
    return crawl


def rkey_of(record: Any) -> str | None:
    """The request key a delivery record names, if it names one."""
    rkey = record.get("rkey") if isinstance(record, dict) else None
    return rkey if isinstance(rkey, str) and RKEY.fullmatch(rkey) else None


def read_delivery(record: Any) -> Delivered:
    """A delivery record, checked; :class:`BadRecord` says what does not fit."""
    if not isinstance(record, dict):
        raise BadRecord("a delivery must be an object")
    if record.get("v") != DELIVERY_VERSION:
        raise BadRecord(f"a delivery of version {record.get('v')!r}, not {DELIVERY_VERSION}"[:200])
    unknown = sorted(str(key) for key in record if key not in DELIVERY_KEYS)
    if unknown:
        raise BadRecord(f"a delivery with an unknown key {unknown[0]!r}"[:200])
    crawl, rkey, source = crawl_of(record), rkey_of(record), record.get("source")
    if crawl is None or rkey is None or not isinstance(source, str) or len(source) > MAX_SOURCE:
        raise BadRecord("a delivery without its crawl, request key or source")
    items = record.get("items")
    if not isinstance(items, list) or len(items) > MAX_ITEMS:
        raise BadRecord(f"a delivery's items must be a list of at most {MAX_ITEMS}")
    refused = record.get("refused")
    if refused is not None:
        if not isinstance(refused, str) or len(refused) > MAX_REASON or items:
            raise BadRecord(f"a refused request's delivery: a reason of at most {MAX_REASON}"
                            " characters, and no items")  # fmt: skip
        return Delivered(crawl, rkey, source, [], refused)
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
