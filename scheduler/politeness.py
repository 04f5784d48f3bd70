"""Politeness across scheduled crawls: a host that asked to be left alone waits.

Within one crawl, Scrapy keeps one request at a time per host, with its
delay, however many sources of that host the crawl has; the scheduler puts
all the due sources of a host into one batch (:mod:`scheduler.rounds`), so
no two crawl processes fetch from one host at once. A host that answered
429 (or sent ``Retry-After``, or served Telegram's throttled page) is left
alone until the time the crawl's ``HostBackoffMiddleware`` stored in
``host_backoff``: the scheduler holds that host's sources until then.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlite_utils

from archive.store.backoff import backoff_left


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
