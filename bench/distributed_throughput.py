"""How a distributed crawl scales with its workers, on loopback with 100 ms per page.

Several generated channels are served by one page server on 127.0.0.1 that
answers every channel page 100 ms late. Each row: a fresh archive and a
fresh Redis (a real redis-server), one ``chanarchive ingest``, N
``chanarchive worker`` processes; the clock starts once every worker has
said it is up, then ``chanarchive crawl URL... --redis`` queues every
channel and waits until every crawl is finished in the archive.

Two politeness scopes are measured:

- ``cluster`` (the default): one request at a time per host across all
  workers. All channels are on one host here (as every Telegram channel is
  on t.me), so more workers must not mean more speed: that is the point.
- ``worker`` (``-s POLITENESS_SCOPE=worker``, the opt-in for workers on
  different addresses): each worker is polite on its own, one request at a
  time per host, so the host sees one request per worker at a time.

Writes docs/benchmarks/distributed_throughput.md.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402

from bench._machine import describe_machine  # noqa: E402
from chanarchive.demo.site import SiteServer  # noqa: E402
from tests.redis_server import RedisServer  # noqa: E402
from tests.server import generated_channel  # noqa: E402

CHANNELS = int(os.environ.get("BENCH_CHANNELS", "8"))
POSTS = int(os.environ.get("BENCH_POSTS", "300"))  # per channel: 15 pages of 20
LATENCY = 0.1
WORKERS = (1, 2, 4)


class SlowSite(SiteServer):
    """The sample site, each channel page answered ``LATENCY`` seconds late.

    It counts the channel requests it is serving at once: ``busiest`` is the
    most since :meth:`reset`, what the host saw of the crawl's politeness.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.serving = self.busiest = 0

    def reset(self) -> None:
        with self.lock:
            self.busiest = 0

    def _channel_route(self, request):
        with self.lock:
            self.serving += 1
            self.busiest = max(self.busiest, self.serving)
        try:
            time.sleep(LATENCY)
            return super()._channel_route(request)
        finally:
            with self.lock:
                self.serving -= 1


def cli(db: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "chanarchive", "--db", str(db), *args]


def run_row(site: SlowSite, workers: int, scope: str, tmp: Path) -> tuple[float, int, str]:
    """(seconds, pages, summary) of one distributed crawl of every channel."""
    server = RedisServer()
    db = tmp / f"{scope}-{workers}.db"
    procs: list[subprocess.Popen] = []
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    try:
        procs.append(subprocess.Popen(cli(db, "ingest", "--redis", server.url), **quiet))
        settings = ["-s", "DOWNLOAD_DELAY=0", "-s", f"POLITENESS_SCOPE={scope}"]
        for _ in range(workers):
            procs.append(
                subprocess.Popen(cli(db, "worker", "--redis", server.url, *settings), **quiet)
            )
        client = redis.Redis.from_url(server.url)
        while client.zcard("chanarchive:workers") < workers:  # every worker is up
            time.sleep(0.05)
        urls = [f"{site.url}/s/ch{i}" for i in range(CHANNELS)]
        site.reset()
        started = time.perf_counter()
        done = subprocess.run(
            cli(db, "crawl", *urls, "--redis", server.url, "--media", "none"),
            capture_output=True,
            text=True,
        )
        elapsed = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(done.stdout + done.stderr)
        summary = done.stdout.strip().splitlines()[-1]
        pages = int(summary.split()[1])
        return elapsed, pages, summary
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        server.stop()


def run_local(site: SlowSite, tmp: Path) -> tuple[float, int, str]:
    db = tmp / "local.db"
    urls = [f"{site.url}/s/ch{i}" for i in range(CHANNELS)]
    site.reset()
    started = time.perf_counter()
    done = subprocess.run(
        cli(db, "crawl", *urls, "-s", "DOWNLOAD_DELAY=0", "--media", "none"),
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    summary = done.stdout.strip().splitlines()[-1]
    return elapsed, int(summary.split()[1]), summary


def main() -> None:
    channels = {f"ch{i}": generated_channel(f"ch{i}", POSTS) for i in range(CHANNELS)}
    rows = []
    with tempfile.TemporaryDirectory() as tmp, SlowSite(channels, page_size=20) as site:
        seconds, pages, _ = run_local(site, Path(tmp))
        rows.append(
            ("local `chanarchive crawl` (for comparison)", "—", seconds, pages, site.busiest)
        )
        for scope in ("cluster", "worker"):
            for n in WORKERS:
                seconds, pages, summary = run_row(site, n, scope, Path(tmp))
                print(f"{scope} {n}: {pages} pages in {seconds:.1f}s ({summary})", flush=True)
                rows.append((f"`POLITENESS_SCOPE={scope}`", str(n), seconds, pages, site.busiest))

    base = {scope: None for scope in ("cluster", "worker")}
    lines = [
        "## Distributed crawl: pages/s with 1, 2 and 4 workers",
        "",
        f"Machine: {describe_machine()}. Date: {datetime.now(UTC):%Y-%m-%d}. "
        f"`python bench/distributed_throughput.py` (`BENCH_CHANNELS`, `BENCH_POSTS` to change "
        "the size).",
        "",
        f"{CHANNELS} generated channels of {POSTS} posts (pages of 20) on one loopback page "
        f"server that answers every page {LATENCY * 1000:.0f} ms late; one real redis-server, "
        "one `chanarchive ingest`, N `chanarchive worker` processes on this machine, "
        "`-s DOWNLOAD_DELAY=0`. Timed from when every worker is up to when "
        "`chanarchive crawl URL... --redis` returns: every crawl finished in the archive. "
        "The local row includes its process start (about a second).",
        "",
        "| run | workers | pages | seconds | pages/s | × 1 worker | most requests at the host at once |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for label, workers, seconds, pages, busiest in rows:
        rate = pages / seconds
        ratio = ""
        for scope in base:
            if scope in label:
                base[scope] = base[scope] or rate
                ratio = f"{rate / base[scope]:.2f}"
        lines.append(
            f"| {label} | {workers} | {pages} | {seconds:.1f} | {rate:.1f} | {ratio} | {busiest} |"
        )
    load = os.getloadavg()[0]
    lines += [
        "",
        f"Load average at the end: {load:.1f} on {os.cpu_count()} cores (the machine is shared).",
        "",
        "All channels are on one host (127.0.0.1), as every Telegram channel is on t.me. In "
        "the default `cluster` scope the workers take turns at the host: it never sees more "
        "than one request at a time, so more workers add no load on it, and no speed. With "
        "`POLITENESS_SCOPE=worker` (for workers on different addresses, each with its own "
        "limit) each worker keeps its own turn: the host sees one request per worker, and "
        "throughput grows with the workers until the cores are the limit; here two shared "
        "cores also run the page server, Redis, the ingester and other work. A channel's "
        "pages are fetched one after the other (the next `?before=` is known only once a page "
        "is parsed), so it takes several channels for workers to run side by side.",
        "",
        "The local row is not one request at a time: with `DOWNLOAD_DELAY=0`, Scrapy 2.19's "
        "downloader starts every request queued in a slot at once (its one-by-one release "
        "only applies when there is a delay). With the default delay a local crawl sends one "
        "at a time; a worker leases no new request while one of its own waits for a slot, "
        "so it never queues several.",
    ]
    out = ROOT / "docs" / "benchmarks" / "distributed_throughput.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
