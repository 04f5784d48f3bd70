"""Stored configuration is data, never code: sources files, a shared archive's table, side files.

Sources files and the ``sources`` table carry only the named crawl options,
checked, with at most a short list of politeness settings; nothing found
beside an archive is unpickled, imported or used as a path; ``-s`` takes
only settings chanarchive knows, with sane values.
"""

from __future__ import annotations

import json
import pickle
import sqlite3
import subprocess
import sys

import pytest

from tests.crawling import FAST, query, run_cli
from tests.helpers import add_source, digest, listed

pytestmark = pytest.mark.slow


def refused(done: subprocess.CompletedProcess, *words: str) -> None:
    """Exit 2, one line on stderr, no traceback."""
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), done.stderr
    for word in words:
        assert word in lines[0], lines[0]


#: Settings that would run code, write where a value says, or listen: never kept, never set.
HOSTILE_SETTINGS = [
    "FEEDS={}",
    "LOG_FILE=/tmp/chanarchive-pwned.log",
    "CHANARCHIVE_DB=/tmp/elsewhere.db",
    "TELNETCONSOLE_ENABLED=1",
    "TELNETCONSOLE_PORT=[6023]",
    "TWISTED_REACTOR=nope",
    "DOWNLOAD_HANDLERS={}",
    "ITEM_PIPELINES={}",
    "SPIDER_MIDDLEWARES={}",
    "EXTENSIONS={}",
    "JOBDIR=/tmp/chanarchive-jobs",
    "HTTPCACHE_DIR=/tmp/cache",
    "DNS_RESOLVER=os.system",
    "STATS_CLASS=os.system",
]


@pytest.mark.parametrize("setting", HOSTILE_SETTINGS)
def test_a_sources_file_sets_no_setting_that_runs_code_or_chooses_a_path(tmp_path, setting):
    db = tmp_path / "archive.db"
    add_source(db, "@kept_ch", "--every", "1h")
    before = digest(db)
    sheet = tmp_path / "sources.csv"
    sheet.write_text(
        f"source,every,settings\n@fine_ch,1h,DOWNLOAD_DELAY=2\n@evil_ch,1h,{setting}\n"
    )
    done = run_cli(db, "sources", "import", str(sheet))
    refused(done, "sources.csv line 3:", setting.split("=")[0])
    assert digest(db) == before
    opml = tmp_path / "feeds.opml"
    opml.write_text(
        '<opml version="2.0"><body>'
        f'<outline text="x" htmlUrl="https://t.me/evil_ch" settings="{setting}"/>'
        "</body></opml>"
    )
    refused(run_cli(db, "sources", "import", str(opml)), setting.split("=")[0])
    assert digest(db) == before


@pytest.mark.parametrize(
    "setting",
    [
        *HOSTILE_SETTINGS,
        "LOG_LEVEL=NOPE",
        "DOWNLOAD_DELAY=1e308",
        "DOWNLOAD_DELAY=nan",
        "DOWNLOAD_TIMEOUT=0",
        "CONCURRENT_REQUESTS=100000",
        "RETRY_HTTP_CODES=[700]",
        'DOWNLOAD_SLOTS={"t.me": {"delay": 1e308}}',
        "NO_SUCH_SETTING=1",
        "lower_case=1",
    ],
)
def test_crawl_refuses_a_setting_scrapy_would_choke_on(tmp_path, setting):
    db = tmp_path / "archive.db"
    refused(run_cli(db, "crawl", "http://127.0.0.1:9/", "-s", setting), setting.split("=")[0])
    assert not db.exists()


def test_only_politeness_settings_are_kept_with_a_scheduled_source(tmp_path):
    db = tmp_path / "archive.db"
    refused(
        run_cli(db, "sources", "add", "@x_channel", "--every", "1h", "-s", "LOG_LEVEL=DEBUG"),
        "LOG_LEVEL is not kept with a scheduled source",
    )
    assert not db.exists()
    add_source(db, "@x_channel", "--every", "1h", "-s", "DOWNLOAD_DELAY=2.5", "-s",
               'DOWNLOAD_SLOTS={"t.me": {"concurrency": 1, "delay": 3}}')  # fmt: skip
    assert listed(db)["@x_channel"]["crawl_options"]["settings"] == {
        "DOWNLOAD_DELAY": "2.5",
        "DOWNLOAD_SLOTS": '{"t.me": {"concurrency": 1, "delay": 3}}',
    }


def test_a_fractional_timeout_is_taken(site, tmp_path):
    db = tmp_path / "archive.db"
    site.control("channel", name="quick", posts=3)
    done = run_cli(db, "crawl", f"{site.url}/s/quick", *FAST, "-s", "DOWNLOAD_TIMEOUT=0.5")
    assert done.returncode == 0, done.stderr
    assert query(db, "SELECT status FROM crawls") == [("ok",)]


def plant(db, key: str, **columns) -> None:
    """A row written into a shared archive's ``sources`` table by someone else."""
    row = {
        "key": key, "kind": "telegram", "url": f"https://t.me/s/{key[1:]}", "host": "t.me",
        "every_seconds": 3600, "cron": None, "jitter": 0, "adaptive": 0, "paused": 0,
        "options": "{}", "created_at": "2026-12-01T00:00:00.000000+00:00",
        "updated_at": "2026-12-01T00:00:00.000000+00:00", **columns,
    }  # fmt: skip
    conn = sqlite3.connect(db)
    with conn:
        conn.execute(
            f"INSERT INTO sources ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
            list(row.values()),
        )
    conn.close()


def test_a_shared_archive_s_planted_sources_are_listed_refused_and_never_run(site, tmp_path):
    db = tmp_path / "archive.db"
    site.control("channel", name="honest", posts=3)
    honest = f"{site.url}/s/honest"
    add_source(db, honest, "--every", "1h", *FAST)
    log_file = tmp_path / "pwned.log"
    planted = {
        "@log_ch": {"options": json.dumps({"settings": {"LOG_FILE": str(log_file)}})},
        "@feeds_ch": {"options": json.dumps({"settings": {"FEEDS": {str(log_file): {}}}})},
        "@telnet_ch": {"options": json.dumps({"settings": {"TELNETCONSOLE_ENABLED": "1"}})},
        "@profile_ch": {"options": json.dumps({"profile": "/etc/passwd"})},
        "@typed_ch": {"options": json.dumps({"max_pages": "all"})},
        "@never_ch": {"every_seconds": -5},
        "@cron_ch": {"every_seconds": None, "cron": "$(touch /tmp/x)"},
        "@Mixed_Case": {},
        "@url_ch": {"url": "http://127.0.0.1:1/elsewhere"},  # the URL comes from the key
    }
    for key, columns in planted.items():
        plant(db, key, **columns)
    records = listed(db)
    refused_keys = sorted(k for k, r in records.items() if r["problem"])
    assert refused_keys == sorted(set(planted) - {"@url_ch"})
    for key in refused_keys:
        assert records[key]["problem"].startswith("its stored row is refused: "), key
    assert records["@url_ch"]["problem"] is None
    done = run_cli(db, "scheduler", "run", "--once")
    assert done.returncode in (0, 1), done.stderr
    assert "Traceback" not in done.stderr
    ran = {row[0] for row in query(db, "SELECT source FROM crawls")}
    assert honest in ran and not ran & (set(planted) - {"@url_ch"})
    assert not log_file.exists()
    for key in refused_keys:
        assert f"{key}: not scheduled: its stored row is refused" in done.stderr


class _Planted:
    """Unpickling this writes a marker file: proof that a pickle was loaded."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_pickle_planted_beside_the_archive_is_never_loaded(site, tmp_path):
    db = tmp_path / "archive.db"
    site.control("channel", name="plain", posts=2)
    add_source(db, f"{site.url}/s/plain", "--every", "1h", *FAST)
    marker = tmp_path / "unpickled"
    side = sqlite3.connect(f"{db}.scheduler.sqlite")  # an older chanarchive's job store
    with side:
        side.execute(
            "CREATE TABLE apscheduler_jobs (id VARCHAR(191) PRIMARY KEY,"
            " next_run_time FLOAT, job_state BLOB NOT NULL)"
        )
        side.execute(
            "INSERT INTO apscheduler_jobs VALUES (?, ?, ?)",
            [f"source:{site.url}/s/plain", 0.0, pickle.dumps(_Planted(str(marker)))],
        )
    side.close()
    before = digest(tmp_path / "archive.db.scheduler.sqlite")
    done = run_cli(db, "scheduler", "run", "--once")
    assert done.returncode == 0, done.stderr
    assert not marker.exists()
    assert digest(tmp_path / "archive.db.scheduler.sqlite") == before  # not even opened
    assert "is not used" in done.stderr
    assert [row[0] for row in query(db, "SELECT status FROM crawls")] == ["ok"]


def test_no_module_of_the_job_store_that_pickles_is_imported_by_the_scheduler(tmp_path):
    code = (
        "import sys, scheduler.service.service, scheduler.service.jobs;"
        "print('apscheduler.jobstores.sqlalchemy' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "False", done.stderr


def test_a_crawl_opens_no_console_and_no_remote_control(site, tmp_path):
    """Scrapy's telnet console and its remote control (which runs code sent to it) stay off,
    locally and on a worker: no port opened, no token written under the home folder."""
    import os

    from crawler.distributed.worker.process import worker_settings
    from crawler.local import crawl_settings
    from crawler.options import CrawlOptions

    for settings in (
        crawl_settings(str(tmp_path / "a.db"), CrawlOptions()),
        worker_settings("redis://127.0.0.1:1/0"),
    ):
        extensions = settings.getwithbase("EXTENSIONS")
        assert extensions["scrapy.extensions.telnet.TelnetConsole"] is None
        assert extensions["scrapy.extensions.remote_control.RemoteControl"] is None
        assert not settings.getbool("TELNETCONSOLE_ENABLED")
        assert not settings.getbool("REMOTE_CONTROL_ENABLED")
    site.control("channel", name="closed", posts=2)
    home = tmp_path / "home"
    home.mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "chanarchive", "--db", str(tmp_path / "archive.db"), "crawl",
         f"{site.url}/s/closed", *FAST],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "HOME": str(home), "XDG_STATE_HOME": str(home / "state")},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert list(home.rglob("*")) == []  # no remote-control job file, no state of any kind
