"""Where a source's changes go: its ``--notify`` targets, checked, masked, set and read.

``sources add SOURCE ... --notify URL`` names where a source's changes go
(any apprise URL: ``json://``, ``mailto://``, ``ntfy://``, ``tgram://`` …),
kept in the archive's ``notify_targets`` table (written by
:mod:`archive.store.notifications`). Apprise URLs may carry credentials:
lists and logs show them masked (``shown``), and untrusted SQL (``query``,
``serve``) reads the column as NULL.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlite_utils

from archive.errors import BadInput
from archive.store.notifications import set_notify_targets


@dataclass
class Target:
    """Where one source's changes go, and how far it has been told."""

    source: str
    url: str
    shown: str  # the URL with its secrets masked
    notified_until: str
    last_attempt_at: str | None = None
    last_sent_at: str | None = None
    failures: int = 0
    last_error: str | None = None

    def record(self) -> dict:
        """What ``sources list --format json`` shows of it (never the URL itself)."""
        return {
            "target": self.shown,
            "notified_until": self.notified_until,
            "last_sent_at": self.last_sent_at,
            "consecutive_failures": self.failures,
            "last_error": self.last_error,
        }


def masked(url: str) -> str:
    """``url`` as lists and logs show it: apprise's privacy form, without its options."""
    import apprise

    service = apprise.Apprise.instantiate(url)
    if service is None:
        return url.split("://", 1)[0] + "://…"
    return service.url(privacy=True).split("?", 1)[0]


def check_urls(urls: Iterable[str]) -> list[str]:
    """The URLs, each checked to be one apprise can send to; :class:`BadInput` names a bad one."""
    import apprise

    checked = []
    for url in urls:
        url = url.strip()
        if apprise.Apprise.instantiate(url) is None:
            raise BadInput(
                f"--notify {url!r} is not a notification URL apprise knows "
                "(e.g. json://host/path, mailto://user:pass@example.com, ntfy://topic)"
            )
        if url not in checked:
            checked.append(url)
    return checked


def _target(row: tuple) -> Target:
    return Target(*row)


_COLUMNS = "source, url, shown, notified_until, last_attempt_at, last_sent_at, failures, last_error"


def targets(db: sqlite_utils.Database, key: str) -> list[Target]:
    """Where ``key``'s changes go, in the order they were added."""
    if "notify_targets" not in db.table_names():
        return []
    return [
        _target(row)
        for row in db.execute(
            f"SELECT {_COLUMNS} FROM notify_targets WHERE source = ? ORDER BY added_at, rowid",
            [key],
        )
    ]


def set_targets(db: sqlite_utils.Database, key: str, urls: Iterable[str]) -> list[Target]:
    """Make ``urls`` the targets of source ``key``: new ones start from now, kept ones keep
    their watermark, others are dropped. (Changes before a target was added are not sent.)"""
    set_notify_targets(db, key, {url: masked(url) for url in check_urls(urls)})
    return targets(db, key)
