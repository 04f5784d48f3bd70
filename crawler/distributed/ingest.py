"""The ingester (``chanarchive ingest``): the one writer of a distributed crawl.

It takes jobs and deliveries from Redis and writes the archive through the
same functions as a local crawl (:func:`archive.store.ingest_page`,
:func:`~archive.store.record_error`, :func:`~archive.store.finish_crawl`):

1. A *job* (one source to crawl) becomes a ``crawls`` row, named by the
   job's token so that a job handed over twice begins one crawl, and the
   crawl's seed request. The job is acknowledged only then.
2. *Deliveries* are moved to a processing list (``LMOVE``), written in one
   SQLite transaction (each request's delivery once per crawl:
   :func:`archive.store.queued.claim_delivery`), and only after the commit
   acknowledged: removed from the processing list and from the crawl's
   pending requests. A delivery handed over again after a crash is skipped.
   The ingester knows what the archive holds, so it asks for the *side
   requests* a local crawl's spider would make: after a page, a request for
   each of its media files the archive lacks (:func:`crawler.media.plan_media`;
   the slots are linked at once, and the file fills them in when a worker
   delivers it), and a look at the embed of each post the page no longer
   shows (:class:`crawler.checks.DeletionChecks`, within the crawl's
   ``--deletion-checks`` budget). Side requests are pending like pages (the
   crawl ends once they are written) but count in no page budget.
3. What workers need to crawl incrementally (each Telegram channel's
   archived id ranges, each web channel's live posts and listings) is
   published to Redis after each commit, before the acknowledgement.
4. A crawl with no request pending is finished (status from its pages and
   errors, as a local crawl's), and its row published for ``crawl --redis``.
5. Leases of workers whose heartbeat stopped go back to the queue.

At start, whatever a previous ingester left in its processing lists goes
back to the head of the queues. One ingester runs per Redis: a lock in
Redis says which (taken over at once from a dead process on this machine).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import redis

from archive import store
from archive.errors import BadInput, ChanarchiveError
from archive.models import (
    ERROR_INGEST,
    ERROR_THROTTLED,
    FAILED,
    KIND_TELEGRAM,
    MEDIA_NONE,
    PARTIAL,
    RUNNING,
    MediaRef,
    Page,
    capture_from_dict,
    media_fetch_from_dict,
    page_from_dict,
)
from archive.source import Source, parse_source
from archive.store import open_archive, queued

from ..checks import DeletionChecks
from ..media import plan_media
from ..options import CrawlOptions
from .frontier import Child, Frontier, connect
from .spider import check_child, media_child, seed_request

logger = logging.getLogger(__name__)

#: Kept with a crawl's errors when Telegram kept answering its empty page (as a local crawl does).
THROTTLED_MESSAGE = "Telegram kept serving an empty page (tme_no_messages_found); try again later"


class IngesterBusy(ChanarchiveError):
    """Another ingester holds this Redis's lock."""


def queue_name(url: str) -> str:
    """How the archive names a Redis queue: host:port/db, never the password."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return f"unix:{parts.path}"
    host = parts.hostname or "localhost"
    db = parts.path.strip("/") or "0"
    return f"{host}:{parts.port or 6379}/{db}"


@dataclass
class IngestOptions:
    batch: int = 20  # deliveries written per transaction, at most
    block: float = 1.0  # seconds to wait for a delivery before looking at the rest again
    reap_every: float = 1.0  # seconds between looks for dead workers
    check_every: float = 5.0  # seconds between looks at every running crawl
    lock_ttl: float = 30.0  # seconds the ingester lock outlives a silent ingester
    result_ttl: int = 7 * 86400  # seconds a finished crawl's row stays in Redis


@dataclass
class IngestStats:
    jobs: int = 0
    deliveries: int = 0
    pages: int = 0
    media: int = 0  # media deliveries written (a file, or why it could not be fetched)
    checks: int = 0  # looks at missing posts' embeds written
    repeated: int = 0  # deliveries already written (handed over again)
    late: int = 0  # deliveries of crawls already finished
    reaped: int = 0  # leases of dead workers put back
    finished: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class CrawlSides:
    """What side requests one crawl makes: its media (``--media``) and deletion checks."""

    source: Source
    media: str
    media_max_size: int
    checks: DeletionChecks


class Ingester:
    def __init__(self, db_path: str, redis_url: str, options: IngestOptions | None = None) -> None:
        self.options = options or IngestOptions()
        self.server = connect(redis_url)
        self.frontier = Frontier(self.server)
        self.queue = queue_name(redis_url)
        self.db_path = db_path
        self.db = None
        self.stop_event = threading.Event()
        self.stats = IngestStats()
        self._ended: set[int] = set()
        #: Per running crawl: its source, and the side requests it makes.
        self._sides: dict[int, CrawlSides] = {}
        self.lock_value = f"{os.getpid()}@{socket.gethostname()} {uuid.uuid4().hex[:8]}"
        self._refresh = self.server.register_script(
            "if redis.call('GET', KEYS[1]) == ARGV[1] then"
            " return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0"
        )

    def stop(self) -> None:
        self.stop_event.set()

    # -- life cycle
    def run(self) -> IngestStats:
        """Ingest until :meth:`stop`; returns what was done."""
        self.start()
        try:
            while not self.stop_event.is_set():
                self.step()
        finally:
            self.close()
        return self.stats

    def start(self) -> None:
        """Take the lock, open the archive, and pick up whatever a previous ingester left."""
        self._take_lock()
        try:
            self.db = open_archive(self.db_path)
            self._recover()
            self._publish_all()
            while self._take_jobs():
                pass
            self._close_lost_crawls()
            self._announce_finished()
            self._check_crawls(None)
        except BaseException:
            self.close()
            raise
        self._last_reap = self._last_check = time.monotonic()

    def step(self) -> None:
        """One round: keep the lock, reap dead workers, take jobs, write a batch, finish crawls."""
        self._refresh_lock()
        now = time.monotonic()
        if now - self._last_reap >= self.options.reap_every:
            self._last_reap = now
            self._reap()
        self._take_jobs()
        touched = self._ingest_batch()
        if touched:
            self._check_crawls(touched)
        if now - self._last_check >= self.options.check_every:
            self._last_check = now
            self._check_crawls(None)

    def close(self) -> None:
        self._release_lock()
        if self.db is not None:
            self.db.close()
            self.db = None

    def _take_lock(self) -> None:
        ttl = int(self.options.lock_ttl * 1000)
        key = self.frontier.ingester_lock
        if self.server.set(key, self.lock_value, nx=True, px=ttl):
            return
        holder = self.server.get(key)
        holder = holder.decode() if isinstance(holder, bytes) else holder or ""
        pid, _, rest = holder.partition("@")
        host = rest.split(" ", 1)[0]
        if host == socket.gethostname() and pid.isdigit() and not _alive(int(pid)):
            logger.info("taking over the lock of ingester %s, which is gone", holder)
            self.server.set(key, self.lock_value, px=ttl)
            return
        raise IngesterBusy(
            f"another ingester ({holder}) is running on this Redis; one writes at a time"
        )

    def _refresh_lock(self) -> None:
        kept = self._refresh(
            keys=[self.frontier.ingester_lock],
            args=[self.lock_value, int(self.options.lock_ttl * 1000)],
        )
        if not kept:
            raise IngesterBusy("this ingester lost its lock (was it paused?): stopping")

    def _release_lock(self) -> None:
        try:
            if self.server.get(self.frontier.ingester_lock) in (
                self.lock_value,
                self.lock_value.encode(),
            ):
                self.server.delete(self.frontier.ingester_lock)
        except redis.RedisError:
            pass

    def _recover(self) -> None:
        """What a previous ingester took but never acknowledged goes back first in line."""
        f = self.frontier
        for source, target, what in (
            (f.items_processing, f.items, "deliveries"),
            (f.jobs_processing, f.jobs, "jobs"),
        ):
            moved = 0
            while self.server.lmove(source, target, "RIGHT", "LEFT") is not None:
                moved += 1
            if moved:
                logger.info("put back %d %s a previous ingester had not acknowledged", moved, what)

    def _reap(self) -> None:
        reaped = self.frontier.reap()
        if reaped:
            self.stats.reaped += reaped
            logger.info("put back %d requests of workers that stopped answering", reaped)

    # -- jobs
    def _take_jobs(self, limit: int = 20) -> int:
        taken = 0
        f = self.frontier
        while taken < limit:
            raw = self.server.lmove(f.jobs, f.jobs_processing, "LEFT", "RIGHT")
            if raw is None:
                break
            taken += 1
            try:
                self._begin(json.loads(raw))
            except (ValueError, KeyError, TypeError, BadInput) as exc:
                logger.error("dropped a job that cannot be read (%s): %r", exc, raw[:200])
            self.server.lrem(f.jobs_processing, 1, raw)
        return taken

    def _begin(self, job: dict[str, Any]) -> None:
        source = parse_source(job["source"])
        options = CrawlOptions.from_record(job.get("options"))
        crawl_id, new = queued.begin_queued_crawl(
            self.db,
            job["token"],
            source.key,
            queue=self.queue,
            trigger=job.get("trigger") or "manual",
            options=options.to_record(),
        )
        if queued.crawl_status(self.db, crawl_id) != RUNNING:
            return
        seed = seed_request(crawl_id, source, options)
        self.frontier.enqueue(crawl_id, seed, options.max_pages)
        if new:
            self.stats.jobs += 1
            logger.info("crawl %d of %s begun", crawl_id, source.key)

    # -- deliveries
    def _take_batch(self) -> list:
        f = self.frontier
        first = self.server.blmove(f.items, f.items_processing, self.options.block, "LEFT", "RIGHT")
        if first is None:
            return []
        batch = [first]
        while len(batch) < self.options.batch:
            raw = self.server.lmove(f.items, f.items_processing, "LEFT", "RIGHT")
            if raw is None:
                break
            batch.append(raw)
        return batch

    def _ingest_batch(self) -> set[int]:
        """Take, write and acknowledge up to a batch of deliveries; returns the crawls touched."""
        records = self._read(self._take_batch())
        if not records:
            return set()
        try:
            self._write_batch(records)
        except Exception:
            logger.exception("could not write %d deliveries: trying again", len(records))
            self._recover()
            time.sleep(1.0)
            return set()
        self._acknowledge(records)
        return {r["crawl"] for _raw, r in records if isinstance(r, dict) and "crawl" in r}

    def _read(self, batch: list) -> list[tuple[Any, dict[str, Any]]]:
        records = []
        for raw in batch:
            try:
                records.append((raw, json.loads(raw)))
            except ValueError:
                logger.error("dropped a delivery that is not JSON: %r", raw[:200])
                self.server.lrem(self.frontier.items_processing, 1, raw)
        return records

    def _write_batch(self, records: list[tuple[Any, dict[str, Any]]]) -> None:
        """Write deliveries in one transaction, then publish what workers need to know
        and queue the side requests of the pages (before the deliveries are
        acknowledged, so their crawls stay open until those are written too)."""
        channels: set[tuple[str, str]] = set()
        sides: list[tuple[int, Child]] = []
        with store.write_transaction(self.db):
            for _raw, record in records:
                try:
                    with store.write_transaction(self.db):  # a savepoint: this delivery alone
                        self._write(record, channels, sides)
                except sqlite3.OperationalError:
                    raise  # the archive is busy or broken: the whole batch is tried again
                except Exception as exc:  # a delivery that cannot be read: kept as an error
                    logger.exception("could not write a delivery: %r", str(record)[:200])
                    self._refuse(record, exc)
        self._publish(channels)
        for crawl_id, child in sides:
            self.frontier.enqueue_side(crawl_id, child)

    def _acknowledge(self, records: list[tuple[Any, dict[str, Any]]]) -> None:
        """Only what is committed: a crash before this re-delivers, and the written are skipped."""
        pipe = self.server.pipeline(transaction=True)
        for raw, record in records:
            pipe.lrem(self.frontier.items_processing, 1, raw)
            if isinstance(record, dict) and "crawl" in record and "rkey" in record:
                pipe.srem(self.frontier.pending(record["crawl"]), record["rkey"])
        pipe.execute()
        if self._ended:  # nothing more of these crawls will be written: drop their keys
            ended = [k for c in self._ended for k in self.frontier.crawl_keys(c)]
            self.server.delete(*ended)
            for crawl_id in self._ended:
                self._sides.pop(crawl_id, None)
            self._ended.clear()

    def _write(
        self,
        record: dict[str, Any],
        channels: set[tuple[str, str]],
        sides: list[tuple[int, Child]],
    ) -> None:
        crawl_id = record["crawl"]
        if queued.crawl_status(self.db, crawl_id) != RUNNING:
            self.stats.late += 1  # its crawl was ended (e.g. stopped by the scheduler)
            self._ended.add(crawl_id)
            return
        if not queued.claim_delivery(self.db, crawl_id, record["rkey"]):
            self.stats.repeated += 1
            return
        self.stats.deliveries += 1
        for entry in record["items"]:
            if entry["type"] == "error":
                store.record_error(self.db, crawl_id, entry["url"], entry["kind"], entry["message"])
                continue
            if entry["type"] == "media":
                self._write_media(crawl_id, entry)
                continue
            if entry["type"] == "check":
                self._write_check(crawl_id, entry)
                continue
            capture = capture_from_dict(entry["capture"])
            page = page_from_dict(entry["page"]) if entry["page"] is not None else None
            try:
                store.ingest_page(self.db, crawl_id, capture, page)
            except Exception as exc:  # the reason is kept with the crawl, as a local crawl does
                logger.exception("Could not archive %s", capture.url)
                store.record_error(self.db, crawl_id, capture.url, ERROR_INGEST, repr(exc))
                continue
            self.stats.pages += 1
            if page is not None:
                sides += self._side_requests(crawl_id, record["source"], capture.url, page)
            if page is not None and page.channel is not None:
                channels.add((page.kind, page.channel.name))
            if page is not None and page.throttled and not page.start:
                store.record_error(
                    self.db, crawl_id, capture.url, ERROR_THROTTLED, THROTTLED_MESSAGE
                )

    def _crawl_sides(self, crawl_id: int, source_key: str) -> CrawlSides:
        """What side requests the crawl makes, as its row's options say (none if unsaid)."""
        found = self._sides.get(crawl_id)
        if found is None:
            row = self.db.execute("SELECT options FROM crawls WHERE id = ?", [crawl_id]).fetchone()
            options = CrawlOptions.from_record(json.loads(row[0] or "{}") if row else None)
            budget = options.deletion_checks
            found = CrawlSides(
                source=parse_source(source_key),
                media=options.media,
                media_max_size=options.media_max_size,
                checks=DeletionChecks(
                    budget,
                    held=lambda name, lo, hi: store.live_post_nums(self.db, name, lo, hi),
                    pending=lambda name: store.pending_deletion_checks(self.db, name, budget),
                ),
            )
            self._sides[crawl_id] = found
        return found

    def _side_requests(
        self, crawl_id: int, source_key: str, page_url: str, page: Page
    ) -> list[tuple[int, Child]]:
        """The side requests of a page just written: its media files the archive lacks
        (their slots linked now), and looks at the posts it no longer shows."""
        sides = self._crawl_sides(crawl_id, source_key)
        children = []
        if sides.media != MEDIA_NONE:

            def known(channel: str, post_ids: list[str], urls: list[str]):
                return store.known_media(self.db, channel, post_ids, urls)

            for url, refs, fetched in plan_media(page, sides.media, known):
                # Linked now: a file already kept serves them at once, a new one when it comes.
                store.ingest_media(self.db, url, refs, None, crawl_id=crawl_id)
                if not fetched:
                    child = media_child(crawl_id, sides.source, url, refs, sides.media_max_size)
                    children.append((crawl_id, child))
        for post_num in sides.checks.to_check(source_key, page):
            child = check_child(crawl_id, sides.source, page_url, page.channel.name, post_num)
            children.append((crawl_id, child))
        return children

    def _write_media(self, crawl_id: int, entry: dict[str, Any]) -> None:
        """A media file a worker fetched (or why it could not), linked to the slots showing it."""
        refs = [MediaRef(*ref) for ref in entry.get("refs") or []]
        fetch = media_fetch_from_dict(entry["fetch"]) if entry.get("fetch") else None
        try:
            store.ingest_media(self.db, entry["url"], refs, fetch, crawl_id=crawl_id)
        except sqlite3.OperationalError:
            raise
        except Exception:  # kept with the file, as a local crawl does: never the crawl's error
            logger.exception("Could not archive media %s", entry["url"])
        self.stats.media += 1

    def _write_check(self, crawl_id: int, entry: dict[str, Any]) -> None:
        """A look at a missing post's embed: kept, and a confirmed deletion applied."""
        try:
            store.record_deletion_check(
                self.db, crawl_id, entry["channel"], entry["post_id"], url=entry["url"],
                outcome=entry["outcome"], checked_at=entry["checked_at"],
                http_status=entry.get("http_status"), reason=entry.get("reason"),
                capture=capture_from_dict(entry["capture"]) if entry.get("capture") else None,
            )  # fmt: skip
        except sqlite3.OperationalError:
            raise
        except Exception as exc:  # the reason is kept with the crawl, as a local crawl does
            logger.exception("Could not keep the check of %s", entry.get("url"))
            store.record_error(self.db, crawl_id, entry.get("url"), ERROR_INGEST, repr(exc))
            return
        self.stats.checks += 1

    def _refuse(self, record: Any, exc: Exception) -> None:
        crawl_id = record.get("crawl") if isinstance(record, dict) else None
        if isinstance(crawl_id, int) and queued.crawl_status(self.db, crawl_id) == RUNNING:
            queued.claim_delivery(self.db, crawl_id, str(record.get("rkey")))
            store.record_error(
                self.db, crawl_id, None, ERROR_INGEST, f"a delivery could not be read: {exc!r}"
            )

    # -- what workers read
    def _publish(self, channels: set[tuple[str, str]]) -> None:
        if not channels:
            return
        pipe = self.server.pipeline(transaction=False)
        for kind, name in sorted(channels):
            if kind == KIND_TELEGRAM:
                ranges = [list(span) for span in store.coverage(self.db, name)]
                pipe.hset(self.frontier.coverage_key, name, json.dumps(ranges))
            else:
                known = store.known_web_posts(self.db, name)
                data = {"urls": known.urls, "listings": known.listings}
                pipe.hset(self.frontier.known_key, name, json.dumps(data, ensure_ascii=False))
        pipe.execute()

    def _publish_all(self) -> None:
        channels = {
            (kind, name) for name, kind in self.db.execute("SELECT name, kind FROM channels")
        }
        self._publish(channels)

    # -- crawls
    def _check_crawls(self, crawl_ids: set[int] | None) -> None:
        """Finish the crawls (those given, else every running one) with no request left."""
        running = dict(
            (crawl_id, token)
            for token, crawl_id in queued.running_queued_crawls(self.db, self.queue)
        )
        for crawl_id in sorted(crawl_ids if crawl_ids is not None else running):
            token = running.get(crawl_id)
            if token is None:
                continue
            seen, pending = self.frontier.seen(crawl_id), self.frontier.pending(crawl_id)
            if self.server.exists(seen) and self.server.scard(pending) == 0:
                self._finish(token, crawl_id)

    def _finish(self, token: str, crawl_id: int, **how: Any) -> None:
        with store.write_transaction(self.db):
            row = store.finish_crawl(self.db, crawl_id, **how)
            queued.forget_deliveries(self.db, crawl_id)
        self._announce(token, row)
        self.server.delete(*self.frontier.crawl_keys(crawl_id))
        self._sides.pop(crawl_id, None)
        self.stats.finished.append(row)
        logger.info(
            "crawl %d of %s finished: %s, %d pages, posts %d new / %d changed / %d deleted, "
            "%d errors",
            crawl_id,
            row["source"],
            row["status"],
            row["pages"],
            row["posts_new"],
            row["posts_changed"],
            row["posts_deleted"],
            row["errors"],
        )

    def _announce(self, token: str, row: dict[str, Any]) -> None:
        self.server.set(
            self.frontier.result(token), json.dumps(row, default=str), ex=self.options.result_ttl
        )
        self.server.publish(f"{self.frontier.prefix}:finished", token)
        queued.mark_announced(self.db, token)

    def _announce_finished(self) -> None:
        """Rows finished by an ingester that died before it said so."""
        for token, crawl_id in queued.unannounced_crawls(self.db, self.queue):
            self._announce(token, store.crawl_row(self.db, crawl_id))
            self.server.delete(*self.frontier.crawl_keys(crawl_id))

    def _close_lost_crawls(self) -> None:
        """Running crawls of this queue that Redis no longer knows (it was flushed) end as failed."""
        for token, crawl_id in queued.running_queued_crawls(self.db, self.queue):
            if not self.server.exists(self.frontier.seen(crawl_id)):
                logger.warning("crawl %d: its requests are gone from Redis", crawl_id)
                pages = store.crawl_row(self.db, crawl_id)["pages"]
                self._finish(
                    token,
                    crawl_id,
                    status=PARTIAL if pages else FAILED,
                    reason="lost: its queued requests are gone from Redis (was it flushed?)",
                )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
