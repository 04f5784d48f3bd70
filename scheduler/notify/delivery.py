"""Telling people what a scheduled crawl changed: one apprise message per source and target.

After each scheduled crawl of a source, the scheduler calls
:func:`notify_after_crawl`, which sends each of the source's targets
(:mod:`.targets`) one message (:mod:`.messages`) naming what changed since
that target was last told.

Nothing is lost and nothing is sent twice: each target keeps a watermark
(``notified_until``); a message covers the events after it, up to a time
no crawl still running can write before, and only a message that went
out moves the watermark on. A message that fails is logged with apprise's
reason, recorded (``notifications``, ``notify_targets.last_error``), and
its changes go out with the next run's. (A process killed between sending
and recording sends that message once more.) A notification never fails
the crawl: :func:`notify_after_crawl` logs its own errors and never raises.

Bounded in time: each message is sent from a daemon thread of its own and
waited for at most :func:`send_timeout` seconds (default
:data:`SEND_TIMEOUT`, ``CHANARCHIVE_NOTIFY_TIMEOUT`` overrides it); a
target that does not answer in time is a failed message, retried with the
next run, and gets no second message while the first may still be on its
way. The scheduler's stop event ends the wait at once: a stopping scheduler
sends nothing more, records nothing for the message it gave up on, and
leaves its changes to the next run. (A message given up on may still
arrive: then the next run tells those changes once more.)
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import sqlite_utils

from archive.query.changes import ChangeScope, iter_changes, iter_matching
from archive.query.search import SearchQuery
from archive.store import open_archive
from archive.store.connection import decoded
from archive.store.notifications import FAILED, SENT, move_watermark, record_notification
from archive.times import to_datetime, utcnow

from .messages import compose, counts
from .targets import targets

logger = logging.getLogger(__name__)

#: Sends one message; returns None when it went out, else why it did not.
Sender = Callable[[str, str, str], str | None]


@dataclass
class Delivery:
    """What happened to one target after one crawl."""

    target: str  # shown
    status: str | None  # sent, failed, or None when there was nothing to tell
    changes: int
    error: str | None = None


#: Seconds one message may take to go out, whatever the service does.
SEND_TIMEOUT = 30.0
#: The environment variable that overrides :data:`SEND_TIMEOUT` (seconds).
TIMEOUT_VARIABLE = "CHANARCHIVE_NOTIFY_TIMEOUT"


def send_timeout() -> float:
    """:data:`SEND_TIMEOUT`, or the seconds ``CHANARCHIVE_NOTIFY_TIMEOUT`` says (when positive)."""
    try:
        value = float(os.environ.get(TIMEOUT_VARIABLE, ""))
    except ValueError:
        return SEND_TIMEOUT
    return value if 0 < value <= 24 * 3600 else SEND_TIMEOUT


class Stopped(Exception):
    """The scheduler is stopping: the message was given up on (its changes wait)."""


#: Messages given up on that may still be on their way, by target URL.
_on_their_way: dict[str, threading.Thread] = {}
_on_their_way_lock = threading.Lock()


def send_bounded(
    send: Sender,
    url: str,
    title: str,
    body: str,
    *,
    timeout: float,
    stop: threading.Event | None = None,
) -> str | None:
    """``send(url, title, body)`` from a daemon thread, waited for at most ``timeout`` seconds.

    Returns what ``send`` returned (None: it went out), or why it did not: it
    raised, it took too long, or an earlier message to ``url`` is still on its
    way. Raises :class:`Stopped` when ``stop`` is set while it waits.
    """
    with _on_their_way_lock:
        earlier = _on_their_way.get(url)
        if earlier is not None and earlier.is_alive():
            return "an earlier message to this target is still on its way: not sent meanwhile"
        _on_their_way.pop(url, None)
    result: list[str | None] = []

    def run() -> None:
        try:
            result.append(send(url, title, body))
        except Exception as exc:  # a sender must not take the scheduler down
            result.append(f"{exc.__class__.__name__}: {exc}")

    thread = threading.Thread(target=run, name="chanarchive-notify", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while thread.is_alive():
        if stop is not None and stop.is_set():
            with _on_their_way_lock:
                _on_their_way[url] = thread
            raise Stopped
        left = deadline - time.monotonic()
        if left <= 0:
            with _on_their_way_lock:
                _on_their_way[url] = thread
            return f"no answer within {timeout:g}s (the message was given up on)"
        thread.join(min(left, 0.1))
    return result[0] if result else "the sender ended without saying"


def apprise_sender(url: str, title: str, body: str) -> str | None:
    """Send one message with apprise; None when it went out, else apprise's reason.

    The service is called here, in the calling thread (:func:`send_bounded`'s
    daemon thread), not through ``Apprise.notify``, whose worker pool a
    process waits for at exit: a target that never answers must not keep
    ``scheduler run`` from ending.
    """
    import apprise

    service = apprise.Apprise.instantiate(url)
    if service is None:
        return "apprise cannot use this URL"
    with apprise.LogCapture(level=logging.WARNING, fmt="%(message)s") as log:
        sent = service.notify(title=title, body=body, body_format=apprise.NotifyFormat.TEXT)
        said = [line.strip() for line in log.getvalue().splitlines() if line.strip()]
    if sent:
        return None
    return said[-1] if said else "apprise could not send the message"


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


def notify_source(
    db: sqlite_utils.Database,
    key: str,
    *,
    send: Sender = apprise_sender,
    stop: threading.Event | None = None,
    timeout: float | None = None,
    match: SearchQuery | None = None,
) -> list[Delivery]:
    """Tell each target of source ``key`` the changes it has not been told yet.

    With ``match`` (the source's ``--match``), only the new and edited posts
    matching it, with the words found; the others are passed over as told.
    Each message is waited for at most ``timeout`` seconds (default:
    :func:`send_timeout`); once ``stop`` is set nothing more is sent.
    """
    timeout = send_timeout() if timeout is None else timeout
    deliveries = []
    if stop is not None and stop.is_set():
        logger.info("%s: stopping: its notifications wait for the next run", key)
        return deliveries
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
        if not channels:
            changes = []
        elif match is None:
            changes = list(iter_changes(db.conn, scope))
        else:
            changes = list(iter_matching(db.conn, scope, match))
        if not changes:
            move_watermark(db, key, target.url, after=target.notified_until, until=until)
            deliveries.append(Delivery(target.shown, None, 0))
            continue
        title, body = compose(key, changes, match=match)
        try:
            error = send_bounded(send, target.url, title, body, timeout=timeout, stop=stop)
        except Stopped:
            logger.info(
                "%s: stopping: the message to %s was given up on; its %d changes wait for"
                " the next run",
                key, target.shown, len(changes),
            )  # fmt: skip
            break
        record_notification(
            db, source=target.source, url=target.url, shown=target.shown, attempted_at=now,
            after=target.notified_until, until=until, changes=len(changes), title=title,
            body=body, error=error,
        )  # fmt: skip
        if error:
            logger.warning(
                "%s: could not notify %s of %d changes (retried with the next run): %s",
                key, target.shown, len(changes), error,
            )  # fmt: skip
        else:
            logger.info("%s: notified %s: %s", key, target.shown, counts(changes))
        deliveries.append(Delivery(target.shown, FAILED if error else SENT, len(changes), error))
    return deliveries


def notify_after_crawl(
    db_path: str,
    key: str,
    *,
    stop: threading.Event | None = None,
    match: SearchQuery | None = None,
) -> list[Delivery]:
    """After a scheduled crawl of ``key`` has finished its crawl rows: notify its targets
    (of the posts matching ``match`` only, when the source has a query).

    Never raises: a notification must not fail the crawl. Whatever goes
    wrong is logged, and the changes wait for the next run. Bounded in
    time (:func:`send_timeout` a message), and over at once when ``stop``
    (the scheduler's stop event) is set.
    """
    try:
        db = open_archive(db_path, create=False)
        db.conn.text_factory = decoded  # a stored text that is not UTF-8 stops no message
        try:
            return notify_source(db, key, stop=stop, match=match)
        finally:
            db.close()
    except Exception:
        logger.exception("%s: notifications failed (retried with the next run)", key)
        return []
