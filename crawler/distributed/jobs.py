"""Jobs: asking for distributed crawls (``crawl --redis``) and waiting for their rows.

A :class:`Job` names one source and how to crawl it (its
:class:`~crawler.options.CrawlOptions`); the ingester turns it into a
``crawls`` row and publishes that row again, finished, under the job's
token. Submitting needs no archive file: the finished rows come back
through Redis. :func:`read_job` is the one way a job's record is read back,
checked.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from archive.errors import BadRecord
from archive.source import Source, parse_source

from ..options import CrawlOptions
from .frontier import Frontier

#: Seconds between looks at Redis while waiting.
POLL = 0.25
#: The version of the job record.
JOB_VERSION = 1
#: What may start a crawl (``crawls.trigger``).
TRIGGERS = ("manual", "scheduled")


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
    token, source, trigger = record.get("token"), record.get("source"), record.get("trigger")
    if not isinstance(token, str) or not 1 <= len(token) <= 64 or not isinstance(source, str):
        raise BadRecord("a job without its token or source")
    if trigger not in TRIGGERS:
        raise BadRecord(f"a job of unknown trigger {trigger!r}"[:200])
    return Job(
        token, parse_source(source), CrawlOptions.from_record(record.get("options")), trigger
    )


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
        record = json.loads(raw)
    except ValueError:
        return None
    token = record.get("token") if isinstance(record, dict) else None
    return token if isinstance(token, str) else None


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


def wait_for_crawls(
    frontier: Frontier,
    tokens: list[str],
    *,
    notice: Callable[[str], None] | None = None,
    notice_after: float = 10.0,
) -> list[dict[str, Any]]:
    """Wait until every job's crawl is finished in the archive; returns the rows, in order.

    ``notice`` is told once when, after ``notice_after`` seconds, no ingester
    has taken the jobs yet.
    """
    rows: dict[str, dict[str, Any]] = {}
    started = time.monotonic()
    noticed = notice is None
    while len(rows) < len(tokens):
        for token in tokens:
            if token in rows:
                continue
            raw = frontier.server.get(frontier.result(token))
            if raw is not None:
                rows[token] = json.loads(raw)
        if len(rows) == len(tokens):
            break
        if not noticed and time.monotonic() - started >= notice_after:
            noticed = True
            if queued_jobs(frontier, tokens):
                notice(
                    "no ingester has taken these crawls yet: is `chanarchive ingest --redis` running?"
                )
        time.sleep(POLL)
    return [rows[token] for token in tokens]
