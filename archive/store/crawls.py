"""Crawl runs: one ``crawls`` row per run, its errors, its end, and runs a dead process left.

A crawl's status follows from its pages and errors when it ends (``ok``,
``partial``, ``failed``); a run cut short (time limit, stop) is ``partial``
when it archived pages, else ``failed`` (:func:`cut_crawl`); a run left
``running`` by a process that is gone is found and closed as failed
(:func:`reap_interrupted_crawls`).

The scheduler begins the rows of a whole batch of sources at once
(:func:`begin_crawls`) and hands them to a crawl process, which takes them
over (:func:`claim_crawls`) and marks each one's real start
(:func:`crawl_started`) when its turn comes.
"""

from __future__ import annotations

import json
import os
import socket
from typing import Any

import sqlite_utils

from ..models import FAILED, OK, PARTIAL, RUNNING
from ..times import utcnow
from .transaction import write_transaction


def begin_crawl(
    db: sqlite_utils.Database,
    source: str,
    *,
    channel_id: int | None = None,
    trigger: str = "manual",
    options: dict[str, Any] | None = None,
) -> int:
    """Record the start of a crawl of ``source``; returns the crawl id."""
    with write_transaction(db):
        cursor = db.execute(
            "INSERT INTO crawls (source, channel_id, started_at, status, trigger, options, worker)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                source,
                channel_id,
                utcnow(),
                RUNNING,
                trigger,
                json.dumps(options or {}, sort_keys=True),
                _pid_tag(),
            ],
        )
        return cursor.lastrowid


def begin_crawls(
    db: sqlite_utils.Database,
    sources: list[str],
    *,
    trigger: str = "manual",
    options: dict[str, Any] | None = None,
) -> dict[str, int]:
    """Record the start of a crawl of each of ``sources`` in one transaction: source -> crawl id.

    The ids are consecutive: no other writer can insert between them.
    """
    now, tag, recorded = utcnow(), _pid_tag(), json.dumps(options or {}, sort_keys=True)
    ids = {}
    with write_transaction(db):
        for source in sources:
            cursor = db.execute(
                "INSERT INTO crawls (source, started_at, status, trigger, options, worker)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [source, now, RUNNING, trigger, recorded, tag],
            )
            ids[source] = cursor.lastrowid
    return ids


def claim_crawls(
    db: sqlite_utils.Database, crawl_ids: list[int], options: dict[str, Any] | None = None
) -> None:
    """This process runs these crawls now (begun by another): they are reaped if it dies."""
    with write_transaction(db):
        for crawl_id in crawl_ids:
            db.execute(
                "UPDATE crawls SET worker = ?, options = ? WHERE id = ? AND status = ?",
                [_pid_tag(), json.dumps(options or {}, sort_keys=True), crawl_id, RUNNING],
            )


def crawl_started(db: sqlite_utils.Database, crawl_id: int) -> None:
    """The crawl really began (its first request): a batch begins its rows before their turn."""
    with write_transaction(db):
        db.execute(
            "UPDATE crawls SET started_at = ? WHERE id = ? AND status = ?",
            [utcnow(), crawl_id, RUNNING],
        )


def cut_crawl(db: sqlite_utils.Database, crawl_id: int, reason: str) -> dict[str, Any]:
    """Close a crawl cut short (time limit, stop): partial when it archived pages, else failed."""
    row = crawl_row(db, crawl_id)
    return finish_crawl(db, crawl_id, status=PARTIAL if row["pages"] else FAILED, reason=reason)


def set_crawl_reason(db: sqlite_utils.Database, crawl_id: int, reason: str) -> None:
    """Say why a closed crawl ended, over the reason it was closed with (who stopped it, and why)."""
    with write_transaction(db):
        db.execute("UPDATE crawls SET reason = ? WHERE id = ?", [reason, crawl_id])


def record_error(
    db: sqlite_utils.Database, crawl_id: int, url: str | None, kind: str, message: str
) -> None:
    """Keep the reason a fetch or parse failed, and count it on the crawl."""
    with write_transaction(db):
        insert_errors(db, crawl_id, url, kind, [message])


#: A page never records more reasons than this (the rest are counted in the last one).
MAX_ERRORS_PER_PAGE = 20


def insert_errors(
    db: sqlite_utils.Database, crawl_id: int, url: str | None, kind: str, messages: list[str]
) -> None:
    """:func:`record_error` for several reasons of one page, inside the caller's transaction."""
    if len(messages) > MAX_ERRORS_PER_PAGE:
        extra = len(messages) - MAX_ERRORS_PER_PAGE + 1
        messages = [*messages[: MAX_ERRORS_PER_PAGE - 1], f"and {extra} more like these"]
    now = utcnow()
    for message in messages:
        db.execute(
            "INSERT INTO crawl_errors (crawl_id, at, url, kind, message) VALUES (?, ?, ?, ?, ?)",
            [crawl_id, now, url, kind, message[:2000]],
        )
    db.execute("UPDATE crawls SET errors = errors + ? WHERE id = ?", [len(messages), crawl_id])


def finish_crawl(
    db: sqlite_utils.Database,
    crawl_id: int,
    *,
    status: str | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    """Close a crawl: its status follows from its pages and errors unless given."""
    with write_transaction(db):
        row = crawl_row(db, crawl_id)
        if status is None:
            if row["pages"] == 0:
                status = FAILED
            elif row["errors"]:
                status = PARTIAL
            else:
                status = OK
        if reason is None and status != OK:
            first = db.execute(
                "SELECT kind, url, message FROM crawl_errors WHERE crawl_id = ? ORDER BY id LIMIT 1",
                [crawl_id],
            ).fetchone()
            if first:
                reason = f"{first[0]}: {first[2]} ({first[1]})" if first[1] else first[2]
            elif row["pages"] == 0:
                reason = "no page was fetched"
        now = utcnow()
        db.execute(
            "UPDATE crawls SET status = ?, reason = ?, finished_at = ?, worker = NULL WHERE id = ?",
            [status, reason, now, crawl_id],
        )
        if row["channel_id"] is not None:
            db.execute(
                "UPDATE channels SET last_crawled = ? WHERE id = ?", [now, row["channel_id"]]
            )
    return crawl_row(db, crawl_id)


def reap_interrupted_crawls(db: sqlite_utils.Database) -> int:
    """Mark as failed the crawls left ``running`` by a process that is gone."""
    host = socket.gethostname()
    stale = []
    for crawl_id, tag in db.execute("SELECT id, worker FROM crawls WHERE status = ?", [RUNNING]):
        pid, _, tag_host = str(tag or "").partition("@")
        if tag_host and tag_host != host:
            continue  # another machine's crawl: not ours to judge
        if not (pid.isascii() and pid.isdigit()) or not pid_alive(int(pid)):
            stale.append(crawl_id)
    for crawl_id in stale:
        finish_crawl(db, crawl_id, status=FAILED, reason="interrupted: the crawl process ended")
    return len(stale)


def _pid_tag() -> str:
    return f"{os.getpid()}@{socket.gethostname()}"


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` of this machine is alive (one we may not signal is)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def crawl_row(db: sqlite_utils.Database, crawl_id: int) -> dict[str, Any]:
    cursor = db.execute("SELECT * FROM crawls WHERE id = ?", [crawl_id])
    names = [d[0] for d in cursor.description]
    row = cursor.fetchone()
    if row is None:
        raise KeyError(f"no crawl {crawl_id}")
    return dict(zip(names, row, strict=True))
