"""Asking for distributed crawls (``crawl --redis``) and waiting for their rows.

A job names one source and how to crawl it; the ingester turns it into a
``crawls`` row and publishes that row again, finished, under the job's
token. Submitting needs no archive file: the finished rows come back
through Redis.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

from archive.source import Source

from ..options import CrawlOptions
from .frontier import Frontier

#: Seconds between looks at Redis while waiting.
POLL = 0.25


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
        job = {
            "v": 1,
            "token": token,
            "source": source.key,
            "options": options.to_record(),
            "trigger": trigger,
        }
        pipe.rpush(frontier.jobs, json.dumps(job, ensure_ascii=False, sort_keys=True))
    pipe.execute()
    return tokens


def new_tokens(count: int) -> list[str]:
    """Fresh job tokens, one per crawl to submit."""
    return [uuid.uuid4().hex for _ in range(count)]


def queued_jobs(frontier: Frontier, tokens: list[str]) -> int:
    """How many of these jobs no ingester has taken yet."""
    waiting = 0
    for raw in frontier.server.lrange(frontier.jobs, 0, -1):
        try:
            if json.loads(raw).get("token") in tokens:
                waiting += 1
        except ValueError:
            continue
    return waiting


def withdraw_crawls(frontier: Frontier, tokens: list[str]) -> int:
    """Take back the jobs no ingester has taken yet; returns how many. Begun crawls go on."""
    withdrawn = 0
    for raw in frontier.server.lrange(frontier.jobs, 0, -1):
        try:
            token = json.loads(raw).get("token")
        except ValueError:
            continue
        if token in tokens:
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
