"""``chanarchive worker``: crawl for a distributed crawl, taking requests from Redis."""

from __future__ import annotations

import click

from ..clitools import BadUsage, settings_option, translate_errors
from .distributed import queue_error, redis_option


@click.command()
@redis_option(required=True, help="The Redis that holds the shared queue.")
@settings_option("for this worker")
@click.option(
    "--allow-private-hosts",
    is_flag=True,
    help="Let this worker reach loopback and private addresses: a source's own origin there, "
    "and every address for a crawl queued with --allow-private-hosts. Without it the worker "
    "reaches public addresses only, whatever a job in Redis says (anyone who can write to "
    "the Redis names the sources).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log what the crawler does.")
@translate_errors
def worker(redis_url, settings, allow_private_hosts, verbose):
    """Crawl for a distributed crawl until stopped (SIGINT / SIGTERM).

    Takes requests from the queue in Redis, fetches and parses each page
    exactly as a local crawl does, and pushes the pages back to Redis for
    `chanarchive ingest`, which writes the archive. Start as many workers as
    you like, on as many machines: no archive file is needed here.

    Politeness holds across workers: one request at a time per host, with
    the usual delay (-s DOWNLOAD_DELAY=..., t.me 1.5 s), whatever the number
    of workers. -s POLITENESS_SCOPE=worker makes each worker polite on its
    own instead (for workers on different addresses).

    Example:

        chanarchive worker --redis redis://10.0.0.5:6379/0

        chanarchive worker --redis redis://127.0.0.1:6379 -s POLITENESS_SCOPE=worker

        chanarchive worker --redis redis://127.0.0.1:6379 --allow-private-hosts
    """
    from archive.errors import BadInput
    from crawler.distributed.frontier import QueueUnavailable, safe_url
    from crawler.distributed.worker.process import run_worker

    try:
        run_worker(
            redis_url, settings, verbose=verbose, allow_private_hosts=allow_private_hosts,
            started=lambda wid: click.echo(
                f"worker {wid} fetching the crawls queued on {safe_url(redis_url)}"
                " for `chanarchive ingest` (Ctrl-C stops)", err=True,
            ),
        )  # fmt: skip
    except QueueUnavailable as exc:
        raise queue_error(exc) from exc
    except BadInput as exc:
        raise BadUsage(str(exc)) from exc
