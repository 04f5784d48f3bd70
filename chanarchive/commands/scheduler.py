"""``chanarchive scheduler run``: crawl the scheduled sources when they are due."""

from __future__ import annotations

import logging
import sys

import click

from scheduler.sources.schedules import parse_duration

from ..clitools import BadUsage, WorkFailed, db_path, open_db, translate_errors


def _log_to_stderr(verbose: bool) -> None:
    """One line per event on stderr: time, then what happened."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%Y-%m-%d %H:%M:%S"))
    ours = logging.getLogger("scheduler")
    ours.addHandler(handler)
    ours.setLevel(logging.DEBUG if verbose else logging.INFO)
    ours.propagate = False
    theirs = logging.getLogger("apscheduler")
    theirs.setLevel(logging.INFO if verbose else logging.ERROR)  # we log misses/skips ourselves
    if verbose:
        theirs.addHandler(handler)


@click.group()
def scheduler():
    """Run the periodic crawls set up with `chanarchive sources add`.

    Example:

        chanarchive scheduler run
    """


@scheduler.command("run")
@click.option("--once", is_flag=True, help="Run what is due now, then exit.")
@click.option(
    "--concurrency",
    type=click.IntRange(min=1, max=10**9),
    default=4,
    show_default=True,
    help="Crawl processes at once, each crawling a batch of due sources.",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=500,
    show_default=True,
    help="The most sources one crawl process takes (a host's sources stay in one batch).",
)
@click.option(
    "--time-limit",
    default="1h",
    show_default=True,
    metavar="DURATION",
    help="Stop a run that takes longer (a source's own --time-limit wins).",
)
@click.option(
    "--misfire-grace",
    metavar="DURATION",
    help="Skip a run more than DURATION late (e.g. the scheduler was down) "
    "[default: one period of the source's schedule, so a missed run is made once at restart].",
)
@click.option(
    "--stop-grace",
    default="5s",
    show_default=True,
    metavar="DURATION",
    help="On stop or time limit, how long a crawl may take to close before it is killed.",
)
@click.option("-v", "--verbose", is_flag=True, help="Log what APScheduler does too.")
@click.option(
    "--redis",
    "redis_url",
    metavar="URL",
    help="Queue each due crawl for the workers of this Redis (`crawl --redis`) "
    "instead of crawling here.",
)
@click.pass_context
@translate_errors
def run(ctx, once, concurrency, batch_size, time_limit, misfire_grace, stop_grace, verbose,
        redis_url):  # fmt: skip
    """Crawl each scheduled source when it is due, until stopped.

    Sources due together are crawled in batches, one crawl process per
    batch, each source with its own crawl row and time limit; a host is
    crawled by one batch at a time. Logs one line per run (source, status,
    pages, posts new / changed / deleted, duration) on stderr. SIGINT or
    SIGTERM stop it cleanly: running crawls are stopped and their crawls
    marked. Missed runs (the scheduler was down) are coalesced into one.
    Only one scheduler runs on an archive.

    Example:

        chanarchive scheduler run

        chanarchive scheduler run --once

        chanarchive scheduler run --redis redis://127.0.0.1:6379/0
    """
    from scheduler.service import Service, ServiceOptions

    limit = parse_duration(time_limit, what="time limit")
    if limit < 1:
        raise BadUsage("--time-limit must be at least 1s")
    if redis_url:
        _check_redis(redis_url, db_path(ctx))
    options = ServiceOptions(
        redis=redis_url,
        once=once,
        concurrency=concurrency,
        batch_size=batch_size,
        time_limit=limit,
        misfire_grace=(
            parse_duration(misfire_grace, what="misfire grace")
            if misfire_grace is not None
            else None
        ),
        stop_grace=parse_duration(stop_grace, what="stop grace"),
    )
    open_db(ctx).close()  # a missing or unusable archive is a one-line error
    _log_to_stderr(verbose)
    report = Service(db_path(ctx), options).run()
    if once and report.all_failed:
        raise WorkFailed(f"every run failed ({report.runs} runs)")


def _check_redis(redis_url: str, archive: str) -> None:
    """A bad --redis URL, one whose password the Redis refuses, or one whose ingester writes
    another archive than this scheduler's is bad usage; a Redis that does not answer yet is
    only said (each due crawl fails until it does)."""
    from crawler.distributed.archives import archive_mismatch
    from crawler.distributed.frontier import (
        BadQueueUrl,
        Frontier,
        QueueUnavailable,
        check_url,
        connect,
    )

    try:
        check_url(redis_url)
        server = connect(redis_url)
    except BadQueueUrl as exc:
        raise BadUsage(str(exc)) from exc
    except QueueUnavailable as exc:
        click.echo(f"warning: {exc} (due crawls fail until it answers)", err=True)
        return
    try:
        mismatch = archive_mismatch(Frontier(server), archive)
    finally:
        server.close()
    if mismatch:  # the sources are here, their crawl rows would be there
        raise BadUsage(mismatch)
