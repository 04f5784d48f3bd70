"""A distributed crawl on loopback for the tests: workers and an ingester as real CLI processes."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path

import redis

from tests.crawling import cli_argv

#: Worker settings for loopback: no politeness delay, short backoffs, quick lease expiry.
WORKER_FAST = [
    "-s", "DOWNLOAD_DELAY=0", "-s", "BACKOFF_BASE=0.05", "-s", "TELEGRAM_THROTTLE_DELAY=0.05",
    "-s", "WORKER_LEASE_TTL=2", "-s", "WORKER_POLL_INTERVAL=0.2",
]  # fmt: skip


class Cluster:
    """One archive, one Redis: start workers and ingesters, stop them all at the end."""

    def __init__(self, db: Path, redis_url: str) -> None:
        self.db = db
        self.redis_url = redis_url
        self.redis = redis.Redis.from_url(redis_url)
        self.procs: list[tuple[subprocess.Popen, object]] = []

    def _start(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
        log = tempfile.TemporaryFile()
        proc = subprocess.Popen(
            cli_argv(self.db, *args),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        )
        self.procs.append((proc, log))
        return proc

    def worker(
        self, *settings: str, env: dict[str, str] | None = None, private: bool = True
    ) -> subprocess.Popen:
        """A worker; ``private``: allowed to reach the tests' loopback servers (its operator's
        --allow-private-hosts), as every test site here is one."""
        opt_in = ["--allow-private-hosts"] if private else []
        return self._start(
            "worker", "--redis", self.redis_url, *WORKER_FAST, *opt_in, *settings, env=env
        )

    def ingester(self) -> subprocess.Popen:
        return self._start("ingest", "--redis", self.redis_url, "-v")

    def crawl(self, *args: str) -> subprocess.Popen:
        """``crawl --redis`` in the background (its output: :meth:`output`)."""
        return self._start("crawl", *args, "--redis", self.redis_url)

    def output(self, proc: subprocess.Popen) -> str:
        for started, log in self.procs:
            if started is proc:
                log.seek(0)
                return log.read().decode("utf-8", "replace")
        raise KeyError(proc)

    def worker_leases(self, proc: subprocess.Popen) -> int:
        """How many requests worker ``proc`` holds right now."""
        total = 0
        for key in self.redis.scan_iter("chanarchive:inflight:*"):
            if f":{proc.pid}:" in key.decode():
                total += self.redis.hlen(key)
        return total

    def pages_written(self) -> int:
        if not self.db.exists():
            return 0
        conn = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True)
        try:
            return conn.execute("SELECT COALESCE(SUM(pages), 0) FROM crawls").fetchone()[0]
        except sqlite3.OperationalError:
            return 0
        finally:
            conn.close()

    def wait_for_pages(self, n: int, proc: subprocess.Popen, timeout: float = 120) -> None:
        """Until the archive holds ``n`` pages (``proc`` must keep running meanwhile)."""
        deadline = time.monotonic() + timeout
        while self.pages_written() < n:
            assert proc.poll() is None, self.output(proc)
            assert time.monotonic() < deadline, "the crawl made no progress"
            time.sleep(0.05)

    def kill_busy_worker(self, workers: list[subprocess.Popen], timeout: float = 60) -> None:
        """SIGKILL a worker while it holds a lease: frozen first, so it cannot hand it back."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for proc in workers:
                proc.send_signal(signal.SIGSTOP)
                if self.worker_leases(proc):
                    proc.kill()
                    proc.wait()
                    return
                proc.send_signal(signal.SIGCONT)
            time.sleep(0.01)
        raise AssertionError("no worker ever held a lease")

    def finish(self, proc: subprocess.Popen, timeout: float = 180) -> str:
        """Wait for ``proc`` (a crawl) and return its output; it must succeed."""
        proc.wait(timeout=timeout)
        out = self.output(proc)
        assert proc.returncode == 0, out
        return out

    def stop(self) -> None:
        for proc, _log in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGCONT)
                proc.terminate()
        for proc, log in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()
        self.redis.close()
