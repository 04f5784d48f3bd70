"""What archiving media costs: crawl time and archive size, ``--media none`` against ``photos``.

The benchmark channel of ``bench/crawl_speed.py`` (photos on every third
post, albums of up to four, link previews with images on every fifth),
``BENCH_MEDIA_POSTS`` posts (default 1,000; 20 a page), served on 127.0.0.1
with its pictures on the same server (``/media/``, JPEG-like bytes of
20-60 KB each, as incompressible as real photos). Each round crawls it with
``--full`` into an empty archive twice, once with ``--media none`` and once
with ``--media photos`` (delay off, robots.txt on, as a user's loopback
crawl), and measures the wall time and the archive's size (WAL folded in).
A second ``photos`` crawl of the archived channel shows that nothing is
fetched again.

Writes docs/benchmarks/media_cost.md.
"""

from __future__ import annotations

import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._machine import describe_machine  # noqa: E402
from bench.crawl_speed import NAME, PAGE_SIZE, make_channel  # noqa: E402
from chanarchive.demo.site import SiteServer  # noqa: E402

POSTS = int(os.environ.get("BENCH_MEDIA_POSTS", "1000"))
ROUNDS = int(os.environ.get("BENCH_MEDIA_ROUNDS", "3"))
RESULT = ROOT / "docs" / "benchmarks" / "media_cost.md"


def archive_size(db: Path) -> int:
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return sum(p.stat().st_size for p in db.parent.glob(db.name + "*"))


def crawl(db: Path, url: str, media: str) -> float:
    command = [sys.executable, "-m", "chanarchive", "--db", str(db), "crawl", url, "--full",
               "--media", media, "-s", "DOWNLOAD_DELAY=0"]  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    return elapsed


def media_requests(server: SiteServer) -> int:
    return sum(1 for _m, path, _s in server.requests if path.startswith("/media/"))


def main() -> None:
    channel = make_channel(POSTS)
    pages = -(-len(channel.visible_posts()) // PAGE_SIZE)
    times: dict[str, list[float]] = {"none": [], "photos": []}
    sizes: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp, SiteServer({NAME: channel}) as server:
        url = f"{server.url}/s/{NAME}"
        for round_ in range(ROUNDS):
            for media in ("none", "photos"):
                db = Path(tmp) / f"{media}-{round_}.db"
                server.reset_log()
                times[media].append(crawl(db, url, media))
                sizes[media] = archive_size(db)
                if media == "photos":
                    fetched = media_requests(server)
                print(f"  round {round_ + 1}: --media {media}: {times[media][-1]:.1f} s")
        db = Path(tmp) / f"photos-{ROUNDS - 1}.db"
        conn = sqlite3.connect(db)
        files, file_bytes, urls = conn.execute(
            "SELECT COUNT(*), SUM(size), (SELECT COUNT(*) FROM media_urls) FROM media_files"
        ).fetchone()
        conn.close()
        server.reset_log()
        again = crawl(db, url, "photos")
        refetched = media_requests(server)
    none, photos = statistics.median(times["none"]), statistics.median(times["photos"])
    lines = [
        "## Media: crawl time and archive size",
        "",
        f"Measured by `bench/media_cost.py` on {describe_machine()}.",
        "",
        f"The benchmark channel ({POSTS:,} posts, {pages} pages) crawled with `--full`,"
        " delay off, into an empty archive; median of"
        f" {ROUNDS} rounds. Its pictures are served by the same loopback server.",
        "",
        "| | `--media none` | `--media photos` |",
        "|---|---:|---:|",
        f"| crawl time, s | {none:.1f} | {photos:.1f} |",
        f"| requests | {pages} pages | {pages} pages + {fetched} files |",
        f"| archive size, MB | {sizes['none'] / 1e6:.1f} | {sizes['photos'] / 1e6:.1f} |",
        "",
        f"- Files: {files:,} distinct ({urls:,} URLs), {file_bytes / 1e6:.1f} MB of pictures;"
        f" the archive grows by {(sizes['photos'] - sizes['none']) / 1e6:.1f} MB"
        f" ({(sizes['photos'] - sizes['none']) / file_bytes:.2f} bytes per byte of picture).",
        f"- Crawl time x{photos / none:.1f} on loopback (no delay): a real crawl waits"
        " DOWNLOAD_DELAY between two requests to one host, and media hosts are other hosts"
        " than t.me, so there the pictures are fetched beside the pages.",
        f"- A second `--media photos` crawl of the archived channel: {again:.1f} s,"
        f" {refetched} media requests.",
        "",
    ]
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
