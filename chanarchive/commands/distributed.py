"""Pieces the distributed-crawl commands share: the --redis option and Redis errors as one line."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

import click

from ..clitools import BadUsage, WorkFailed


def redis_option(
    *, required: bool, help: str
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option("--redis", "redis_url", required=required, metavar="URL", help=help)


def queue_error(exc: Exception) -> click.ClickException:
    """A bad --redis URL, or one whose password the Redis refuses, is bad usage (2); a Redis
    that cannot be used fails the work (1). Neither message shows the password."""
    from crawler.distributed.frontier import BadQueueUrl

    if isinstance(exc, BadQueueUrl):
        return BadUsage(str(exc))
    return WorkFailed(str(exc))


def log_to_stderr(verbose: bool, *names: str) -> None:
    """One line per event on stderr: time, then what happened."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%Y-%m-%d %H:%M:%S"))
    for name in names:
        ours = logging.getLogger(name)
        ours.addHandler(handler)
        ours.setLevel(logging.DEBUG if verbose else logging.INFO)
        ours.propagate = False
