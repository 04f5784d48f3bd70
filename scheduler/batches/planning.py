"""Planning batches: which due sources are crawled together, and which hosts must wait.

The rules a plan keeps (:func:`plan_batches`):

- **A host is crawled by one batch at a time**: its due sources go into one
  batch (at most ``batch_size`` of them; the rest wait for that batch to
  end), never into two processes at once. Within a batch Scrapy keeps one
  request at a time per host, with its delay, however many sources of that
  host the batch has.
- **A batch shares one set of crawl options** (``-s``, ``--max-pages`` …:
  they are the process's), so sources with different options go apart
  (:func:`crawl_signature`).
- **Whole hosts are packed together** up to ``batch_size`` sources, so many
  small sites share a process, and at most ``slots`` batches are planned.
- **A backed-off host waits**: a host that answered 429 (or sent
  ``Retry-After``, or served Telegram's throttled page) is left alone until
  the time the crawl's ``HostBackoffMiddleware`` stored in ``host_backoff``
  (:func:`host_backoffs`); the rounds hold its sources until then.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlite_utils

from archive.store.backoff import backoff_left
from crawler.options import signature as options_signature

from ..sources.scheduled import ScheduledSource


def crawl_signature(source: ScheduledSource) -> str:
    """What sources must share to share a crawl process: their effective crawl options."""
    return options_signature(source.crawl.effective())


def plan_batches(
    sources: list[ScheduledSource],
    *,
    busy_hosts: set[str] | frozenset[str] = frozenset(),
    batch_size: int = 500,
    slots: int = 4,
) -> list[list[ScheduledSource]]:
    """Batches for ``sources`` (oldest first): whole hosts, one crawl setting each, ≤ ``slots``.

    Hosts in ``busy_hosts`` are being crawled and wait. A host's sources go
    into one batch, cut at ``batch_size`` (the rest wait for it to end); a
    host whose sources differ in crawl options sends one kind at a time.
    Sources left out of the plan stay due.
    """
    groups: dict[tuple[str, str], list[ScheduledSource]] = {}
    for source in sources:
        if source.host not in busy_hosts:
            groups.setdefault((crawl_signature(source), source.host), []).append(source)
    batches: list[tuple[str, list[ScheduledSource]]] = []
    hosts: set[str] = set()
    for (signature, host), group in groups.items():
        if host in hosts:
            continue  # one batch per host at a time
        group = group[: max(1, batch_size)]
        target = next(
            (b for b in batches if b[0] == signature and len(b[1]) + len(group) <= batch_size),
            None,
        )
        if target is None:
            if len(batches) >= slots:
                continue
            target = (signature, [])
            batches.append(target)
        target[1].extend(group)
        hosts.add(host)
    return [batch for _, batch in batches]


def host_backoff(
    db: sqlite_utils.Database, host: str, now: datetime | None = None
) -> tuple[float, str] | None:
    """Seconds left of ``host``'s backoff and its reason; None when it is not backed off."""
    if "host_backoff" not in db.table_names():
        return None
    return backoff_left(db.conn, host, now)


def host_backoffs(
    db: sqlite_utils.Database, hosts: Iterable[str], now: datetime | None = None
) -> dict[str, tuple[float, str]]:
    """The hosts among ``hosts`` that are backed off: host -> (seconds left, reason)."""
    if "host_backoff" not in db.table_names():
        return {}
    found = {}
    for host in hosts:
        left = backoff_left(db.conn, host, now)
        if left:
            found[host] = left
    return found
