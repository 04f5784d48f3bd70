"""Running the real command line in a subprocess, as users do.

A Scrapy crawl can run once per process (its reactor cannot restart), so
tests run ``chanarchive crawl`` as a subprocess.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "BACKOFF_BASE=0.05", "-s", "TELEGRAM_THROTTLE_DELAY=0.05"]


def made_archive(db: Path) -> Path:
    """An empty archive made beforehand, as a scheduled archive has one: a crawl that archives
    nothing keeps its failed row there (a new file it archived nothing into is removed)."""
    from archive.store import open_archive

    open_archive(db).close()
    return db


def cli_argv(db: Path, *args: str) -> list[str]:
    """The command line of ``chanarchive --db DB ARGS`` in this interpreter."""
    return [sys.executable, "-m", "chanarchive", "--db", str(db), *args]


def run_cli(
    db: Path, *args: str, timeout: float = 120, env: dict | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        cli_argv(db, *args),
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def crawl(db: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """``chanarchive crawl ARGS`` with the politeness delays off (loopback only)."""
    return run_cli(db, "crawl", *args, *FAST, timeout=timeout)


def export(db: Path, *args: str) -> list[dict]:
    done = run_cli(db, "export", "--format", "jsonl", *args)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def query(db: Path, sql: str, params=()) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def channel_requests(site, name: str) -> list[str]:
    """The channel-page paths the site served, in order."""
    return [path for _method, path, _status in site.stats() if path.startswith(f"/s/{name}")]
