"""``chanarchive crawl``: crawl sources now and archive what they show."""

from __future__ import annotations

import os
import signal

import click

from archive.errors import ChanarchiveError
from archive.models import RUNNING
from archive.source import parse_source

from ..clitools import (
    BadUsage,
    WorkFailed,
    WriteRefused,
    crawl_flags,
    db_path,
    is_terminal,
    translate_errors,
)
from .distributed import queue_error, redis_option


def summary_line(row: dict) -> str:
    """Pages, posts by what happened to them, media files (when any was fetched), errors."""
    media = ""
    archived, failed = row.get("media_archived") or 0, row.get("media_failed") or 0
    if archived or failed:
        media = f"media {archived} archived / {failed} not archived, "
    return (
        f"{row['pages']} pages, posts {row['posts_new']} new / {row['posts_changed']} changed / "
        f"{row['posts_unchanged']} unchanged / {row['posts_deleted']} deleted, "
        f"{media}{row['errors']} errors"
    )


@click.command()
@click.argument("sources", nargs=-1, required=True, metavar="SOURCE...")
@crawl_flags(scheduled=False, scope="for this run")
@click.option("-v", "--verbose", is_flag=True, help="Log what the crawler does.")
@redis_option(
    required=False,
    help="Queue the crawl for the workers of this Redis (see `chanarchive worker`) "
    "instead of crawling here; the archive is written by `chanarchive ingest`.",
)
@click.option(
    "--no-wait",
    is_flag=True,
    help="With --redis: return once the crawl is queued, without waiting for it.",
)
@click.option(
    "--trigger",
    type=click.Choice(["manual", "scheduled"]),
    default="manual",
    hidden=True,
    help="What started this crawl, kept in its crawls row (the scheduler says scheduled).",
)
@click.pass_context
@translate_errors
def crawl(ctx, sources, options, verbose, redis_url, no_wait, trigger):
    """Crawl SOURCE... now and archive every page and post.

    SOURCE is @name, t.me/name, https://t.me/s/name or any http(s) URL. Telegram
    channels are read through their public preview; a page carrying Telegram
    preview markup is read as Telegram wherever it is served from.

    Incremental by default: the walk back through a channel's history stops
    where the archive already holds it. A post that leaves the listing is
    deleted only once its own embed says "Post not found" (--deletion-checks).
    A channel that cannot be read (web preview disabled, no such channel, a
    page without channel markup) fails with the reason and exit status 1.
    A write the archive refuses (a full disk, read-only, an I/O error) stops
    the crawl with exit status 3; what it could not write is fetched again
    by the next crawl. A new archive file the crawl archived nothing into
    is not left behind. --fill-gaps fetches only the pages that cover the
    holes `chanarchive gaps` lists. Ends with a summary line.

    Example:

        chanarchive crawl @durov t.me/telegram

        chanarchive crawl @durov --full --max-pages 50

        chanarchive crawl @durov --deletion-checks 200

        chanarchive crawl @durov --fill-gaps

        chanarchive crawl https://mirror.example/channel/foo --follow '/post/' --depth 2

        chanarchive crawl http://127.0.0.1:8000/s/demo -s DOWNLOAD_DELAY=0

        chanarchive crawl @durov --media all --media-max-size 50M

        chanarchive crawl @durov @telegram --redis redis://10.0.0.5:6379/0

        chanarchive crawl @durov -s SIDE_FETCH_TIMEOUT=30

    Media: photos (and the thumbnails of videos and link previews) are archived by
    default, each file once by sha256; a failed one is tried again by later crawls.
    Distributed crawls (--redis) archive them too, and make the deletion checks: the
    ingester asks for them, the workers fetch them.

    Side fetches (media, deletion checks, robots.txt) never hold the pages up: each
    gets SIDE_FETCH_TIMEOUT seconds (10) to start answering and must then keep
    SIDE_FETCH_MIN_RATE bytes a second (20480); they are not retried when their host
    fails below HTTP, and after HOST_BREAKER_FAILURES such failures (3) the crawl
    asks that host for nothing more, leaving its files "not tried" for a later crawl.
    A failure is told in one line: no network at all ends the crawl within seconds.
    """
    from archive.store.unused import remove_unused
    from crawler.local import CrawlStopped, run_crawl  # Scrapy loads only when crawling

    parsed = []
    for text in sources:
        try:
            parsed.append(parse_source(text))
        except ChanarchiveError as exc:
            raise BadUsage(str(exc)) from exc
    if no_wait and not redis_url:
        raise BadUsage("--no-wait goes with --redis (a local crawl always waits)")
    if options.fill_gaps:
        if redis_url:
            raise BadUsage("--fill-gaps crawls here, not through --redis")
        from .gaps import sources_with_holes

        parsed = sources_with_holes(db_path(ctx), parsed)
        if not parsed:
            return
    if redis_url:
        root = ctx.find_root()
        named = root.get_parameter_source("db") not in (None, click.core.ParameterSource.DEFAULT)
        rows = _queued_crawl(
            redis_url, parsed, options, trigger, wait=not no_wait,
            archive=db_path(ctx) if named else None,
        )  # fmt: skip
        if rows is None:
            return
        _summary(rows)
    else:
        path = db_path(ctx)
        new = not os.path.lexists(path)
        try:
            try:
                rows = run_crawl(
                    path, parsed, options, trigger=trigger, progress=is_terminal(), verbose=verbose
                )
            except CrawlStopped as exc:  # the archive refused a write: the crawl stopped
                if exc.rows:
                    _summary(exc.rows)
                raise WriteRefused(str(exc)) from exc
            _summary(rows)
        finally:
            if new:  # a new file the crawl archived nothing into is not left behind
                remove_unused(path)
    _failures(rows)


def _summary(rows: list[dict]) -> None:
    """The summary line (one per source, then the total, for several sources)."""
    totals = {
        k: sum(r[k] for r in rows)
        for k in rows[0]
        if k.startswith(("pages", "posts_", "media_", "errors"))
    }
    if len(rows) > 1:
        for row in rows:
            # A source that failed says why here (its first page's failure is logged only here).
            why = f": {row['reason']}" if row["status"] == "failed" and row["reason"] else ""
            click.echo(f"{row['source']}: {summary_line(row)} ({_status(row)}{why})")
    statuses = {_status(r) for r in rows}
    status = statuses.pop() if len(statuses) == 1 else "partial"
    click.echo(f"crawled {summary_line(totals)} ({status})")


def _status(row: dict) -> str:
    """A row's status as the summary says it: one the archive refused to close (left
    ``running`` for the next crawl to mark failed) is not said to be running."""
    return "not closed" if row["status"] == RUNNING else row["status"]


def _failures(rows: list[dict]) -> None:
    """Exit status 1 with the reasons when a channel cannot be read or every fetch failed."""
    unreadable = [r for r in rows if str(r["reason"] or "").startswith("unreadable:")]
    if unreadable:
        reasons = "; ".join(
            f"cannot read {r['source']}: {r['reason'].removeprefix('unreadable: ')}"
            for r in unreadable
        )
        raise WorkFailed(reasons)
    if all(r["status"] == "failed" for r in rows):
        reasons = "; ".join(f"{r['source']}: {r['reason']}" for r in rows)
        raise WorkFailed(f"every fetch failed: {reasons}")


def _queued_crawl(
    redis_url, sources, options, trigger, *, wait: bool, archive: str | None
) -> list[dict] | None:
    """``crawl --redis``: queue one crawl per source; wait for their finished rows.

    ``archive``: the archive the user named (``--db`` or ``$CHANARCHIVE_DB``); a crawl the
    ingester would write elsewhere is refused. Without one, where the pages go is said.
    """
    from crawler.distributed.archives import archive_mismatch, ingester_archive
    from crawler.distributed.frontier import Frontier, QueueUnavailable, connect
    from crawler.distributed.jobs import (
        new_tokens,
        submit_crawls,
        wait_for_crawls,
        withdraw_crawls,
    )
    from crawler.options import CrawlOptions

    CrawlOptions.from_queue(options.to_record())  # what the ingester takes: a profile by name
    if options.settings:
        click.echo(
            "note: -s settings apply to the workers (`chanarchive worker -s ...`), "
            "not to a queued crawl; they are kept with the crawl row only",
            err=True,
        )
    try:
        frontier = Frontier(connect(redis_url))
        if archive is not None:
            mismatch = archive_mismatch(frontier, archive)
            if mismatch:
                raise BadUsage(mismatch)
        said = ingester_archive(frontier)
        if said is not None and archive is None:
            click.echo(f"the pages go into {said}, the archive the ingester writes", err=True)
        if not wait:
            tokens = submit_crawls(frontier, sources, options, trigger=trigger)
            for source, token in zip(sources, tokens, strict=True):
                click.echo(f"queued {source.key} (job {token})")
            return None
        # Stopped while queueing or waiting (Ctrl-C, or the scheduler's SIGTERM):
        # the crawls no ingester has begun are taken back; begun ones go on in the
        # workers. The handler is in place before the push, so a stop that comes
        # the moment the jobs are queued still takes them back.
        tokens = new_tokens(len(sources))
        previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
        try:
            submit_crawls(frontier, sources, options, trigger=trigger, tokens=tokens)
            return wait_for_crawls(frontier, tokens, notice=lambda text: click.echo(text, err=True))
        except BaseException:
            withdrawn = withdraw_crawls(frontier, tokens)
            click.echo(
                f"stopped waiting: {withdrawn} of {len(tokens)} crawls taken back from the queue",
                err=True,
            )
            raise
        finally:
            signal.signal(signal.SIGTERM, previous)
    except QueueUnavailable as exc:
        raise queue_error(exc) from exc


def _exit_on_sigterm(signum, frame):
    raise SystemExit(128 + signum)
