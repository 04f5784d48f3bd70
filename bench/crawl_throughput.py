"""How fast chanarchive archives a channel on loopback, and where the time goes.

Three measurements, side by side in one run on one generated channel:

1. parse only: ``extract_page`` on every page (no archive);
2. parse + write: ``extract_page`` then ``store.ingest_page`` into a fresh
   archive, in this process (no network, no Scrapy);
3. the real thing: ``chanarchive crawl --full`` against the page server on
   127.0.0.1 with the politeness delay off, first into an empty archive, then
   again over the unchanged channel (every post "unchanged").

Writes docs/benchmarks/crawl_throughput.md.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from archive import store  # noqa: E402
from archive.extract import extract_page  # noqa: E402
from archive.models import Capture  # noqa: E402
from archive.store import open_archive  # noqa: E402
from archive.times import utcnow  # noqa: E402
from bench._machine import describe_machine  # noqa: E402
from chanarchive.demo.site import (  # noqa: E402
    SampleChannel,
    SamplePost,
    SiteServer,
    render_channel_page,
)

POSTS = int(os.environ.get("BENCH_POSTS", "4000"))
PAGE_SIZE = 20
AD = "🔍 发送关键词来寻找群组、频道或视频。启动SOSO机器人"


def make_channel(n: int) -> SampleChannel:
    posts = []
    for i in range(1, n + 1):
        text = (
            f"第{i}条：城市交通、文化活动与天气提醒。今日地铁{i % 9 + 1}号线延长运营，"
            f"请乘客留意站内广播。\nPost {i}: details at https://example.org/notes/{i} #城市"
        )
        if i % 5 == 0:
            text += "\n" + AD
        posts.append(
            SamplePost(
                id=i,
                date=f"2026-{1 + i * 11 // n:02d}-{1 + i % 28:02d}T08:{i % 60:02d}:00+00:00"
                if n
                else "",
                text=text,
                views=100 + i * 7,
                photos=[f"https://cdn.example/{i}.jpg"] if i % 7 == 0 else [],
            )
        )
    return SampleChannel(
        name="benchline",
        title="基准频道",
        description="Generated for benchmarks",
        subscribers=12345,
        posts=posts,
    )


def pages_of(channel: SampleChannel) -> list[tuple[int | None, bytes]]:
    pages, before = [], None
    while True:
        html = render_channel_page(channel, before=before, page_size=PAGE_SIZE)
        page = extract_page(html.encode(), "http://127.0.0.1/s/benchline", before=before)
        pages.append((before, html.encode()))
        ids = [int(p.post_id) for p in page.posts]
        if not ids or min(ids) <= 1:
            return pages
        before = min(ids)


def main() -> None:
    channel = make_channel(POSTS)
    pages = pages_of(channel)
    rows = []

    started = time.perf_counter()
    for before, body in pages:
        extract_page(body, "http://127.0.0.1/s/benchline", before=before)
    parse_s = time.perf_counter() - started
    rows.append(("parse only (extract_page)", parse_s))

    with tempfile.TemporaryDirectory() as tmp:
        db = open_archive(Path(tmp) / "ingest.db")
        crawl = store.begin_crawl(db, "@benchline")
        started = time.perf_counter()
        for before, body in pages:
            page = extract_page(body, "http://127.0.0.1/s/benchline", before=before)
            capture = Capture(
                url="http://127.0.0.1/s/benchline",
                fetched_at=utcnow(),
                status=200,
                body=body,
                headers=[("Content-Type", "text/html; charset=utf-8")],
            )
            store.ingest_page(db, crawl, capture, page)
        ingest_s = time.perf_counter() - started
        store.finish_crawl(db, crawl)
        db.close()
        rows.append(("parse + write (ingest_page, no network)", ingest_s))

        with SiteServer({"benchline": channel}, page_size=PAGE_SIZE) as server:
            url = f"{server.url}/s/benchline"
            target = Path(tmp) / "crawl.db"
            command = [sys.executable, "-m", "chanarchive", "--db", str(target), "crawl", url,
                       "--full", "-s", "DOWNLOAD_DELAY=0", "--media", "none"]  # fmt: skip
            for label in (
                "chanarchive crawl, empty archive",
                "chanarchive crawl --full again, nothing changed",
            ):
                started = time.perf_counter()
                done = subprocess.run(command, capture_output=True, text=True)
                elapsed = time.perf_counter() - started
                if done.returncode != 0:
                    raise SystemExit(done.stderr)
                rows.append(
                    (f"{label} ({done.stdout.strip().splitlines()[-1].split(',')[0]})", elapsed)
                )
            size = target.stat().st_size + sum(
                p.stat().st_size for p in target.parent.glob("crawl.db-*")
            )

    base = rows[0][1]
    lines = [
        "## Crawl throughput (loopback)",
        "",
        f"Machine: {describe_machine()}. Date: {datetime.now(UTC):%Y-%m-%d}. "
        f"Channel: {POSTS} generated posts (Chinese and English text, every 5th with a bot-ad line), "
        f"{len(pages)} pages of {PAGE_SIZE}. `python bench/crawl_throughput.py` "
        "(`BENCH_POSTS=N` to change the size).",
        "",
        "| run | seconds | pages/s | posts/s | × parse-only time |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, seconds in rows:
        lines.append(
            f"| {label} | {seconds:.2f} | {len(pages) / seconds:.0f} | {POSTS / seconds:.0f} | {seconds / base:.1f} |"
        )
    lines += [
        "",
        f"Archive size after the two crawls: {size / 1024 / 1024:.1f} MiB "
        f"({size / POSTS / 1024:.1f} KiB a post, raw pages included, each distinct body stored once).",
        "The crawl rows include the process start (Python, Scrapy, Twisted: about a second) and "
        "the loopback HTTP round trips, one request at a time as the politeness settings demand.",
    ]
    out = ROOT / "docs" / "benchmarks" / "crawl_throughput.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
