"""`chanarchive sources ...`: schedules validated, stored once per source, listed with health."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from archive.store import begin_crawl, finish_crawl, open_archive
from chanarchive.cli import cli
from scheduler.service.lock import SchedulerBusy, SchedulerLock
from scheduler.sources.schedules import (
    BadSchedule,
    Schedule,
    format_duration,
    make_trigger,
    parse_duration,
    parse_schedule,
)
from tests.helpers import digest


def run(db: Path, *args: str):
    return CliRunner().invoke(cli, ["--db", str(db), *args], catch_exceptions=False)


def rows(db: Path, sql: str) -> list[tuple]:
    archive = open_archive(db, create=False)
    try:
        return archive.execute(sql).fetchall()
    finally:
        archive.close()


@pytest.mark.parametrize(
    "text, seconds",
    [("45s", 45), ("30m", 1800), ("2h", 7200), ("1d", 86400), ("1h30m", 5400), ("90", 90),
     ("1w", 604800)],
)  # fmt: skip
def test_durations(text, seconds):
    assert parse_duration(text) == seconds
    assert parse_duration(format_duration(seconds)) == seconds


@pytest.mark.parametrize(
    "args, message",
    [
        (["--every", "0s"], "at least 1s"),
        (["--every", "5q"], "bad interval '5q'"),
        (["--every", "400d"], "the longest is 366d"),
        (["--cron", "61 * * * *"], "bad cron expression '61 * * * *'"),
        (["--cron", "* * * *"], "expected 5 fields"),
        (["--cron", "0 3 * * 8"], "bad day of week '8'"),
        (["--cron", "0 0 31 2 *"], "never fires"),
        (["--every", "1h", "--cron", "* * * * *"], "exactly one of --every"),
        ([], "exactly one of --every"),
        (["--every", "1m", "--jitter", "2m"], "must be shorter than the period"),
        (["--every", "1m", "--jitter", "soon"], "bad jitter 'soon'"),
        (["--adaptive", "--cron", "0 * * * *"], "--adaptive needs an interval"),
        (["--every", "1h", "--min", "5m"], "add --adaptive"),
        (["--adaptive", "--min", "2h", "--max", "1h"], "--min 2h is longer than --max 1h"),
        (["--every", "1h", "--time-limit", "0"], "--time-limit must be at least 1s"),
    ],
)
def test_bad_schedule_exits_2_and_writes_nothing(tmp_path, args, message):
    fresh = tmp_path / "new.db"
    result = run(fresh, "sources", "add", "@durov", *args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert not fresh.exists()

    existing = tmp_path / "archive.db"
    assert run(existing, "sources", "add", "@telegram", "--every", "1h").exit_code == 0
    before = digest(existing)
    assert run(existing, "sources", "add", "@durov", *args).exit_code == 2
    assert digest(existing) == before
    assert rows(existing, "SELECT key FROM sources") == [("@telegram",)]


def test_bad_source_exits_2(tmp_path):
    result = run(tmp_path / "a.db", "sources", "add", "durov", "--every", "1h")
    assert result.exit_code == 2
    assert "unknown source 'durov'" in result.output
    assert not (tmp_path / "a.db").exists()


def test_adding_again_updates_never_duplicates(tmp_path):
    db = tmp_path / "archive.db"
    first = run(db, "sources", "add", "t.me/Durov_News", "--every", "30m", "--jitter", "60")
    assert first.exit_code == 0
    assert first.output == "scheduled @durov_news: every 30m ±1m\n"
    created = rows(db, "SELECT created_at FROM sources")[0][0]
    second = run(db, "sources", "add", "https://t.me/s/durov_news", "--cron", "0 */6 * * *")
    assert second.output == "updated @durov_news: cron '0 */6 * * *'\n"
    assert rows(db, "SELECT key, every_seconds, cron, jitter, created_at FROM sources") == [
        ("@durov_news", None, "0 */6 * * *", 0, created)
    ]


def test_pause_resume_remove_and_unknown_sources(tmp_path):
    db = tmp_path / "archive.db"
    run(db, "sources", "add", "@durov", "--every", "2h")
    run(db, "sources", "add", "http://127.0.0.1:9/feed", "--every", "45s", "-s", "DOWNLOAD_DELAY=0")
    assert run(db, "sources", "pause", "t.me/durov").output == "paused @durov\n"
    listed = {
        r["source"]: r for r in json.loads(run(db, "sources", "list", "--format", "json").output)
    }
    assert listed["@durov"]["paused"] is True
    assert listed["@durov"]["next_run"] is None
    assert listed["http://127.0.0.1:9/feed"]["paused"] is False
    assert listed["http://127.0.0.1:9/feed"]["crawl_options"]["settings"] == {"DOWNLOAD_DELAY": "0"}
    assert listed["http://127.0.0.1:9/feed"]["host"] == "127.0.0.1:9"

    table = run(db, "sources", "list").output.splitlines()
    assert table[0].split() == ["SOURCE", "SCHEDULE", "NEXT", "RUN", "LAST", "RUN", "STATUS",
                                "LAST", "SUCCESS", "FAILS", "STATE"]  # fmt: skip
    durov = next(line for line in table if line.startswith("@durov"))
    assert durov.split()[-1] == "paused"

    # A paused source that is re-added keeps being paused: nothing is silently resumed.
    assert run(db, "sources", "add", "@durov", "--every", "3h").output == (
        "updated @durov: every 3h (paused)\n"
    )
    assert run(db, "sources", "resume", "@durov").output == "resumed @durov: every 3h\n"
    assert rows(db, "SELECT paused FROM sources WHERE key = '@durov'") == [(0,)]

    assert run(db, "sources", "remove", "@durov").exit_code == 0
    assert rows(db, "SELECT key FROM sources") == [("http://127.0.0.1:9/feed",)]
    for command in ("remove", "pause", "resume"):
        result = run(db, "sources", command, "@durov")
        assert result.exit_code == 2
        assert "no scheduled source @durov" in result.output


def test_list_shows_last_run_last_success_and_consecutive_failures(tmp_path):
    db = tmp_path / "archive.db"
    run(db, "sources", "add", "@durov", "--every", "1h")
    archive = open_archive(db)
    for status in ("ok", "failed", "partial", "failed", "failed"):
        crawl_id = begin_crawl(archive, "@durov", trigger="scheduled")
        finish_crawl(archive, crawl_id, status=status, reason=f"it was {status}")
    archive.close()
    [record] = json.loads(run(db, "sources", "list", "--format", "json").output)
    assert record["runs"] == 5
    assert record["last_status"] == "failed"
    assert record["last_reason"] == "it was failed"
    assert record["consecutive_failures"] == 2
    assert record["last_success"] is not None
    table = run(db, "sources", "list").output
    assert "@durov failed: it was failed" in table
    assert table.splitlines()[1].split()[-2:] == ["2", "active"]


def test_list_on_a_missing_archive_is_a_clear_error(tmp_path):
    result = run(tmp_path / "none.db", "sources", "list")
    assert result.exit_code == 2
    assert "no archive at" in result.output


def test_cron_weekdays_are_read_as_crontab_reads_them():
    """Crontab's 0 is Sunday; APScheduler 3 alone would take it as Monday."""
    trigger = make_trigger(Schedule(cron="30 4 * * 0"))
    start = datetime(2026, 11, 25, tzinfo=UTC)  # a Wednesday
    fire = trigger.get_next_fire_time(None, start.astimezone(trigger.timezone))
    assert fire.strftime("%A %H:%M") == "Sunday 04:30"
    weekdays = make_trigger(Schedule(cron="0 9 * * 1-5"))
    fires, when = [], start
    for _ in range(7):
        when = weekdays.get_next_fire_time(None, when + timedelta(minutes=1))
        fires.append(when.strftime("%a"))
    assert fires == ["Wed", "Thu", "Fri", "Mon", "Tue", "Wed", "Thu"]
    assert str(make_trigger(Schedule(cron="0 3 * * 5-7"))).count("sun,fri,sat") == 1


def test_schedules_compare_by_what_they_mean():
    assert parse_schedule("90m", None) == parse_schedule("1h30m", None)
    with pytest.raises(BadSchedule):
        parse_schedule(None, "not a cron")


def test_a_second_scheduler_lock_names_the_holder(tmp_path):
    db = tmp_path / "archive.db"
    with SchedulerLock(db):
        with pytest.raises(SchedulerBusy, match=r"already running on .*archive\.db \(pid \d+"):
            SchedulerLock(db).acquire()
    with SchedulerLock(db):  # released: it can be taken again
        pass


def test_profile_is_kept_for_every_run_and_an_unknown_one_refused(tmp_path):
    from click.testing import CliRunner

    from archive.store import open_archive
    from chanarchive.cli import cli
    from scheduler.sources.scheduled import get_source

    db = tmp_path / "archive.db"
    runner = CliRunner()
    bad = runner.invoke(cli, ["--db", str(db), "sources", "add", "https://mirror.example/c",
                              "--every", "1h", "--profile", "no_such_profile"])  # fmt: skip
    assert bad.exit_code == 2 and not db.exists()
    good = runner.invoke(cli, ["--db", str(db), "sources", "add", "https://mirror.example/c",
                               "--every", "1h", "--profile", "example"])  # fmt: skip
    assert good.exit_code == 0, good.output
    archive = open_archive(db)
    source = get_source(archive, "https://mirror.example/c")
    assert source.crawl.arguments() == ["--profile", "example"]


def test_capture_options_are_kept_for_every_run_and_bad_ones_refused(tmp_path):
    from click.testing import CliRunner

    from archive.store import open_archive
    from chanarchive.cli import cli
    from scheduler.sources.scheduled import get_source

    db = tmp_path / "archive.db"
    runner = CliRunner()
    for bad, message in [
        (["--media", "videos"], "Invalid value for '--media'"),
        (["--media-max-size", "huge"], "not a size: 'huge'"),
        (["--media-max-size", "0"], "must be at least one byte"),
        (["--deletion-checks", "-1"], "Invalid value for '--deletion-checks'"),
    ]:
        result = runner.invoke(cli, ["--db", str(db), "sources", "add", "@pics_ch",
                                     "--every", "1h", *bad])  # fmt: skip
        assert result.exit_code == 2 and message in result.output, result.output
        assert not db.exists()
    plain = runner.invoke(cli, ["--db", str(db), "sources", "add", "@plain_ch", "--every", "1h"])
    assert plain.exit_code == 0, plain.output
    good = runner.invoke(cli, ["--db", str(db), "sources", "add", "@pics_ch", "--every", "1h",
                               "--media", "all", "--media-max-size", "50M",
                               "--deletion-checks", "0"])  # fmt: skip
    assert good.exit_code == 0, good.output
    archive = open_archive(db)
    assert get_source(archive, "@plain_ch").crawl.arguments() == []  # the crawl's defaults
    assert get_source(archive, "@pics_ch").crawl.arguments() == [
        "--media", "all", "--media-max-size", str(50 * 1024**2), "--deletion-checks", "0",
    ]  # fmt: skip
