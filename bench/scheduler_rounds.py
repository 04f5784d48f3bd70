"""What a scheduled round costs against one ``crawl`` of the same sources, side by side.

For N one-page channels (10, 100, 1,000) on one loopback host, and again on
ten hosts (servers on 127.0.0.1 … 127.0.0.10: different addresses, so Scrapy
keeps a politeness slot for each, as it would for ten sites):

- **round**: ``sources import`` the N sources into archive A (``--every
  1h``, ``-s DOWNLOAD_DELAY=0`` as every loopback benchmark), then time
  ``chanarchive scheduler run --once``, end to end (process start, job
  store, batches, every row closed, exit);
- **crawl**: time ``chanarchive crawl SOURCE... -s DOWNLOAD_DELAY=0`` of the
  same N sources into archive B, in one process.

Each is made twice, alternating: the first round creates the scheduler's
jobs and archives every post (the first crawl likewise); for the second, the
jobs are made due again in the job store and both walk unchanged channels.
Every run must end with N ``ok`` crawl rows. Peak RSS: the largest single
process (``ru_maxrss`` from ``os.wait4``, which covers the waited-for crawl
processes) and the whole process tree (sampled from ``/proc`` every 50 ms).

Then ``sources list`` at 10,000 sources (imported from a file, a tenth of
them with a failed run): a page, a state filter, the whole table.

``BENCH_ROUND_SIZES=10,100`` to change the sizes. Writes
docs/benchmarks/scheduler_rounds.md.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from archive.store import begin_crawl, finish_crawl, open_archive  # noqa: E402
from archive.times import to_stamp  # noqa: E402
from bench._machine import describe_machine  # noqa: E402
from chanarchive.demo.site import SampleChannel, SamplePost, SiteServer  # noqa: E402
from scheduler.service.jobs import make_jobstore  # noqa: E402

RESULT = ROOT / "docs" / "benchmarks" / "scheduler_rounds.md"
SIZES = [int(n) for n in os.environ.get("BENCH_ROUND_SIZES", "10,100,1000").split(",")]
POSTS = 5  # per channel: one page each
LOOPBACK = "-s DOWNLOAD_DELAY=0".split()
LIST_SOURCES = 10_000


def channel(name: str) -> SampleChannel:
    posts = [
        SamplePost(
            id=i,
            date=f"2026-11-{1 + i:02d}T08:00:00+00:00",
            text=f"{name} 第{i}条：今日地铁延长运营。 Post {i} of {name}.",
            views=100 + i,
        )
        for i in range(1, POSTS + 1)
    ]
    return SampleChannel(name=name, title=name, description="bench", subscribers=1, posts=posts)


def cli(db: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "chanarchive", "--db", str(db), *args]


class TreeMemory:
    """Samples the summed RSS of a process and all its descendants (crawl processes included)."""

    def __init__(self, pid: int, every: float = 0.05) -> None:
        self.pid, self.every, self.peak = pid, every, 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        page = os.sysconf("SC_PAGE_SIZE")
        while not self._done.wait(self.every):
            parents, rss = {}, {}
            for entry in os.listdir("/proc"):
                if not entry.isdigit():
                    continue
                try:
                    fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                parents[int(entry)] = int(fields[1])
                rss[int(entry)] = int(fields[21]) * page
            tree, grew = {self.pid}, True
            while grew:
                more = {p for p, parent in parents.items() if parent in tree and p not in tree}
                tree |= more
                grew = bool(more)
            self.peak = max(self.peak, sum(rss.get(p, 0) for p in tree))

    def stop(self) -> int:
        self._done.set()
        self._thread.join()
        return self.peak


def timed(command: list[str]) -> dict:
    """Run ``command``; its wall time, status, peak RSS (largest process, whole tree), output."""
    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        tree = TreeMemory(proc.pid)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        peak_tree = tree.stop()
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
    return {
        "seconds": seconds,
        "status": os.waitstatus_to_exitcode(status),
        "largest_mb": usage.ru_maxrss / 1024,
        "tree_mb": peak_tree / 1024 / 1024,
        "cpu": usage.ru_utime + usage.ru_stime,
        "output": text,
    }


def ok_rows(db: Path, after: int) -> tuple[int, int]:
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute("SELECT status, COUNT(*) FROM crawls WHERE id > ? GROUP BY 1", [after])
        counts = dict(rows.fetchall())
        last = conn.execute("SELECT COALESCE(MAX(id), 0) FROM crawls").fetchone()[0]
    finally:
        conn.close()
    return counts.get("ok", 0), last


def make_due(db: Path) -> None:
    """Every job of archive ``db`` due now, as if an hour had passed (its mirror in ``sources`` too)."""
    now = datetime.now(UTC)
    store = make_jobstore(db)
    store.start(None, "default")
    try:
        for job in store.get_all_jobs():
            job.next_run_time = now
            store.update_job(job)
    finally:
        store.shutdown()
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("UPDATE sources SET next_run_at = ?", [to_stamp(now, seconds=True)])
    conn.close()


def compare(hosts: int, n: int, tmp: Path) -> list[dict]:
    """Rounds and crawls of ``n`` channels spread over ``hosts`` servers, alternating."""
    servers = []
    per = {h: [] for h in range(hosts)}
    for i in range(n):
        per[i % hosts].append(f"c{i:05d}")
    for h in range(hosts):
        server = SiteServer({name: channel(name) for name in per[h]}, host=f"127.0.0.{h + 1}")
        servers.append(server.start())
    try:
        sources = [f"{servers[h].url}/s/{name}" for h in range(hosts) for name in per[h]]
        listing = tmp / f"sources-{hosts}-{n}.txt"
        listing.write_text("\n".join(sources) + "\n")
        rounds_db, crawl_db = tmp / f"rounds-{hosts}-{n}.db", tmp / f"crawl-{hosts}-{n}.db"
        done = subprocess.run(
            cli(rounds_db, "sources", "import", str(listing), "--every", "1h", *LOOPBACK),
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise SystemExit(done.stderr)
        results = []
        last_round = last_crawl = 0
        for attempt in (1, 2):
            if attempt == 2:
                make_due(rounds_db)
            rnd = timed(cli(rounds_db, "scheduler", "run", "--once"))
            rnd["ok"], last_round = ok_rows(rounds_db, last_round)
            rnd["batches"] = len(re.findall(r" batch \d+: .* crawl process ", rnd["output"]))
            crawl = timed(cli(crawl_db, "crawl", *sources, *LOOPBACK))
            crawl["ok"], last_crawl = ok_rows(crawl_db, last_crawl)
            for run in (rnd, crawl):
                if run["status"] != 0 or run["ok"] != n:
                    raise SystemExit(f"{hosts} hosts, {n} channels: {run['output'][-3000:]}")
            results.append(
                {"hosts": hosts, "n": n, "attempt": attempt, "round": rnd, "crawl": crawl}
            )
            print(
                f"  {hosts} host(s), {n} channels, {'first' if attempt == 1 else 'again'}: "
                f"round {rnd['seconds']:.2f}s ({rnd['batches']} batches), "
                f"crawl {crawl['seconds']:.2f}s, x{rnd['seconds'] / crawl['seconds']:.2f}",
                flush=True,
            )
        return results
    finally:
        for server in servers:
            server.stop()


def list_timings(tmp: Path) -> list[tuple[str, float, str]]:
    """``sources import`` and ``sources list`` at :data:`LIST_SOURCES` sources."""
    db = tmp / "list.db"
    names = tmp / "many.txt"
    names.write_text("".join(f"@channel_{i:05d}\n" for i in range(LIST_SOURCES)))
    rows = []
    imported = timed(cli(db, "sources", "import", str(names), "--every", "1h"))
    rows.append((f"`sources import` of {LIST_SOURCES:,} lines", imported["seconds"], ""))
    archive = open_archive(db)
    for i in range(0, LIST_SOURCES, 10):  # a tenth of them failed their last run
        crawl_id = begin_crawl(archive, f"@channel_{i:05d}", trigger="scheduled")
        finish_crawl(archive, crawl_id, status="failed", reason="bench")
    archive.close()
    for label, args in [
        ("`sources list --limit 50`", ["--limit", "50"]),
        ("`sources list --state failing --limit 50 --offset 500`", ["--state", "failing", "--limit", "50", "--offset", "500"]),
        ("`sources list --state failing --format json` (all 1,000)", ["--state", "failing", "--format", "json"]),
        (f"`sources list` (all {LIST_SOURCES:,})", []),
    ]:  # fmt: skip
        run = timed(cli(db, "sources", "list", *args))
        if run["status"] != 0:
            raise SystemExit(run["output"])
        rows.append((label, run["seconds"], f"{run['largest_mb']:.0f} MB"))
    return rows


def write_report(results: list[dict], lists: list[tuple[str, float, str]], load: float) -> str:
    lines = [
        "## Scheduled rounds vs one crawl (loopback)",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d} by `bench/scheduler_rounds.py` on {describe_machine()}.",
        f"Load average when it started: {load:.1f} (other work on the machine slows both sides;",
        "the ratios are what to compare).",
        "",
        f"N one-page channels ({POSTS} posts each) on one loopback host, and spread over ten",
        "(servers on 127.0.0.1 … 127.0.0.10). *round*: `chanarchive scheduler run --once` with",
        "the N sources due (`--every 1h`); *crawl*: one `chanarchive crawl` of the same N",
        "sources; both `-s DOWNLOAD_DELAY=0`, timed end to end (process start to exit), made",
        "side by side in one run, alternating. *first*: into empty archives (the round also",
        "creates its scheduler jobs); *again*: the same channels unchanged, every job due again.",
        "Every run ended with N `ok` crawl rows. Peak RSS: the largest single process, and the",
        "whole process tree (scheduler and its crawl processes) sampled every 50 ms.",
        "",
        "| hosts | channels | run | round | crawl | round / crawl | batches | largest process: round / crawl | process tree: round / crawl |",
        "|---:|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        rnd, crawl = r["round"], r["crawl"]
        lines.append(
            f"| {r['hosts']} | {r['n']:,} | {'first' if r['attempt'] == 1 else 'again'} "
            f"| {rnd['seconds']:.2f} s | {crawl['seconds']:.2f} s "
            f"| **{rnd['seconds'] / crawl['seconds']:.2f}** | {rnd['batches']} "
            f"| {rnd['largest_mb']:.0f} / {crawl['largest_mb']:.0f} MB "
            f"| {rnd['tree_mb']:.0f} / {crawl['tree_mb']:.0f} MB |"
        )
    by = {(r["hosts"], r["n"], r["attempt"]): r for r in results}
    notes = []
    big = max(SIZES)
    for hosts in (1, 10):
        a, b = by.get((hosts, 100, 1)), by.get((hosts, big, 1))
        if a and b and big > 100:
            notes.append(
                f"- {hosts} host{'s' if hosts > 1 else ''}, {big:,} vs 100 channels: the largest "
                f"process x{b['round']['largest_mb'] / a['round']['largest_mb']:.2f} "
                f"({a['round']['largest_mb']:.0f} → {b['round']['largest_mb']:.0f} MB), "
                f"the tree x{b['round']['tree_mb'] / a['round']['tree_mb']:.2f} "
                f"({a['round']['tree_mb']:.0f} → {b['round']['tree_mb']:.0f} MB), "
                f"time x{b['round']['seconds'] / a['round']['seconds']:.1f}"
            )
    lines += [
        "",
        "Memory, 10x the channels:",
        "",
        *notes,
        "",
        "A crawl process takes at most `--batch-size` (500) sources: the largest process stays",
        "the same at 10x the channels. The tree at 1,000 holds one crawl process more than at",
        "100 — two batches of 500: on one host one after the other, the second's process",
        "started ahead while the first runs; on ten hosts side by side. Memory is bounded by",
        "`--batch-size` and `--concurrency` (4 processes at once, plus one started ahead), not by",
        "the number of channels.",
        "",
        f"### `sources list` at {LIST_SOURCES:,} sources",
        "",
        "| command | seconds | peak RSS |",
        "|---|---:|---:|",
        *[f"| {label} | {seconds:.2f} | {rss} |" for label, seconds, rss in lists],
        "",
        "Each includes starting the command (about 0.45 s of it). The state filter and the page",
        "are one query; only the sources on the page have their health worked out.",
    ]
    text = "\n".join(lines) + "\n"
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(text, encoding="utf-8")
    return text


def main() -> int:
    load = os.getloadavg()[0]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for hosts in (1, 10):
            for n in SIZES:
                results.extend(compare(hosts, n, Path(tmp)))
        lists = list_timings(Path(tmp))
    print(write_report(results, lists, load))
    return 0


if __name__ == "__main__":
    sys.exit(main())
