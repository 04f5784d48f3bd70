"""One scheduled crawl: ``chanarchive crawl SOURCE`` in its own process, with a time limit.

A Scrapy crawl cannot run twice in one process (the Twisted reactor cannot
restart), and a crawl that hangs must not hang the scheduler, so every run
is a child process. The child writes its own ``crawls`` row through the
normal crawl path; this module makes sure the row always ends: a run that
could not start, died, overran its time limit or was stopped ends as
``failed`` (or ``partial`` when it archived pages) with the reason, never
left ``running``.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from archive import store
from archive.models import FAILED, OK, PARTIAL, RUNNING
from archive.store import open_archive

from .registry import ScheduledSource

logger = logging.getLogger(__name__)

TRIGGER = "scheduled"


@dataclass
class RunOutcome:
    """What one scheduled run did: its ``crawls`` rows and how it ended."""

    key: str
    status: str  # ok / partial / failed
    reason: str | None
    duration: float
    rows: list[dict[str, Any]] = field(default_factory=list)
    returncode: int | None = None

    def totals(self) -> dict[str, int]:
        keys = ("pages", "posts_new", "posts_changed", "posts_unchanged", "posts_deleted", "errors")
        return {k: sum(int(r.get(k) or 0) for r in self.rows) for k in keys}

    def summary(self) -> str:
        """One log line: source, status, pages, new/changed/deleted, duration (and why)."""
        t = self.totals()
        line = (
            f"{self.key}: {self.status}, {t['pages']} pages, {t['posts_new']} new / "
            f"{t['posts_changed']} changed / {t['posts_deleted']} deleted, "
            f"{t['errors']} errors, {self.duration:.1f}s"
        )
        if self.reason and self.status != OK:
            line += f" ({self.reason})"
        return line


def crawl_command(db_path: str, source: ScheduledSource, redis: str | None = None) -> list[str]:
    """The command line of one scheduled crawl of ``source`` (queued for workers with ``redis``)."""
    queued = ["--redis", redis] if redis else []
    return [
        sys.executable, "-m", "chanarchive", "--db", os.fspath(db_path),
        "crawl", source.key, "--trigger", TRIGGER, *source.crawl.arguments(), *queued,
    ]  # fmt: skip


def _last_crawl_id(db: sqlite_utils.Database) -> int:
    return db.execute("SELECT COALESCE(MAX(id), 0) FROM crawls").fetchone()[0]


def _rows_since(db: sqlite_utils.Database, key: str, after_id: int) -> list[dict[str, Any]]:
    ids = [
        row[0]
        for row in db.execute(
            "SELECT id FROM crawls WHERE source = ? AND trigger = ? AND id > ? ORDER BY id",
            [key, TRIGGER, after_id],
        )
    ]
    return [store.crawl_row(db, crawl_id) for crawl_id in ids]


def _tail(stream, limit: int = 4000) -> str:
    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    stream.seek(max(0, size - limit))
    return stream.read().decode("utf-8", "replace")


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _stop(proc: subprocess.Popen, grace: float) -> None:
    """SIGTERM (Scrapy closes the crawl cleanly), then SIGKILL after ``grace`` seconds."""
    if proc.poll() is not None:
        return
    try:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    except ProcessLookupError:
        pass


def run_crawl_process(
    db_path: str,
    source: ScheduledSource,
    *,
    time_limit: float,
    stop: threading.Event | None = None,
    stop_grace: float = 5.0,
    poll: float = 0.1,
    redis: str | None = None,
) -> RunOutcome:
    """Crawl ``source`` once in a child process; every crawl row it leaves is finished.

    The child is stopped when ``time_limit`` seconds pass or ``stop`` is set:
    first with SIGTERM (the crawl closes itself and records why), after
    ``stop_grace`` seconds with SIGKILL.
    """
    stop = stop or threading.Event()
    started = time.monotonic()
    db = open_archive(db_path)
    try:
        before = _last_crawl_id(db)
        why: str | None = None
        returncode: int | None = None
        output = ""
        with tempfile.TemporaryFile() as out:
            try:
                proc = subprocess.Popen(
                    crawl_command(db_path, source, redis),
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # our signals reach it only through us
                )
            except OSError as exc:
                why = f"could not start the crawl: {exc}"
            else:
                deadline = started + time_limit
                while proc.poll() is None:
                    if stop.is_set():
                        why = "stopped: the scheduler was stopped"
                    elif time.monotonic() >= deadline:
                        why = f"timed out after {time_limit:g} s"
                    if why:
                        _stop(proc, stop_grace)
                        break
                    try:
                        proc.wait(timeout=poll)
                    except subprocess.TimeoutExpired:
                        pass
                returncode = proc.returncode
            output = _tail(out)
        rows = _settle(db, source.key, before, why, returncode, output)
    finally:
        db.close()
    duration = time.monotonic() - started
    statuses = {r["status"] for r in rows}
    status = statuses.pop() if len(statuses) == 1 else PARTIAL
    reasons = [r["reason"] for r in rows if r.get("reason")]
    reason = reasons[0] if reasons else why
    return RunOutcome(source.key, status, reason, duration, rows, returncode)


def _settle(
    db: sqlite_utils.Database,
    key: str,
    before: int,
    why: str | None,
    returncode: int | None,
    output: str,
) -> list[dict[str, Any]]:
    """Finish what the child left open; write a failed row when it left none."""
    rows = _rows_since(db, key, before)
    if not rows:
        if why is None:
            detail = _last_line(output) or "no output"
            why = f"the crawl process exited with status {returncode} before it began: {detail}"
        crawl_id = store.begin_crawl(db, key, trigger=TRIGGER)
        store.finish_crawl(db, crawl_id, status=FAILED, reason=why)
        return [store.crawl_row(db, crawl_id)]
    settled = []
    for row in rows:
        if row["status"] == RUNNING:
            reason = why or (
                f"the crawl process ended with status {returncode}: "
                f"{_last_line(output) or 'no output'}"
            )
            status = PARTIAL if row["pages"] else FAILED
            row = store.finish_crawl(db, row["id"], status=status, reason=reason)
        elif why and row["status"] != OK and (row["reason"] or "").startswith("stopped:"):
            # The child closed its crawl on our SIGTERM ("stopped: shutdown"): say why.
            db.execute("UPDATE crawls SET reason = ? WHERE id = ?", [why, row["id"]])
            row = store.crawl_row(db, row["id"])
        settled.append(row)
    return settled
