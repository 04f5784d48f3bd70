"""Side fetches never hold pages hostage, and no retry storms (issue 20), through the real CLI.

Hosts that fail below HTTP, all on loopback (``tests/fault_hosts.py``): one
that accepts and never answers, one that drips its answer a few bytes a
second, a port that refuses; and names that do not resolve
(``tests/fakedns``, which also counts the look-ups and fences the child off
anything beyond loopback). The pages are the test server's; the pictures
are elsewhere, so each crawl runs with ``--allow-private-hosts`` unless the
pictures' host is a name.

Nothing here is timed (what a fault costs is measured by
``bench/fault_costs.py``): the tests count what reached the failing host (its
connections, a name's look-ups) and read what the archive kept. The side
fetch's timeout is shortened with ``-s`` to keep them quick; the defaults are
checked on their own.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.crawling import FAST, query, run_cli
from tests.fakedns import environment
from tests.fault_hosts import DrippingHost, HangingHost, RefusingPort

pytestmark = pytest.mark.slow

DEAD = "dead.invalid"


#: A side fetch's timeout in these tests (the default, 10 s, would only make them slower).
SHORT = ["-s", "SIDE_FETCH_TIMEOUT=1"]


def crawl(db: Path, *args: str, env: dict | None = None):
    """``chanarchive crawl ARGS`` with the politeness delays off and a short side fetch timeout.

    With no delay at all, Scrapy sends every request queued for a host at once, whatever its
    concurrency: a host that fails meets several side fetches together, unless the crawl
    sends it one at a time until it answers (as it does)."""
    return run_cli(db, "crawl", *FAST, *SHORT, *args, timeout=300, env=env)


def media_rows(db: Path) -> list[tuple[str, str, int, str | None]]:
    """(file name, status, attempts, reason) of every media URL."""
    rows = query(db, "SELECT url, status, attempts, reason FROM media_urls ORDER BY url")
    return [(url.rsplit("/", 1)[-1].split("?")[0], *rest) for url, *rest in rows]


def fenced_env(tmp_path: Path, names: dict | None = None) -> dict[str, str]:
    return environment(tmp_path / "fence", names or {}, log=tmp_path / "dns.log")


def lookups(tmp_path: Path, name: str) -> int:
    log = tmp_path / "dns.log"
    return log.read_text().split().count(name) if log.exists() else 0


def no_traceback(done) -> None:
    assert "Traceback" not in done.stderr and "Gave up retrying" not in done.stderr, done.stderr


def test_twenty_pictures_on_a_hanging_host_cost_three_timeouts_and_a_later_crawl_gets_them(
    site, tmp_path
):
    db = tmp_path / "archive.db"
    with HangingHost() as host:
        site.control("media_channel", name="stuck", posts=20, base=host.url)
        url = f"{site.url}/s/stuck"
        done = crawl(db, url, "--allow-private-hosts", env=fenced_env(tmp_path))
        assert done.returncode == 0, done.stderr
        assert query(db, "SELECT COUNT(*) FROM posts") == [(20,)]
        assert done.stdout.strip().endswith("0 errors (ok)")  # pictures never fail a crawl
        no_traceback(done)
        # robots.txt and two pictures timed out, one after the other (20 were queued at once);
        # nothing was retried; the rest was not tried.
        assert host.connections == 3
        rows = media_rows(db)
        assert len(rows) == 20 and {status for _, status, _, _ in rows} == {"failed"}
        tried = [r for r in rows if r[2] == 1]
        assert len(tried) == 2
        assert all(reason == "timed out: no answer within 1 s" for *_, reason in tried)
        untried = [r for r in rows if r[2] == 0]
        assert len(untried) == 18
        assert all(
            reason.startswith(f"not tried: host 127.0.0.1:{host.port} failed 3 times in this")
            for *_, reason in untried
        ), untried
        # post_media counts the same tries: a picture not tried used none of its three.
        assert query(db, "SELECT SUM(attempts), COUNT(*) FROM post_media") == [(2, 20)]
        [warning] = [line for line in done.stderr.splitlines() if "Giving up on" in line]
        assert f"127.0.0.1:{host.port}" in warning and "no answer within 1 s" in warning

        # The host works again: the next crawl archives every picture.
        host.heal()
        again = crawl(db, url, "--allow-private-hosts", env=fenced_env(tmp_path))
        assert again.returncode == 0, again.stderr
    assert query(db, "SELECT status, COUNT(*) FROM media_urls GROUP BY status") == [("ok", 20)]
    assert query(db, "SELECT COUNT(*) FROM post_media WHERE sha256 IS NULL") == [(0,)]
    assert not (tmp_path / "fence").exists()


def test_a_dripping_picture_is_cut_and_a_steady_one_outlasts_the_first_byte_timeout(site, tmp_path):
    with DrippingHost(size=200_000, rate=10) as drip:
        site.control("media_channel", name="drip", posts=1, base=drip.url)
        done = crawl(tmp_path / "a.db", f"{site.url}/s/drip", "--allow-private-hosts")
    assert done.returncode == 0, done.stderr
    [(_, status, attempts, reason)] = media_rows(tmp_path / "a.db")
    assert (status, attempts) == ("failed", 1)
    assert reason.startswith("too slow: ") and "(under 20 KB/s)" in reason, reason
    assert drip.connections == 2  # robots.txt and the picture, once: not retried
    no_traceback(done)

    # 360 KB at 60 KB/s takes 6 s: far longer than SIDE_FETCH_TIMEOUT, and judged by its rate
    # once the grace has passed, yet fetched whole.
    with DrippingHost(size=360_000, rate=60_000) as steady:
        site.control("media_channel", name="steady", posts=1, base=steady.url)
        done = crawl(tmp_path / "b.db", f"{site.url}/s/steady", "--allow-private-hosts")
    assert done.returncode == 0, done.stderr
    assert [row[1:3] for row in media_rows(tmp_path / "b.db")] == [("ok", 1)]
    assert query(tmp_path / "b.db", "SELECT size FROM media_files") == [(360_000,)]
    assert steady.connections == 2


def test_pictures_on_a_port_that_refuses_are_tried_until_the_breaker_opens(site, tmp_path):
    db = tmp_path / "archive.db"
    with RefusingPort() as port:
        site.control("media_channel", name="refused", posts=8, base=port.url)
        done = crawl(db, f"{site.url}/s/refused", "--allow-private-hosts", "-s",
                     "HOST_BREAKER_FAILURES=2")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("0 errors (ok)")
    assert query(db, "SELECT COUNT(*) FROM posts") == [(8,)]
    rows = media_rows(db)
    assert len(rows) == 8
    # robots.txt and one picture were refused (the breaker's two), once each: the rest waits.
    tried = [reason for _, _, attempts, reason in rows if attempts == 1]
    assert len(tried) == 1 and tried[0].startswith("connection refused ("), tried
    untried = [reason for _, _, attempts, reason in rows if attempts == 0]
    assert len(untried) == 7
    assert all(
        r.startswith(f"not tried: host 127.0.0.1:{port.port} failed 2 times") for r in untried
    )
    no_traceback(done)


def test_a_dead_name_costs_one_look_up(site, tmp_path):
    db = tmp_path / "archive.db"
    site.control("media_channel", name="deadpics", posts=50, base=f"http://{DEAD}")
    env = fenced_env(tmp_path, {DEAD: [[]]})
    done = crawl(db, f"{site.url}/s/deadpics", env=env)
    assert done.returncode == 0, done.stderr
    assert lookups(tmp_path, DEAD) == 1  # before: 408
    assert query(db, "SELECT COUNT(*) FROM posts") == [(50,)]
    rows = media_rows(db)
    assert len(rows) == 50
    # robots.txt and two pictures failed (their look-up remembered), the rest not tried.
    tried = [reason for _, _, attempts, reason in rows if attempts == 1]
    assert len(tried) == 2 and all(r.startswith("DNS lookup failed (") for r in tried), tried
    assert all(r.startswith(f"not tried: host {DEAD} failed 3") for *_, r in rows if r not in tried)
    no_traceback(done)
    assert len(done.stderr.strip().splitlines()) == 1  # "Giving up on dead.invalid ..."
    assert not (tmp_path / "fence").exists()


@pytest.mark.parametrize("source", ["@anyname", f"http://{DEAD}/s/anyname"])
def test_a_channel_whose_host_does_not_resolve_fails_at_once_in_one_line(tmp_path, source):
    # @anyname is t.me's: as with no network at all, the name does not resolve.
    env = fenced_env(tmp_path, {"t.me": [[]], DEAD: [[]]})
    done = crawl(tmp_path / "a.db", source, env=env)
    assert done.returncode == 1, done.stdout
    [line] = done.stderr.strip().splitlines()  # before: 78 lines, two tracebacks
    assert line.startswith(f"Error: every fetch failed: {source}: fetch: DNS lookup failed (")
    assert done.stdout.strip().endswith("1 errors (failed)")
    host = "t.me" if source.startswith("@") else DEAD
    assert lookups(tmp_path, host) == 1  # robots.txt, then the page from what it learnt
    assert not (tmp_path / "fence").exists()


@pytest.mark.parametrize("fault", ["refused", "hanging"])
def test_an_unreachable_page_host_fails_in_one_line(tmp_path, fault):
    host = RefusingPort() if fault == "refused" else HangingHost()
    with host:
        done = crawl(
            tmp_path / "a.db", f"{host.url}/s/chan",
            "-s", "DOWNLOAD_TIMEOUT=2", "-s", "RETRY_TIMES=1",
        )  # fmt: skip
    assert done.returncode == 1, done.stdout
    [line] = done.stderr.strip().splitlines()
    reason = "connection refused (" if fault == "refused" else "timed out ("
    assert line.startswith(f"Error: every fetch failed: {host.url}/s/chan: fetch: {reason}"), line
    if fault == "hanging":
        # robots.txt once (a side fetch: not retried), the page twice (pages are retried).
        assert host.connections == 3


def test_several_sources_say_which_failed_and_why(site, tmp_path):
    site.control("channel", name="fine", posts=3)
    with RefusingPort() as port:
        db = tmp_path / "a.db"
        done = run_cli(db, "crawl", f"{site.url}/s/fine", f"{port.url}/s/gone", *FAST)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines[0].endswith("(ok)")
    assert lines[1].startswith(f"{port.url}/s/gone: 0 pages")
    assert "(failed: fetch: connection refused (" in lines[1]
    assert done.stderr.strip() == ""  # its reason is told once, above


def test_the_side_fetch_settings_are_taken_with_bounds_and_kept_by_a_source(tmp_path):
    from crawler.tunables import STORED, check_setting

    assert {"SIDE_FETCH_TIMEOUT", "SIDE_FETCH_MIN_RATE", "HOST_BREAKER_FAILURES"} <= set(STORED)
    assert check_setting("SIDE_FETCH_TIMEOUT", "2.5") is None
    assert check_setting("SIDE_FETCH_TIMEOUT", "0") is not None
    assert check_setting("SIDE_FETCH_MIN_RATE", "0") is None  # no floor
    assert check_setting("SIDE_FETCH_MIN_RATE", "-1") is not None
    assert check_setting("HOST_BREAKER_FAILURES", "0") is None  # never give up on a host
    assert check_setting("HOST_BREAKER_FAILURES", "2.5") is not None
    db = tmp_path / "a.db"
    done = run_cli(db, "sources", "add", "@chan", "--every", "1h", "-s", "SIDE_FETCH_TIMEOUT=30")
    assert done.returncode == 0, done.stderr
    done = run_cli(db, "crawl", "@chan", "-s", "HOST_BREAKER_FAILURES=-1")
    assert done.returncode == 2 and "HOST_BREAKER_FAILURES takes a whole number" in done.stderr


def test_workers_bound_side_fetches_as_local_crawls_do(tmp_path):
    from scrapy.utils.misc import load_object

    from crawler.distributed.worker.process import worker_settings
    from crawler.handlers.http import BoundedHTTPDownloadHandler
    from crawler.local import crawl_settings
    from crawler.options import CrawlOptions

    local = crawl_settings(str(tmp_path / "a.db"), CrawlOptions())
    worker = worker_settings("redis://127.0.0.1:6379/0", {"SIDE_FETCH_TIMEOUT": "5"})
    for settings in (local, worker):
        handlers = settings.getdict("DOWNLOAD_HANDLERS")
        assert handlers["http"] == handlers["https"]
        # The handler a stop cuts short is the one that bounds side fetches.
        assert issubclass(load_object(handlers["http"]), BoundedHTTPDownloadHandler)
        middlewares = settings.getdict("DOWNLOADER_MIDDLEWARES")
        breaker = "crawler.downloadermiddlewares.breaker."
        # The gate before robots.txt and backoff; the failures' finality before retry's.
        assert middlewares[breaker + "HostBreaker"] < 100
        assert middlewares[breaker + "HostFailures"] > 560
    assert worker.getfloat("SIDE_FETCH_TIMEOUT") == 5
    assert local.getint("HOST_BREAKER_FAILURES") == 3
