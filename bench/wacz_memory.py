"""Do ``export --format wacz`` and ``verify`` stream? Time and peak memory at two sizes.

Builds synthetic archives in the real schema (``open_archive`` runs the
migrations, then bulk inserts): page captures of distinct channel pages
(about 8 KB of HTML each, zlib-compressed as the store keeps them; one in
five a repeat of an earlier body, which the WARC writes as a revisit), each
with the server's address and the request as sent, and media files (about
20 KB of incompressible bytes each). Then it runs, each in its own process,
``chanarchive export --format wacz``, ``chanarchive verify`` on the archive
and ``chanarchive verify FILE.wacz`` on the package, and takes each
process's peak RSS from ``os.wait4``. If they stream, peak memory stays
flat at ten times the captures while the time grows about tenfold. The
demo archive (``chanarchive demo``) is measured first as the small, real
case. Results go to ``docs/benchmarks/wacz_memory.md``; the archives are
deleted afterwards.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from archive.store import open_archive  # noqa: E402 - after the path fix-up
from archive.times import to_stamp  # noqa: E402 - after the path fix-up
from bench._machine import describe_machine  # noqa: E402

RESULT = ROOT / "docs" / "benchmarks" / "wacz_memory.md"
#: (page captures, media files) of the two synthetic archives.
SIZES = ((5_000, 500), (50_000, 5_000))
BATCH = 2_000
WORDS = (
    "城市 地铁 新线路 今日 开通 天气 冷空气 南下 marathon traffic update line runs every".split()
)
REQUEST = json.dumps(
    [
        ["Host", "t.me"],
        ["Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"],
        ["User-Agent", "chanarchive/bench"],
        ["Accept-Encoding", "gzip, deflate, br, zstd"],
    ]
)


def _page(rng: random.Random, n: int) -> bytes:
    words = " ".join(rng.choice(WORDS) for _ in range(900))
    return f"<html><head><title>bench {n}</title></head><body><p>{words}</p></body></html>".encode()


def build_archive(path: Path, captures: int, media: int) -> float:
    """A synthetic archive of ``captures`` page captures and ``media`` files; seconds taken."""
    started = time.perf_counter()
    open_archive(path).close()
    rng = random.Random(captures)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous = OFF")
    base = datetime(2026, 1, 1, tzinfo=UTC)
    conn.execute("BEGIN")
    conn.execute(
        "INSERT INTO channels (id, name, kind, title, first_seen, source_url)"
        " VALUES (1, 'bench', 'telegram', '测试频道', ?, 'https://t.me/s/bench')",
        [to_stamp(base)],
    )
    conn.execute(
        "INSERT INTO crawls (id, channel_id, started_at) VALUES (1, 1, ?)", [to_stamp(base)]
    )
    earlier: list[tuple[str, int]] = []
    for start in range(0, captures, BATCH):
        bodies, snapshots = [], []
        for n in range(start, min(start + BATCH, captures)):
            if earlier and n % 5 == 4:
                sha, size = rng.choice(earlier)  # the same page again: a revisit
            else:
                body = _page(rng, n)
                sha, size = hashlib.sha256(body).hexdigest(), len(body)
                bodies.append((sha, size, "zlib", zlib.compress(body, 6)))
                earlier.append((sha, size))
            at = to_stamp(base + timedelta(seconds=n))
            url = f"https://t.me/s/bench?before={captures - n}"
            snapshots.append(
                (1, 1, url, url, at, 200, sha, "text/html; charset=utf-8",
                 '[["Content-Type", "text/html; charset=utf-8"]]', "HTTP/1.1", "channel", 20,
                 "149.154.167.99", f"GET /s/bench?before={captures - n} HTTP/1.1", REQUEST)
            )  # fmt: skip
        conn.executemany(
            "INSERT OR IGNORE INTO bodies (sha256, size, compression, body) VALUES (?, ?, ?, ?)",
            bodies,
        )
        conn.executemany(
            "INSERT INTO snapshots (crawl_id, channel_id, url, requested_url, fetched_at,"
            " http_status, content_sha256, content_type, headers, protocol, page_type, posts,"
            " ip_address, request_line, request_headers)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            snapshots,
        )
    for n in range(media):
        body = rng.randbytes(20_000)
        sha = hashlib.sha256(body).hexdigest()
        at = to_stamp(base + timedelta(seconds=n))
        url = f"https://cdn.example/file/{n}.jpg"
        conn.execute(
            "INSERT INTO media_files (sha256, content_type, size, first_seen, url, compression,"
            " stored_size) VALUES (?, 'image/jpeg', ?, ?, ?, NULL, ?)",
            [sha, len(body), at, url, len(body)],
        )
        conn.execute("INSERT INTO media_bodies (sha256, body) VALUES (?, ?)", [sha, body])
        conn.execute(
            "INSERT INTO media_urls (url, sha256, status, http_status, attempts, first_tried,"
            " last_tried, ip_address) VALUES (?, ?, 'ok', 200, 1, ?, ?, '149.154.167.51')",
            [url, sha, at, at],
        )
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return time.perf_counter() - started


def measured(args: list[str]) -> dict:
    """Run ``chanarchive ARGS`` in its own process: wall time and peak RSS (``os.wait4``)."""
    command = [sys.executable, "-m", "chanarchive", *args]
    load = os.getloadavg()[0]  # the machine is shared: times are read against it
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        said = out.read().decode(errors="replace") + err.read().decode(errors="replace")
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({proc.returncode}): {said}")
    return {
        "seconds": seconds,
        "peak_rss_mb": usage.ru_maxrss / 1024,
        "load": load,
        "said": said.strip(),
    }


def run_all(db: Path, work: Path) -> dict:
    package = work / "export.wacz"
    results = {
        "export": measured(["--db", str(db), "export", "--format", "wacz", "-o", str(package)]),
        "verify archive": measured(["--db", str(db), "verify"]),
        "verify wacz": measured(["verify", str(package)]),
        "verify --sample 100": measured(["--db", str(db), "verify", "--sample", "100"]),
    }
    results["export"]["bytes"] = package.stat().st_size
    package.unlink()
    return results


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="chanarchive-bench-wacz-"))
    rows: list[tuple[str, int, dict]] = []
    try:
        demo = work / "demo.db"
        subprocess.run(
            [sys.executable, "-m", "chanarchive", "--db", str(demo), "demo"],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        rows.append(("demo", demo.stat().st_size, run_all(demo, work)))
        for captures, media in SIZES:
            db = work / f"bench_{captures}.db"
            seconds = build_archive(db, captures, media)
            size = db.stat().st_size
            print(f"built {captures:,} captures, {media:,} media files in {seconds:.0f} s "
                  f"({size / 1e6:.0f} MB)")  # fmt: skip
            result = run_all(db, work)
            rows.append((f"{captures:,} captures, {media:,} media files", size, result))
            for name, r in result.items():
                print(f"  {name}: {r['seconds']:.1f} s, peak RSS {r['peak_rss_mb']:.0f} MB")
            for suffix in ("", "-wal", "-shm"):
                Path(f"{db}{suffix}").unlink(missing_ok=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    write_report(rows)
    return 0


def write_report(rows: list[tuple[str, int, dict]]) -> None:
    lines = [
        "## WACZ export and verify: time and peak memory",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d} by `bench/wacz_memory.py` on {describe_machine()}.",
        "",
        "Each command runs in its own process; peak RSS is its `ru_maxrss` (`os.wait4`).",
        "The synthetic archives hold channel-page captures of about 8 KB of HTML each (one",
        "in five a repeat of an earlier page: a revisit record), each with its server address",
        "and request, and media files of 20 KB of incompressible bytes.",
        "",
        "The load column is the 1-minute load average as each command started (2 cores,",
        "shared with other work): times grow with it, peak memory does not.",
        "",
        "| archive | file | step | time | peak RSS | load |",
        "|---|---:|---|---:|---:|---:|",
    ]
    for name, size, result in rows:
        for step, r in result.items():
            extra = f" → {r['bytes'] / 1e6:,.1f} MB package" if "bytes" in r else ""
            lines.append(
                f"| {name} | {size / 1e6:,.1f} MB | {step}{extra} | {r['seconds']:.1f} s"
                f" | {r['peak_rss_mb']:.0f} MB | {r['load']:.1f} |"
            )
    small, large = rows[-2][2], rows[-1][2]
    lines += ["", "Ratios, the larger synthetic archive to the smaller (10x the captures):", ""]
    for step in small:
        a, b = small[step], large[step]
        lines.append(
            f"- {step}: peak RSS x{b['peak_rss_mb'] / a['peak_rss_mb']:.2f}"
            f" ({a['peak_rss_mb']:.0f} → {b['peak_rss_mb']:.0f} MB),"
            f" time x{b['seconds'] / a['seconds']:.1f}"
        )
    lines += [
        "",
        "The WARC and the page lists are written a record and a line at a time; py-wacz's",
        "indexer sorts the CDXJ lines in a buffer of at most 32 MB, spilling to temporary",
        "files beyond it, and copies the WARC into the ZIP in chunks; verify hashes and",
        "reads records a piece at a time. Memory is the interpreter, the libraries (py-wacz",
        "imports frictionless) and those fixed buffers, whatever the archive's size.",
        "",
    ]
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {RESULT.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
