"""Crawl speed and storage, against a bare Scrapy spider and snscrape, side by side in one run.

A generated channel of ``BENCH_SPEED_POSTS`` posts (default 6,000; 20 a page)
as rich as real t.me/s pages (the saved page in ``../shared/realdata`` is
the model): photos and albums, link previews, forwards, signatures, a
bot-ad line and a channel signature on most posts, Chinese and Latin text.
It is served on 127.0.0.1 and measured, rounds alternating:

1. pipeline: ``chanarchive crawl --full`` (politeness delay and robots.txt
   off) into an empty archive, against a bare Scrapy spider that only follows
   the same pagination links with the same settings: pages/s of each, and
   the ratio;
2. parsing: chanarchive's Telegram parser against snscrape's on the same
   pages, in posts/s of CPU time (skipped when snscrape cannot be imported;
   it is a benchmark-only dependency, ``pip install -e .[bench]``);
3. storage: the archive's bytes per byte of HTML fetched, and how much an
   unchanged recrawl (``--full`` again) adds;
4. requests: how many an incremental crawl of the fully archived channel makes;
5. backfill: ``crawl --full`` of a channel whose every page answers 100 ms
   late, one page at a time against four in flight
   (``-s CONCURRENT_REQUESTS_PER_DOMAIN=4``), alternating.

Writes docs/benchmarks/crawl_speed.md.
"""

from __future__ import annotations

import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from archive.extract.telegram import parse_telegram_page  # noqa: E402
from bench._machine import describe_machine  # noqa: E402
from bench._rich_pages import render_pages, serve_pages, signed_url  # noqa: E402
from chanarchive.demo.site import (  # noqa: E402
    SampleChannel,
    SamplePost,
    SiteServer,
)

POSTS = int(os.environ.get("BENCH_SPEED_POSTS", "6000"))
ROUNDS = int(os.environ.get("BENCH_SPEED_ROUNDS", "3"))
BACKFILL_POSTS = int(os.environ.get("BENCH_BACKFILL_POSTS", "1000"))
LATENCY = 0.1
PAGE_SIZE = 20
NAME = "bench_real"
AD = "🔍 发送关键词来寻找群组、频道或视频。启动SOSO机器人"
SIGNATURE = "📣 关注本频道：@bench_real  |  投稿：@bench_real_bot"
RESULT = ROOT / "docs" / "benchmarks" / "crawl_speed.md"
BARE = ROOT / "bench" / "_bare_spider.py"

_WORDS = (
    "城市 交通 地铁 天气 文化 活动 市民 公园 新闻 提醒 今日 明天 通知 发布 记者 报道 现场 图片"
    " 视频 消息 官方 最新 关注 服务 安全 出行 线路 调整 运营 时间".split()
)
_LATIN = "update metro weather notice city culture event report live photo video".split()


def make_text(rng: random.Random, i: int) -> str:
    lines = []
    for _ in range(rng.randint(1, 4)):
        words = [rng.choice(_WORDS) for _ in range(rng.randint(8, 40))]
        if rng.random() < 0.3:
            words += [rng.choice(_LATIN) for _ in range(rng.randint(2, 8))]
        lines.append("".join(words) + rng.choice("。！？"))
    if i % 4 == 0:
        lines.append(f"详情：https://news.example.org/articles/{i} #城市 #交通")
    if i % 5 != 0:
        lines.append(AD)
    if i % 3 != 0:
        lines.append(SIGNATURE)
    return "\n".join(lines)


def make_channel(count: int) -> SampleChannel:
    rng = random.Random(7)
    base = datetime(2025, 6, 1, tzinfo=UTC)
    posts = []
    for i in range(1, count + 1):
        media = random.Random(i)  # signed CDN URLs, stable for each post
        photos = []
        if i % 3 == 0:
            photos = [signed_url(media) for _ in range(1 + i % 4)]
        preview = None
        if i % 5 == 1:
            preview = {
                "url": f"https://news.example.org/articles/{i}",
                "site": "新闻网",
                "title": f"第{i}号新闻的标题",
                "description": "一段很长的摘要，" * 6,
                "image": signed_url(media),
            }
        forwarded = (
            {"name": "来源频道", "url": "https://t.me/source_chan/12"} if i % 7 == 0 else None
        )
        posts.append(
            SamplePost(
                id=i,
                date=(base + timedelta(minutes=37 * i)).isoformat(),
                text=make_text(rng, i),
                views=200 + (i * 131) % 90000,
                photos=photos,
                link_preview=preview,
                forwarded_from=forwarded,
                author="编辑部" if i % 2 else None,
            )
        )
    return SampleChannel(
        name=NAME,
        title="城市速递 · 基准",
        description="每日城市新闻、交通与天气。\n投稿请联系 @bench_real_bot",
        subscribers=123_456,
        posts=posts,
    )


def pages_of(channel: SampleChannel) -> list[tuple[int | None, bytes]]:
    return list(render_pages(channel, PAGE_SIZE).items())


def run(command: list[str]) -> tuple[float, subprocess.CompletedProcess]:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    return elapsed, done


def archive_size(db: Path) -> int:
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return sum(p.stat().st_size for p in db.parent.glob(db.name + "*"))


def table_sizes(db: Path) -> dict[str, int]:
    """Bytes on disk of each table and index (SQLite's ``dbstat``), largest first."""
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute(
            "SELECT name, SUM(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC"
        ).fetchall()
    finally:
        conn.close()
    return dict(rows)


def crawl_command(db: Path, url: str, *extra: str) -> list[str]:
    # Pages only (--media none): bench/media_cost.py measures what media add.
    return [sys.executable, "-m", "chanarchive", "--db", str(db), "crawl", url,
            "-s", "DOWNLOAD_DELAY=0", "-s", "ROBOTSTXT_OBEY=false",
            "--media", "none", *extra]  # fmt: skip


def measure_pipeline(server: SiteServer, work: Path, pages: int) -> dict:
    url = f"{server.url}/s/{NAME}"
    ours, bare = [], []
    db = work / "archive.db"
    for round_ in range(ROUNDS):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        seconds, _ = run(crawl_command(db, url, "--full"))
        ours.append(pages / seconds)
        seconds, _ = run([sys.executable, str(BARE), url])
        bare.append(pages / seconds)
        print(f"  round {round_ + 1}: chanarchive {ours[-1]:.1f} pages/s, bare {bare[-1]:.1f}")
    return {"ours": statistics.median(ours), "bare": statistics.median(bare), "db": db}


def measure_backfill(server: SiteServer, work: Path) -> dict:
    """Pages/s of ``crawl --full`` at 1 and at 4 requests in flight, pages 100 ms late."""
    channel = make_channel(BACKFILL_POSTS)
    channel.name = "bench_slow"
    pages = render_pages(channel, PAGE_SIZE)
    serve_pages(server, channel.name, pages, latency=LATENCY)
    url = f"{server.url}/s/{channel.name}"
    rates: dict[int, list[float]] = {1: [], 4: []}
    counts: dict[int, int] = {}
    for _ in range(min(ROUNDS, 2)):  # two rounds: make bench stays under 20 minutes
        for concurrency in (1, 4):
            db = work / f"backfill{concurrency}.db"
            for suffix in ("", "-wal", "-shm"):
                Path(f"{db}{suffix}").unlink(missing_ok=True)
            setting = f"CONCURRENT_REQUESTS_PER_DOMAIN={concurrency}"
            seconds, _ = run(crawl_command(db, url, "--full", "-s", setting))
            fetched = sqlite3.connect(db).execute("SELECT COUNT(*) FROM snapshots").fetchone()[0]
            posts = sqlite3.connect(db).execute("SELECT COUNT(*) FROM posts").fetchone()[0]
            rates[concurrency].append(fetched / seconds)
            counts[concurrency] = posts
    return {
        "pages": len(pages),
        "one": statistics.median(rates[1]),
        "four": statistics.median(rates[4]),
        "posts": counts,
    }


def measure_storage(server: SiteServer, db: Path, fetched: int) -> dict:
    url = f"{server.url}/s/{NAME}"
    first = archive_size(db)
    tables = table_sizes(db)
    run(crawl_command(db, url, "--full"))
    again = archive_size(db)
    server.reset_log()
    run(crawl_command(db, url))
    requests = [path for _, path, _ in server.requests if path.startswith(f"/s/{NAME}")]
    return {
        "size": first,
        "per_byte": first / fetched,
        "recrawl": (again - first) / first,
        "incremental_requests": len(requests),
        "tables": tables,
    }


def measure_parsing(pages: list[tuple[int | None, bytes]]) -> dict:
    url = f"http://127.0.0.1/s/{NAME}"

    def ours() -> int:
        return sum(len(parse_telegram_page(body, url, before=b).posts) for b, body in pages)

    theirs = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import bs4
            import snscrape.modules.telegram as sns
        scraper = sns.TelegramChannelScraper(NAME)

        def theirs() -> int:
            return sum(
                len(list(scraper._soup_to_items(bs4.BeautifulSoup(body, "lxml"), url)))
                for _, body in pages
            )
    except Exception as exc:  # an unmaintained peer: its absence is reported, not fatal
        print(f"  snscrape not available: {exc!r}")
    rates: dict[str, list[float]] = {"ours": [], "snscrape": []}
    for _ in range(ROUNDS):
        for name, fn in (("ours", ours), ("snscrape", theirs)):
            if fn is None:
                continue
            started = time.process_time()
            posts = fn()
            rates[name].append(posts / (time.process_time() - started))
    return {k: statistics.median(v) if v else None for k, v in rates.items()}


def main() -> None:
    channel = make_channel(POSTS)
    pages = pages_of(channel)
    fetched = sum(len(body) for _, body in pages)
    print(f"{len(pages)} pages, {fetched / len(pages) / 1024:.0f} KiB a page")
    with (
        tempfile.TemporaryDirectory(prefix="bench-speed-") as tmp,
        SiteServer() as server,
    ):
        serve_pages(server, NAME, dict(pages))
        work = Path(tmp)
        pipeline = measure_pipeline(server, work, len(pages))
        storage = measure_storage(server, pipeline["db"], fetched)
        backfill = measure_backfill(server, work)
    parsing = measure_parsing(pages)
    ratio = pipeline["ours"] / pipeline["bare"]
    lines = [
        "## Crawl speed and storage",
        "",
        describe_machine(),
        "",
        f"A generated channel of {POSTS:,} posts in {len(pages)} pages of {PAGE_SIZE}"
        f" ({fetched / len(pages) / 1024:.0f} KiB of HTML a page: photos and albums, link"
        " previews, forwards, signatures, a bot-ad line and a channel signature on most posts),"
        f" served on 127.0.0.1. Medians of {ROUNDS} rounds, alternating.",
        "",
        "| measure | chanarchive | baseline | ratio |",
        "|---|---:|---:|---:|",
        f"| crawl, pages/s (`crawl --full`, delay and robots off; process start included)"
        f" | {pipeline['ours']:.1f} | {pipeline['bare']:.1f} (bare Scrapy spider)"
        f" | **{ratio:.2f}×** |",
    ]
    if parsing["snscrape"]:
        lines.append(
            f"| parsing, posts/s of CPU time | {parsing['ours']:.0f} |"
            f" {parsing['snscrape']:.0f} (snscrape) | **{parsing['ours'] / parsing['snscrape']:.2f}×** |"
        )
    else:
        lines.append(
            f"| parsing, posts/s of CPU time | {parsing['ours']:.0f} | (snscrape absent) | |"
        )
    lines += [
        "",
        f"- Storage: **{storage['per_byte']:.2f} bytes of archive per byte of HTML fetched**"
        f" ({storage['size'] / 1024 / 1024:.1f} MiB for {fetched / 1024 / 1024:.1f} MiB fetched);"
        f" every capture is kept and restorable byte for byte.",
        f"- An unchanged recrawl (`--full` again) grows the archive by"
        f" **{storage['recrawl'] * 100:.2f} %**.",
        f"- An incremental crawl of the fully archived channel makes"
        f" **{storage['incremental_requests']}** request(s).",
    ]
    lines += [
        f"- Backfill (`crawl --full`, {backfill['pages']} pages each answered {LATENCY * 1000:.0f} ms"
        f" late): **{backfill['one']:.1f} pages/s** one at a time,"
        f" **{backfill['four']:.1f} pages/s** with four in flight"
        f" (`-s CONCURRENT_REQUESTS_PER_DOMAIN=4`): **{backfill['four'] / backfill['one']:.2f}×**;"
        f" the same posts archived ({backfill['posts'][1]} and {backfill['posts'][4]}).",
        f"- Load average when done: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (the"
        " machine is shared; the ratios are what to compare).",
    ]
    lines += [
        "",
        "Where the archive's bytes are after the first crawl (SQLite `dbstat`; tables and"
        " indexes over 1 % of the file):",
        "",
        "| table or index | bytes | bytes per byte fetched |",
        "|---|---:|---:|",
    ]
    for name, size in storage["tables"].items():
        if size >= storage["size"] / 100:
            lines.append(f"| {name} | {size:,} | {size / fetched:.3f} |")
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
