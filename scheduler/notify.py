"""Telling people what a scheduled crawl changed: one apprise message per source and target.

``sources add SOURCE ... --notify URL`` names where a source's changes go
(any apprise URL: ``json://``, ``mailto://``, ``ntfy://``, ``tgram://`` …),
kept in the archive's ``notify_targets`` table. After each scheduled crawl
of the source, the scheduler calls :func:`notify_after_crawl`, which sends
each target one message naming what changed since that target was last
told: new posts, edits with their removed and added words, deletions,
posts that came back. The change events are :mod:`archive.query.changes`.

Nothing is lost and nothing is sent twice: each target keeps a watermark
(``notified_until``); a message covers the events after it, up to a time
no crawl still running can write before, and only a message that went
out moves the watermark on. A message that fails is logged with apprise's
reason, recorded (``notifications``, ``notify_targets.last_error``), and
its changes go out with the next run's. (A process killed between sending
and recording sends that message once more.) A notification never fails
the crawl: :func:`notify_after_crawl` logs its own errors and never raises.

Apprise URLs may carry credentials: lists and logs show them masked
(``shown``), and untrusted SQL (``query``, ``serve``) reads the column as NULL.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta

import sqlite_utils

from archive.errors import BadInput
from archive.query.changes import DELETED, EDITED, NEW, UNDELETED, Change, ChangeScope, iter_changes
from archive.store import open_archive, write_transaction
from archive.times import to_datetime, utcnow

logger = logging.getLogger(__name__)

#: At most this many changes of each kind are spelled out in one message; the rest are counted.
MAX_LISTED = 10
#: Characters of a post's text quoted in a message.
QUOTE_WIDTH = 160
#: Unchanged characters kept on each side of an edit's changes.
CONTEXT = 15

SENT, FAILED = "sent", "failed"

#: The sections of a message, in order, with their headings.
SECTIONS = ((EDITED, "Edited"), (DELETED, "Deleted"), (UNDELETED, "Back"), (NEW, "New"))

#: Sends one message; returns None when it went out, else why it did not.
Sender = Callable[[str, str, str], str | None]


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


@dataclass
class Delivery:
    """What happened to one target after one crawl."""

    target: str  # shown
    status: str | None  # sent, failed, or None when there was nothing to tell
    changes: int
    error: str | None = None


# -------------------------------------------------------------------- targets


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
    wanted = check_urls(urls)
    now = utcnow()
    with write_transaction(db):
        db.execute(
            f"DELETE FROM notify_targets WHERE source = ? AND url NOT IN ({', '.join('?' * len(wanted))})",
            [key, *wanted],
        )
        for url in wanted:
            db.execute(
                "INSERT OR IGNORE INTO notify_targets (source, url, shown, added_at, notified_until)"
                " VALUES (?, ?, ?, ?, ?)",
                [key, url, masked(url), now, now],
            )
    return targets(db, key)


# ------------------------------------------------------------------- messages


def _line(text: str, width: int = QUOTE_WIDTH) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _counts(changes: list[Change]) -> str:
    parts = []
    for kind, _heading in SECTIONS:
        n = sum(1 for c in changes if c.kind == kind)
        if n:
            word = {EDITED: "edited", DELETED: "deleted", UNDELETED: "back", NEW: "new"}[kind]
            parts.append(f"{n} {word}")
    return ", ".join(parts)


def compose(source: str, changes: list[Change]) -> tuple[str, str]:
    """The title and body of the message telling of ``changes`` (newest first) in ``source``."""
    title = f"chanarchive: {source}: {_counts(changes)}"
    lines: list[str] = []
    for kind, heading in SECTIONS:
        of_kind = [c for c in changes if c.kind == kind]
        if not of_kind:
            continue
        if lines:
            lines.append("")
        lines.append(f"{heading} ({len(of_kind)}):")
        for change in of_kind[:MAX_LISTED]:
            lines.append(f"- {change.name}" + (f"  {change.url}" if change.url else ""))
            if kind == EDITED:
                if change.removed:
                    lines.append("  removed: " + _line(" · ".join(change.removed)))
                if change.added:
                    lines.append("  added: " + _line(" · ".join(change.added)))
                if change.removed or change.added:
                    lines.append("  " + _line(change.marked(context=CONTEXT), 2 * QUOTE_WIDTH))
                else:
                    lines.append("  (the text is the same: links, media or the title changed)")
            else:
                quoted = _line(change.title or change.text)
                if quoted:
                    lines.append(f"  {quoted}")
        if len(of_kind) > MAX_LISTED:
            lines.append(f"… and {len(of_kind) - MAX_LISTED} more")
    return title, "\n".join(lines) + "\n"


def apprise_sender(url: str, title: str, body: str) -> str | None:
    """Send one message with apprise; None when it went out, else apprise's reason."""
    import apprise

    service = apprise.Apprise()
    if not service.add(url):
        return "apprise cannot use this URL"
    with apprise.LogCapture(level=logging.WARNING, fmt="%(message)s") as log:
        sent = service.notify(title=title, body=body, body_format=apprise.NotifyFormat.TEXT)
        said = [line.strip() for line in log.getvalue().splitlines() if line.strip()]
    if sent:
        return None
    return said[-1] if said else "apprise could not send the message"


# -------------------------------------------------------------- after a crawl


def _channels(db: sqlite_utils.Database, key: str) -> list[str]:
    """The channels a source's crawls archive (a web source may reach more than one)."""
    names = [
        row[0]
        for row in db.execute(
            "SELECT DISTINCT ch.name FROM crawls c JOIN channels ch ON ch.id = c.channel_id"
            " WHERE c.source = ? ORDER BY ch.name",
            [key],
        )
    ]
    if key.startswith("@") and key[1:] not in names:
        names.append(key[1:])
    return names


def _settled_until(db: sqlite_utils.Database, key: str, channels: list[str], now: str) -> str:
    """The latest time no crawl still running can write an event at or before.

    An event's time is the fetch time of its page, never before its crawl
    started: a crawl of these channels still running may yet write events
    from its start on, so the window stops just before it.
    """
    marks = ", ".join("?" * len(channels)) or "NULL"
    row = db.execute(
        "SELECT MIN(c.started_at) FROM crawls c LEFT JOIN channels ch ON ch.id = c.channel_id"
        f" WHERE c.status = 'running' AND (c.source = ? OR ch.name IN ({marks}))",
        [key, *channels],
    ).fetchone()
    running = row[0] if row else None
    if running and running <= now:
        return _just_before(running)
    return now


def _just_before(stamp: str) -> str:
    """The archive time one microsecond before ``stamp`` (events at ``stamp`` stay outside)."""
    when = to_datetime(stamp)
    if when is None:
        return stamp
    return (when - timedelta(microseconds=1)).isoformat(timespec="microseconds")


def _record(
    db: sqlite_utils.Database,
    target: Target,
    *,
    until: str,
    now: str,
    changes: int,
    title: str,
    body: str,
    error: str | None,
) -> None:
    with write_transaction(db):
        db.execute(
            "INSERT INTO notifications (source, target, attempted_at, status, changes, after,"
            " until, title, body, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                target.source, target.shown, now, FAILED if error else SENT, changes,
                target.notified_until, until, title, body, error,
            ],
        )  # fmt: skip
        if error:
            db.execute(
                "UPDATE notify_targets SET last_attempt_at = ?, failures = failures + 1,"
                " last_error = ? WHERE source = ? AND url = ?",
                [now, error, target.source, target.url],
            )
        else:
            db.execute(
                "UPDATE notify_targets SET notified_until = ?, last_attempt_at = ?,"
                " last_sent_at = ?, failures = 0, last_error = NULL"
                " WHERE source = ? AND url = ? AND notified_until = ?",
                [until, now, now, target.source, target.url, target.notified_until],
            )


def notify_source(
    db: sqlite_utils.Database, key: str, *, send: Sender = apprise_sender
) -> list[Delivery]:
    """Tell each target of source ``key`` the changes it has not been told yet."""
    deliveries = []
    found = targets(db, key)
    if not found:
        return deliveries
    channels = _channels(db, key)
    now = utcnow()
    until = _settled_until(db, key, channels, now)
    for target in found:
        if until <= target.notified_until:
            continue
        scope = ChangeScope(channels=tuple(channels), after=target.notified_until, until=until)
        changes = list(iter_changes(db.conn, scope)) if channels else []
        if not changes:
            with write_transaction(db):
                db.execute(
                    "UPDATE notify_targets SET notified_until = ?"
                    " WHERE source = ? AND url = ? AND notified_until = ?",
                    [until, key, target.url, target.notified_until],
                )
            deliveries.append(Delivery(target.shown, None, 0))
            continue
        title, body = compose(key, changes)
        try:
            error = send(target.url, title, body)
        except Exception as exc:  # a sender must not take the scheduler down
            error = f"{exc.__class__.__name__}: {exc}"
        _record(
            db, target, until=until, now=now, changes=len(changes), title=title, body=body,
            error=error,
        )  # fmt: skip
        if error:
            logger.warning(
                "%s: could not notify %s of %d changes (retried with the next run): %s",
                key, target.shown, len(changes), error,
            )  # fmt: skip
        else:
            logger.info("%s: notified %s: %s", key, target.shown, _counts(changes))
        deliveries.append(Delivery(target.shown, FAILED if error else SENT, len(changes), error))
    return deliveries


def notify_after_crawl(db_path: str, key: str) -> list[Delivery]:
    """After a scheduled crawl of ``key`` has finished its crawl rows: notify its targets.

    Never raises: a notification must not fail the crawl. Whatever goes
    wrong is logged, and the changes wait for the next run.
    """
    try:
        db = open_archive(db_path, create=False)
        try:
            return notify_source(db, key)
        finally:
            db.close()
    except Exception:
        logger.exception("%s: notifications failed (retried with the next run)", key)
        return []
