"""``chanarchive ingest``: the one writer of a distributed crawl."""

from __future__ import annotations

import signal

import click

from ..clitools import BadUsage, WorkFailed, db_path, open_db, translate_errors
from .distributed import log_to_stderr, queue_error, redis_option


@click.command()
@redis_option(required=True, help="The Redis the workers push pages to.")
@click.option("-v", "--verbose", is_flag=True, help="Log every step.")
@click.pass_context
@translate_errors
def ingest(ctx, redis_url, verbose):
    """Write a distributed crawl's pages into the archive, until stopped.

    Turns each crawl queued with `crawl --redis` (or `scheduler run
    --redis`) into a crawls row and its first request, writes every page the
    workers push, with the same versions, deletions, counts and errors as a
    local crawl, and finishes each crawl when no request of it is left. A
    page is acknowledged only once written: stopped or killed at any moment,
    the ingester loses nothing and writes nothing twice when it starts
    again. One ingester runs per Redis. Logs one line per crawl on stderr.
    A write the archive refuses (a full disk, read-only) is waited out, said
    once in a while; stopped meanwhile, it exits with status 3.

    Example:

        chanarchive --db news.db ingest --redis redis://127.0.0.1:6379/0
    """
    from archive.errors import ChanarchiveError
    from archive.store.connection import check_archive_file
    from crawler.distributed.frontier import QueueUnavailable, check_url
    from crawler.distributed.ingest import Ingester, IngesterBusy

    try:
        check_url(redis_url)  # bad usage writes nothing: before the archive is made
    except QueueUnavailable as exc:
        raise queue_error(exc) from exc
    try:
        check_archive_file(db_path(ctx), create=True, write=True)  # someone else's: refused
    except ChanarchiveError as exc:
        raise BadUsage(str(exc)) from exc
    try:
        ingester = Ingester(db_path(ctx), redis_url)  # a refused login writes nothing either
    except QueueUnavailable as exc:
        raise queue_error(exc) from exc
    open_db(ctx, create=True).close()  # an unusable archive is a one-line error
    log_to_stderr(verbose, "crawler")

    def stop(signum, frame):
        ingester.stop()

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        ingester.run()
    except IngesterBusy as exc:
        raise WorkFailed(str(exc)) from exc
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
