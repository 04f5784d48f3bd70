"""Batched rounds: due sources crawled together, one process per batch, each with its own row."""

from __future__ import annotations

import pytest

from crawler.options import GivenOptions
from scheduler.batches.planning import plan_batches
from scheduler.sources.scheduled import ScheduledSource
from scheduler.sources.schedules import Schedule
from tests.crawling import FAST, query, run_cli
from tests.helpers import add_source as add


def source(key: str, host: str, **settings: str) -> ScheduledSource:
    return ScheduledSource(
        key=key,
        kind="url",
        url=f"http://{host}/{key}",
        host=host,
        schedule=Schedule(every=60),
        crawl=GivenOptions.check({"settings": dict(settings)}),
    )


def keys(batches: list[list[ScheduledSource]]) -> list[list[str]]:
    return [[s.key for s in batch] for batch in batches]


def test_a_plan_keeps_hosts_whole_and_apart_and_options_together():
    due = [source(f"a{i}", "a") for i in range(3)] + [source("b0", "b"), source("c0", "c")]
    # Small hosts share a batch, up to its size.
    assert keys(plan_batches(due, batch_size=4, slots=4)) == [["a0", "a1", "a2", "b0"], ["c0"]]
    # A host bigger than a batch is cut: the rest waits for that batch, never a second process.
    assert keys(plan_batches(due, batch_size=2, slots=4)) == [["a0", "a1"], ["b0", "c0"]]
    # A host being crawled waits; so do the batches beyond the free processes.
    assert keys(plan_batches(due, busy_hosts={"a"}, batch_size=10, slots=4)) == [["b0", "c0"]]
    assert keys(plan_batches(due, batch_size=2, slots=1)) == [["a0", "a1"]]
    # Crawl options are the process's: sources with other options go into another batch,
    # and a host whose sources differ sends one kind at a time.
    mixed = [source("a0", "a"), source("a1", "a", DOWNLOAD_DELAY="0"), source("b0", "b")]
    assert keys(plan_batches(mixed, batch_size=10, slots=4)) == [["a0", "b0"]]
    assert keys(plan_batches(mixed[1:], batch_size=10, slots=4)) == [["a1"], ["b0"]]


@pytest.mark.slow
def test_a_round_crawls_its_due_sources_in_one_process_each_with_its_own_row(make_site, tmp_path):
    db = tmp_path / "archive.db"
    one, two = make_site(), make_site()
    sources = []
    for i in range(12):
        one.control("channel", name=f"one{i}", posts=3)
        sources.append(f"{one.url}/s/one{i}")
    for i in range(3):
        two.control("channel", name=f"two{i}", posts=2)
        sources.append(f"{two.url}/s/two{i}")
    for url in sources:
        add(db, url, "--every", "1h", *FAST)

    done = run_cli(db, "scheduler", "run", "--once")
    assert done.returncode == 0, done.stderr
    rows = query(db, "SELECT source, status, pages, trigger FROM crawls ORDER BY id")
    assert sorted(r[0] for r in rows) == sorted(sources)
    assert {(r[1], r[2], r[3]) for r in rows} == {("ok", 1, "scheduled")}
    assert query(db, "SELECT COUNT(*) FROM posts") == [(12 * 3 + 3 * 2,)]
    # One batch, one crawl process: each host's robots.txt was fetched once, not once a source.
    batches = [
        line
        for line in done.stderr.splitlines()
        if " batch " in f" {line}" and "crawl process" in line
    ]
    assert len(batches) == 1, done.stderr
    assert "batch 1: 15 sources of 2 hosts" in batches[0]
    for site in (one, two):
        assert [path for _, path, _ in site.stats()].count("/robots.txt") == 1
    # Every source still logs its own run.
    assert sum(": ok, 1 pages" in line for line in done.stderr.splitlines()) == 15


@pytest.mark.slow
def test_a_hanging_source_in_a_batch_is_cut_off_at_its_own_limit_while_the_others_finish(
    make_site, tmp_path
):
    db = tmp_path / "archive.db"
    site, other = make_site(), make_site()
    # Downloads may take long (10 min): only the hanging source's own limit cuts it off.
    slow_opts = [*FAST, "-s", "DOWNLOAD_TIMEOUT=600"]
    hanging = f"{site.url}/delay?s=300"
    add(db, hanging, "--every", "1h", "--time-limit", "2s", *slow_opts)
    neighbours = []
    for i in range(4):
        site.control("channel", name=f"near{i}", posts=2)
        neighbours.append(f"{site.url}/s/near{i}")
    for i in range(2):
        other.control("channel", name=f"far{i}", posts=2)
        neighbours.append(f"{other.url}/s/far{i}")
    for url in neighbours:
        add(db, url, "--every", "1h", *slow_opts)

    done = run_cli(db, "scheduler", "run", "--once", "--stop-grace", "1s")
    assert done.returncode == 0, done.stderr
    assert "batch 1: 7 sources of 2 hosts" in done.stderr
    assert "batch 2" not in done.stderr
    [(status, reason, pages)] = query(
        db, "SELECT status, reason, pages FROM crawls WHERE source = ?", [hanging]
    )
    assert (status, reason, pages) == ("failed", "timed out after 2 s", 0)
    others = query(
        db, "SELECT source, status, reason FROM crawls WHERE source != ? ORDER BY source", [hanging]
    )
    assert others == [(url, "ok", None) for url in sorted(neighbours)]
    # Its neighbours on the same host were fetched, once each, in that same process.
    paths = [path for _, path, _ in site.stats()]
    assert sorted(p for p in paths if p.startswith("/s/")) == [f"/s/near{i}" for i in range(4)]
    assert paths.count("/robots.txt") == 1
    assert f"{hanging}: failed, 0 pages" in done.stderr
    assert query(db, "SELECT COUNT(*) FROM crawls WHERE status = 'running'") == [(0,)]


@pytest.mark.slow
def test_a_process_started_ahead_is_handed_out_or_dismissed_when_unused():
    from scheduler.batches.processes import CrawlProcesses

    pool = CrawlProcesses()
    pool.warm_up()
    warm = pool.take()
    assert warm.alive()
    assert pool.tidy() is None  # none waiting now
    pool.warm_up()
    assert 0 < pool.tidy(idle=60) <= 60  # it may wait a minute for a batch
    assert pool.tidy(idle=0) is None  # then it is dismissed
    warm.dismiss()
    assert not warm.alive()
    pool.close()


@pytest.mark.slow
def test_each_scheduled_source_captures_media_as_it_was_added(make_site, tmp_path):
    from urllib.parse import urlsplit

    db = tmp_path / "archive.db"
    site = make_site()
    urls = {}
    for name in ("keeps", "skips"):
        site.control("media_channel", name=name, posts=3)
        urls[name] = f"{site.url}/s/{name}"
    add(db, urls["keeps"], "--every", "1h", *FAST)  # the crawl's default: photos
    add(db, urls["skips"], "--every", "1h", "--media", "none", "--deletion-checks", "0", *FAST)

    done = run_cli(db, "scheduler", "run", "--once")
    assert done.returncode == 0, done.stderr
    media = sorted(
        urlsplit(path).path for _m, path, _s in site.stats() if path.startswith("/media/")
    )
    assert media == [f"/media/keeps-{i}.jpg" for i in range(1, 4)]
    options = dict(query(db, "SELECT source, options FROM crawls"))
    assert '"media": "photos"' in options[urls["keeps"]]
    assert '"media": "none"' in options[urls["skips"]]
    assert '"deletion_checks": 0' in options[urls["skips"]]
    # Other capture options, other crawl processes: the host's sources go one kind at a time.
    assert "batch 1: 1 source of 1 host" in done.stderr, done.stderr
    assert "batch 2: 1 source of 1 host" in done.stderr, done.stderr


@pytest.mark.slow
def test_a_crawl_process_that_dies_at_start_ends_its_sources_as_failed_with_its_last_words(
    tmp_path, monkeypatch
):
    import sys
    import threading

    from archive.store import open_archive
    from scheduler.batches import processes
    from scheduler.batches.local import LocalRunner
    from scheduler.batches.runner import Batch

    dies = "import sys; sys.stdin.readline(); sys.exit('boom: the crawl process gave up')"
    monkeypatch.setattr(processes, "BATCH_COMMAND", [sys.executable, "-c", dies])
    db = tmp_path / "archive.db"
    open_archive(db).close()
    batch = Batch(1, [source("@gone_ch", "t.me")], {"@gone_ch": 60.0})
    ended = []
    runner = LocalRunner(str(db), stop_grace=1.0)
    runner.run(
        batch,
        finished=lambda src, row, code: ended.append((src.key, row, code)),
        stop=threading.Event(),
    )
    runner.close()
    [(key, row, code)] = ended
    assert (key, row["status"], code) == ("@gone_ch", "failed", 1)
    assert row["reason"] == "the crawl process ended with status 1: boom: the crawl process gave up"
    assert query(db, "SELECT COUNT(*) FROM crawls WHERE status = 'running'") == [(0,)]
