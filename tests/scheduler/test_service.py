"""`chanarchive scheduler run` against the loopback test server: real crawls, real signals."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from archive.times import to_datetime, to_stamp
from chanarchive.cli import cli
from scheduler.service.lock import lock_path
from tests.crawling import FAST, query, run_cli
from tests.helpers import add_source as add

pytestmark = pytest.mark.slow

#: Where nothing listens: connections are refused at once.
DEAD = "http://127.0.0.1:1/s/gone"


def sources_cmd(db: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--db", str(db), "sources", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


class Scheduler:
    """``chanarchive scheduler run`` as a child process, its log in a file."""

    def __init__(self, db: Path, *args: str) -> None:
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "chanarchive", "--db", str(db), "scheduler", "run", *args],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def text(self) -> str:
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM; the scheduler must be gone within ``timeout`` seconds."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError(f"the scheduler did not stop on SIGTERM:\n{self.text()}") from None

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


@pytest.fixture
def start_scheduler():
    started: list[Scheduler] = []

    def start(db: Path, *args: str) -> Scheduler:
        scheduler = Scheduler(db, *args)
        started.append(scheduler)
        return scheduler

    yield start
    for scheduler in started:
        scheduler.close()


def wait_for(condition: Callable[[], bool], what: str, scheduler: Scheduler, timeout=60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if scheduler.proc.poll() is not None:
            break
        time.sleep(0.2)
    raise AssertionError(f"never saw {what}; scheduler log:\n{scheduler.text()}")


def crawls(db: Path, source: str, status: str | None = None) -> list[tuple]:
    sql = "SELECT id, status, reason, trigger, started_at, finished_at FROM crawls WHERE source = ?"
    params: list = [source]
    if status:
        sql += " AND status = ?"
        params.append(status)
    try:
        return query(db, sql + " ORDER BY id", params)
    except sqlite3.OperationalError:  # not created yet
        return []


def planned(db: Path) -> dict[str, tuple]:
    """Each scheduled source's planned next run (None: paused) and schedule, as the archive keeps
    them: the scheduler keeps its jobs in memory and mirrors their next runs here."""
    rows = query(db, "SELECT key, next_run_at, every_seconds, cron FROM sources")
    return {key: (to_datetime(when), every, cron) for key, when, every, cron in rows}


def next_run(db: Path, key: str) -> datetime | None:
    return planned(db)[key][0]


def set_next_run(db: Path, key: str, when: datetime) -> None:
    """Move a source's planned next run into the past, as if the scheduler had been down."""
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("UPDATE sources SET next_run_at = ? WHERE key = ?", [to_stamp(when), key])
    conn.close()


def once(db: Path, *args: str) -> subprocess.CompletedProcess:
    return run_cli(db, "scheduler", "run", "--once", *args, timeout=120)


def test_sources_are_crawled_repeatedly_failures_recorded_and_sigterm_stops_cleanly(
    site, tmp_path, start_scheduler
):
    db = tmp_path / "archive.db"
    site.control("channel", name="live", posts=30)
    live = f"{site.url}/s/live"
    broken = "http://127.0.0.1:2/s/broken"  # its profile is gone: its stored row is refused
    profile = tmp_path / "gone.toml"
    profile.write_text('name = "gone"\n')
    add(db, live, "--every", "1s", *FAST)
    add(db, DEAD, "--every", "1s", *FAST, "-s", "RETRY_TIMES=0")
    add(db, broken, "--every", "1s", "--profile", str(profile))
    profile.unlink()

    scheduler = start_scheduler(db)
    wait_for(
        lambda: len(crawls(db, live, "ok")) >= 3 and len(crawls(db, DEAD, "failed")) >= 2,
        "3 crawls of the live source, 2 failed ones of the dead source",
        scheduler,
    )
    site.control("add", name="live", count=2)  # new posts reach the archive on a later run
    wait_for(
        lambda: query(
            db, "SELECT 1 FROM crawls WHERE source = ? AND status = 'ok' AND posts_new = 2", [live]
        ),
        "a later run archiving the new posts",
        scheduler,
    )
    jobs_before = {k: schedule for k, (_when, *schedule) in planned(db).items()}
    assert scheduler.stop() == 0, scheduler.text()
    log = scheduler.text()

    assert query(db, "PRAGMA integrity_check") == [("ok",)]
    assert query(db, "SELECT COUNT(*) FROM crawls WHERE status = 'running'") == [(0,)]
    assert query(db, "SELECT COUNT(*) FROM posts") == [(32,)]
    assert {row[3] for row in crawls(db, live)} == {"scheduled"}
    reasons = [row[2] for row in crawls(db, DEAD, "failed")]
    stopped = "stopped: the scheduler was stopped"  # the run SIGTERM cut short, if any
    assert len([r for r in reasons if r != stopped]) >= 2
    assert all("connection refused" in r.lower() for r in reasons if r != stopped), reasons
    assert crawls(db, broken) == []  # listed, never crawled
    assert f"{broken}: not scheduled: its stored row is refused:" in log
    assert "locked" not in log
    # One log line per run: source, status, pages, new / changed / deleted, duration.
    run_lines = [line for line in log.splitlines() if f"{live}: ok, " in line]
    assert len(run_lines) >= 4
    assert any("2 new / 0 changed / 0 deleted" in line for line in run_lines)
    assert any(f"{DEAD}: failed, 0 pages" in line for line in log.splitlines())
    assert "received SIGTERM: stopping" in log

    # After a restart: the same jobs, none twice, nothing left behind.
    listed = json.loads(sources_cmd(db, "list", "--format", "json"))
    assert sorted(r["source"] for r in listed) == sorted([live, DEAD, broken])
    health = {r["source"]: r for r in listed}
    assert health[live]["last_success"] is not None
    assert health[DEAD]["last_success"] is None
    assert health[DEAD]["consecutive_failures"] >= 2
    assert "gone.toml" in health[broken]["problem"] and health[broken]["runs"] == 0
    done = once(db)
    assert done.returncode in (0, 1), done.stderr
    jobs_after = {k: schedule for k, (_when, *schedule) in planned(db).items()}
    assert jobs_after == jobs_before
    assert sorted(jobs_after) == sorted([live, DEAD, broken])
    assert not Path(f"{db}.scheduler.sqlite").exists()  # no job store beside it: no pickles
    assert query(db, "SELECT COUNT(*) FROM crawls WHERE status = 'running'") == [(0,)]


def test_overlapping_runs_are_skipped_and_a_slow_run_is_stopped_at_its_time_limit(
    site, tmp_path, start_scheduler
):
    db = tmp_path / "archive.db"
    site.control("channel", name="neighbour", posts=5)
    slow = f"{site.url}/delay?s=30"
    neighbour = f"{site.url}/s/neighbour"  # same host: it must wait for the slow crawl
    add(db, slow, "--every", "1s", "--time-limit", "3s", *FAST)
    add(db, neighbour, "--every", "1s", *FAST)

    scheduler = start_scheduler(db, "--stop-grace", "1s")
    wait_for(
        lambda: len(crawls(db, slow, "failed")) >= 1 and len(crawls(db, neighbour, "ok")) >= 1,
        "the slow crawl stopped and the neighbour crawled",
        scheduler,
    )
    assert scheduler.stop() == 0
    log = scheduler.text()

    _id, status, reason, *_ = crawls(db, slow, "failed")[0]
    assert reason == "timed out after 3 s"
    assert f"{slow}: skipped the run due at " in log
    assert "the last run is still going" in log
    # One batch per host at a time: the two sources shared the first batch (one process,
    # Scrapy keeping one request at a time to the host), and no later run of the neighbour
    # began before that batch was over, its slow source cut off at its limit.
    [first_slow_finished] = query(
        db, "SELECT finished_at FROM crawls WHERE source = ? ORDER BY id LIMIT 1", [slow]
    )[0]
    later = [row[4] for row in crawls(db, neighbour)[1:]]
    assert all(started >= first_slow_finished for started in later)
    assert "batch 1: 2 sources of 1 host" in log
    assert query(db, "PRAGMA integrity_check") == [("ok",)]


def test_missed_runs_after_a_restart_follow_the_misfire_policy(site, tmp_path):
    db = tmp_path / "archive.db"
    site.control("channel", name="hourly", posts=3)
    source = f"{site.url}/s/hourly"
    add(db, source, "--every", "1h", *FAST)

    first = once(db)
    assert first.returncode == 0, first.stderr
    assert len(crawls(db, source)) == 1  # a new source runs at once
    assert "nothing is due" in once(db).stderr  # and not again for an hour

    # The scheduler was down for 2.5 hours: three runs were missed. They are coalesced
    # into one run, made at restart (the default grace is one period).
    set_next_run(db, source, datetime.now(UTC) - timedelta(hours=2, minutes=30))
    caught_up = once(db)
    assert caught_up.returncode == 0, caught_up.stderr
    assert len(crawls(db, source, "ok")) == 2
    assert "missed the run" not in caught_up.stderr  # coalesced: the older two are not even misses
    assert next_run(db, source) > datetime.now(UTC)

    # With a shorter grace, a run that is too late is skipped and waits for its next time.
    set_next_run(db, source, datetime.now(UTC) - timedelta(hours=2, minutes=30))
    skipped = once(db, "--misfire-grace", "10m")
    assert skipped.returncode == 0, skipped.stderr
    assert "missed the run due at" in skipped.stderr
    assert len(crawls(db, source)) == 2
    assert datetime.now(UTC) < next_run(db, source) < datetime.now(UTC) + timedelta(hours=1)


def test_paused_sources_are_not_crawled_until_resumed(site, tmp_path):
    db = tmp_path / "archive.db"
    site.control("channel", name="sleepy", posts=3)
    source = f"{site.url}/s/sleepy"
    add(db, source, "--every", "1h", *FAST)
    sources_cmd(db, "pause", source)

    paused = once(db)
    assert paused.returncode == 0, paused.stderr
    assert crawls(db, source) == []
    assert next_run(db, source) is None
    assert "paused" in sources_cmd(db, "list").splitlines()[1]

    sources_cmd(db, "resume", source)
    resumed = once(db)
    assert resumed.returncode == 0, resumed.stderr
    assert [row[1] for row in crawls(db, source)] == ["ok"]
    assert f"{source}: ok, 1 pages, 3 new" in resumed.stderr


def test_a_second_scheduler_is_refused_and_the_first_follows_sources_changed_meanwhile(
    site, tmp_path, start_scheduler
):
    db = tmp_path / "archive.db"
    add(db, DEAD, "--every", "1d")
    sources_cmd(db, "pause", DEAD)
    first = start_scheduler(db)
    wait_for(
        lambda: lock_path(db).exists() and lock_path(db).read_text().startswith("pid"),
        "the lock taken",
        first,
    )
    second = once(db)
    assert second.returncode == 2
    assert f"another scheduler is already running on {os.path.abspath(db)}" in second.stderr
    assert f"pid {first.proc.pid} " in second.stderr

    # `sources add` / `remove` while it runs take effect without a restart.
    site.control("channel", name="late", posts=3)
    late = f"{site.url}/s/late"
    add(db, late, "--every", "1h", *FAST)
    wait_for(lambda: crawls(db, late, "ok"), "the source added meanwhile crawled", first)
    sources_cmd(db, "remove", late)
    wait_for(
        lambda: f"{late}: no longer scheduled (removed)" in first.text(), "its job removed", first
    )
    assert first.stop() == 0
    assert f"{late}: no longer scheduled (removed)" in first.text()
    assert once(db).returncode == 0  # released with the first scheduler


def test_a_host_that_answered_429_is_backed_off_for_every_job(site, tmp_path):
    db = tmp_path / "archive.db"
    site.control("channel", name="after", posts=3)
    limited = f"{site.url}/retry-after/k?n=9&after=12"  # outlasts two CLI starts under load
    add(db, limited, "--every", "1h", *FAST, "-s", "RETRY_TIMES=0")
    first = once(db)
    assert "HTTP 429" in crawls(db, limited)[0][2]
    [(host, reason)] = query(db, "SELECT host, reason FROM host_backoff")
    assert host == site.url.removeprefix("http://")
    assert reason == "HTTP 429, Retry-After"
    assert first.returncode == 1  # its only run failed

    other = f"{site.url}/s/after"  # another job, same host
    add(db, other, "--every", "1h", *FAST)
    second = once(db)
    assert second.returncode == 0, second.stderr
    assert f"{other}: {host} is backed off for " in second.stderr
    assert "(HTTP 429, Retry-After): waiting" in second.stderr
    assert [row[1] for row in crawls(db, other)] == ["ok"]


def test_an_adaptive_interval_is_chosen_after_a_run_and_recorded(site, tmp_path):
    db = tmp_path / "archive.db"
    site.control("channel", name="quiet", posts=4)  # its posts are from January 2026
    source = f"{site.url}/s/quiet"
    add(db, source, "--adaptive", "--min", "1m", "--max", "2h", *FAST)
    done = once(db)
    assert done.returncode == 0, done.stderr
    assert f"{source}: interval now every 2h (no posts in the last 30 days" in done.stderr
    [record] = json.loads(sources_cmd(db, "list", "--format", "json"))
    assert record["every_seconds"] == 7200
    assert record["interval_reason"].startswith("no posts in the last 30 days")
    assert record["interval_changed_at"] is not None
    # Its job follows the new interval: the next run is planned two hours from the change.
    assert (
        timedelta(hours=1, minutes=50)
        < next_run(db, source) - datetime.now(UTC)
        <= timedelta(hours=2)
    )
