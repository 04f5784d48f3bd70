"""Jobs: asking for distributed crawls (``crawl --redis``) and waiting for their rows.

A :class:`Job` names one source and how to crawl it (its
:class:`~crawler.options.CrawlOptions`); the ingester turns it into a
``crawls`` row and publishes that row again, finished, under the job's
token. Submitting needs no archive file: the finished rows come back
through Redis.

What comes back from Redis is checked before it is used, whoever wrote it:
:func:`read_job` is the one way a job's record is read (known keys only, a
token of a few safe characters, a source of bounded length, options as
:meth:`~crawler.options.CrawlOptions.from_queue` takes them), and
:func:`read_result` the one way a finished row is. A job that cannot be read
but names its token gets a failed row of its own (:func:`refused_result`),
so whoever waits for it is told rather than left waiting.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis

from archive.errors import BadInput, BadRecord
from archive.models import FAILED, OK, PARTIAL
from archive.source import Source, parse_source
from archive.times import utcnow

from ..options import CrawlOptions
from .frontier import Frontier
from .serialize import read_json

#: Seconds between looks at Redis while waiting.
POLL = 0.25
#: The version of the job record.
JOB_VERSION = 1
#: What may start a crawl (``crawls.trigger``).
TRIGGERS = ("manual", "scheduled")
#: The keys of a job record.
JOB_KEYS = frozenset({"v", "token", "source", "options", "trigger"})
#: A job's token: it names the job's result key in Redis (``new_tokens`` makes 32 hex digits).
TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}", re.ASCII)
#: The longest job record read, and the longest source it names.
MAX_JOB, MAX_SOURCE = 64 * 1024, 4096
#: The longest finished row read back.
MAX_RESULT = 256 * 1024
#: The counts of a finished row, as ``crawl --redis`` and the scheduler read them.
RESULT_COUNTS = ("pages", "posts_new", "posts_changed", "posts_unchanged", "posts_deleted",
                 "errors")  # fmt: skip
#: Counts a finished row has when its ingester knows them (0 when it does not).
MEDIA_COUNTS = ("media_archived", "media_failed")


@dataclass(frozen=True)
class Job:
    """One crawl asked for: its token, source, options and what asked for it."""

    token: str
    source: Source
    options: CrawlOptions
    trigger: str = "manual"

    def to_record(self) -> dict[str, Any]:
        return {
            "v": JOB_VERSION,
            "token": self.token,
            "source": self.source.key,
            "options": self.options.to_record(),
            "trigger": self.trigger,
        }


def read_job(record: Any) -> Job:
    """A job's record, checked; :class:`BadRecord` (or another BadInput) says what is wrong."""
    if not isinstance(record, dict) or record.get("v") != JOB_VERSION:
        raise BadRecord("not a job record of version 1")
    unknown = sorted(str(key) for key in record if key not in JOB_KEYS)
    if unknown:
        raise BadRecord(f"a job with an unknown key {unknown[0]!r}"[:200])
    token, source, trigger = record.get("token"), record.get("source"), record.get("trigger")
    if token_of(record) is None:
        raise BadRecord("a job without its token (1 to 64 letters, digits, - or _)")
    if not isinstance(source, str) or not 1 <= len(source) <= MAX_SOURCE:
        raise BadRecord(f"a job without its source (text of at most {MAX_SOURCE} characters)")
    if not isinstance(trigger, str) or trigger not in TRIGGERS:
        raise BadRecord(f"a job of unknown trigger {trigger!r}"[:200])
    return Job(token, parse_source(source), CrawlOptions.from_queue(record.get("options")), trigger)


def job_from_raw(raw: Any) -> Job:
    """A job as Redis holds it (JSON text), read and checked; BadInput says what is wrong."""
    return read_job(read_json(raw, "a job", limit=MAX_JOB))


def token_of(record: Any) -> str | None:
    """The token a job record names, if it names a usable one."""
    token = record.get("token") if isinstance(record, dict) else None
    return token if isinstance(token, str) and TOKEN.fullmatch(token) else None


def refused_result(record: Any, reason: str) -> dict[str, Any]:
    """The finished row of a job that was refused: failed, with why; no archive row has it."""
    source = record.get("source") if isinstance(record, dict) else None
    now = utcnow()
    row: dict[str, Any] = {
        "id": None,
        "source": source if isinstance(source, str) and len(source) <= MAX_SOURCE else "?",
        "status": FAILED,
        "reason": f"refused by the ingester: {reason}"[:1000],
        "started_at": now,
        "finished_at": now,
    }
    row.update(dict.fromkeys(RESULT_COUNTS + MEDIA_COUNTS, 0))
    return row


def read_result(raw: Any) -> dict[str, Any]:
    """A finished crawl's row as the ingester published it, checked; :class:`BadRecord` when
    it is not one (the fields ``crawl --redis`` and the scheduler read, of their types)."""
    row = read_json(raw, "a finished crawl's row", limit=MAX_RESULT)
    if not isinstance(row, dict):
        raise BadRecord("a finished crawl's row must be an object")
    crawl_id, source, status = row.get("id"), row.get("source"), row.get("status")
    if crawl_id is not None and (isinstance(crawl_id, bool) or not isinstance(crawl_id, int)):
        raise BadRecord(f"a finished row of crawl {crawl_id!r}"[:200])
    if not isinstance(source, str) or not isinstance(status, str):
        raise BadRecord("a finished row without its source or status")
    if status not in (OK, PARTIAL, FAILED):
        raise BadRecord(f"a finished row of status {status!r}"[:200])
    for name in ("reason", "started_at", "finished_at"):
        if not isinstance(row.get(name), str | None):
            raise BadRecord(f"a finished row whose {name} is not text")
    for name in MEDIA_COUNTS:
        row.setdefault(name, 0)
    for name in RESULT_COUNTS + MEDIA_COUNTS:
        value = row.get(name)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**63:
            raise BadRecord(f"a finished row whose {name} is not a count")
    return row


def submit_crawls(
    frontier: Frontier,
    sources: list[Source],
    options: CrawlOptions,
    *,
    trigger: str = "manual",
    tokens: list[str] | None = None,
) -> list[str]:
    """Queue one job per source; returns their tokens, in the order of ``sources``.

    A caller that must be able to take the jobs back even when it is stopped
    during the push passes ``tokens`` (from :func:`new_tokens`) it already holds.
    """
    tokens = new_tokens(len(sources)) if tokens is None else tokens
    pipe = frontier.server.pipeline(transaction=True)
    for source, token in zip(sources, tokens, strict=True):
        record = Job(token, source, options, trigger).to_record()
        pipe.rpush(frontier.jobs, json.dumps(record, ensure_ascii=False, sort_keys=True))
    pipe.execute()
    return tokens


def new_tokens(count: int) -> list[str]:
    """Fresh job tokens, one per crawl to submit."""
    return [uuid.uuid4().hex for _ in range(count)]


def _token_of(raw: bytes | str) -> str | None:
    """The token of a queued job's record (None when it is not a job record)."""
    try:
        return token_of(read_json(raw, "a job", limit=MAX_JOB))
    except BadInput:
        return None


def queued_jobs(frontier: Frontier, tokens: list[str]) -> int:
    """How many of these jobs no ingester has taken yet."""
    waiting = 0
    for raw in frontier.server.lrange(frontier.jobs, 0, -1):
        if _token_of(raw) in tokens:
            waiting += 1
    return waiting


def withdraw_crawls(frontier: Frontier, tokens: list[str]) -> int:
    """Take back the jobs no ingester has taken yet; returns how many. Begun crawls go on."""
    withdrawn = 0
    for raw in frontier.server.lrange(frontier.jobs, 0, -1):
        if _token_of(raw) in tokens:
            withdrawn += frontier.server.lrem(frontier.jobs, 1, raw)
    return withdrawn


#: Seconds without a live worker, while crawls wait, before the submitter is told.
NO_WORKER_AFTER = 10.0
#: Seconds between two "still waiting" lines.
STILL_WAITING_EVERY = 60.0


def live_workers(frontier: Frontier) -> int:
    """Workers whose heartbeat is current (their deadline has not passed)."""
    try:
        now = frontier.server.time()
        return int(frontier.server.zcount(frontier.workers, now[0] + now[1] / 1e6, "+inf"))
    except redis.RedisError:
        return 0


def ingester_running(frontier: Frontier) -> bool:
    """Whether an ingester holds this Redis's lock."""
    try:
        return bool(frontier.server.exists(frontier.ingester_lock))
    except redis.RedisError:
        return False


def wait_for_crawls(
    frontier: Frontier,
    tokens: list[str],
    *,
    notice: Callable[[str], None] | None = None,
    notice_after: float = 10.0,
) -> list[dict[str, Any]]:
    """Wait until every job's crawl is finished in the archive; returns the rows, in order.

    ``notice`` is told what keeps the crawls waiting, once each, as soon as it
    is seen: no ingester running (at once), the jobs not taken after
    ``notice_after`` seconds, no worker fetching after :data:`NO_WORKER_AFTER`;
    and every :data:`STILL_WAITING_EVERY` seconds how many crawls are left.
    """
    say = notice or (lambda text: None)
    rows: dict[str, dict[str, Any]] = {}
    started = last_said = time.monotonic()
    told: set[str] = set()
    unread: set[str] = set()
    worker_seen = started

    def once(key: str, text: str) -> None:
        if key not in told:
            told.add(key)
            say(text)

    if not ingester_running(frontier):
        once("ingester", "no ingester is running on this Redis: start `chanarchive --db ARCHIVE"
             " ingest --redis URL`; the crawls wait for it")  # fmt: skip
    while len(rows) < len(tokens):
        for token in tokens:
            if token in rows:
                continue
            raw = frontier.server.get(frontier.result(token))
            if raw is None:
                continue
            try:
                rows[token] = read_result(raw)
            except BadInput as exc:
                # Not the ingester's: it writes the real row over it when the crawl ends.
                if token not in unread:
                    say(f"the finished row of job {token} in Redis cannot be read ({exc})")
                unread.add(token)
        if len(rows) == len(tokens):
            break
        now = time.monotonic()
        waiting = queued_jobs(frontier, tokens)
        if now - started >= notice_after and waiting:
            once("taken", "no ingester has taken these crawls yet: is `chanarchive ingest"
                 " --redis` running?")  # fmt: skip
        if live_workers(frontier):
            worker_seen = now
            told.discard("worker")
        elif now - worker_seen >= NO_WORKER_AFTER and not waiting:
            once("worker", "no worker is fetching for this Redis: start `chanarchive worker"
                 " --redis URL`; the crawls wait for one")  # fmt: skip
        if now - last_said >= STILL_WAITING_EVERY:
            last_said = now
            left = len(tokens) - len(rows)
            say(f"still waiting for {left} of {len(tokens)} crawls ({now - started:.0f} s)")
        time.sleep(POLL)
    return [rows[token] for token in tokens]
