"""Search, a channel's latest posts and a post's history at a million posts.

Builds an archive of ``BENCH_SEARCH_POSTS`` posts (default 50,000, so that
``make bench`` stays under 20 minutes; ``BENCH_SEARCH_POSTS=1000000`` is the
size issue 10's targets name, and writes ``search_scale_1m.md``) in the
real schema whose texts have realistic word frequencies: words drawn from a
Zipf distribution (s = 1.07) over a vocabulary of Chinese words (one to four
characters, written without spaces) and Latin words, three posts in four
mostly Chinese. The full-text indexes are filled by the archive's own
triggers, as a crawl fills them. Then it times, each query warm and as the
median of several runs:

- ``search`` for terms of six kinds: a common word, a middling one, a rare
  one, a two-character Chinese word, a Latin word, and two terms at once;
- a channel's latest 100 posts, and one post's history (every version);
- ingest: the archive's write path (``ingest_page``, boilerplate learning on)
  writing the same kind of rich t.me pages into an empty archive and into
  this one, alternating: its rate here as a share of its empty-archive rate.

Results go to ``docs/benchmarks/search_scale.md`` (``_1m`` at a million); the archive is deleted
afterwards (``--keep PATH`` keeps it, ``--reuse PATH`` times an existing one).
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from bisect import bisect_left
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from archive.extract import extract_page  # noqa: E402
from archive.models import Capture  # noqa: E402
from archive.query.history import find_post, versions  # noqa: E402
from archive.query.search import search_posts  # noqa: E402
from archive.store import connect_readonly, ingest_page, open_archive  # noqa: E402
from archive.times import to_stamp, utcnow  # noqa: E402
from bench._machine import describe_machine  # noqa: E402

POSTS = int(os.environ.get("BENCH_SEARCH_POSTS", "50000"))
RESULT = (
    ROOT
    / "docs"
    / "benchmarks"
    / ("search_scale_1m.md" if POSTS >= 1_000_000 else "search_scale.md")
)
CHANNELS = 50
BATCH = 20_000
RUNS = 5
SEED = 20261202
INGEST_PAGES = int(os.environ.get("BENCH_INGEST_PAGES", "40"))
INGEST_ROUNDS = 3


def vocabulary(rng: random.Random) -> tuple[list[str], list[bool]]:
    """Words by rank (most frequent first) and whether each is Chinese."""
    chars = [chr(c) for c in rng.sample(range(0x4E00, 0x9FA5), 3500)]
    char_rank = zipf_sampler(rng, len(chars), s=1.0)  # character frequencies are Zipfian too
    syllables = [a + b for a in "bcdfghjklmnprstvwz" for b in "aeiou"] + ["qu", "th", "sh"]
    words, chinese = [], []
    seen = set()
    while len(words) < 60_000:
        if rng.random() < 0.7:
            size = rng.choices([1, 2, 3, 4], weights=[2, 10, 4, 2])[0]
            # Common characters come first: word frequency and character frequency go together.
            word = "".join(chars[char_rank()] for _ in range(size))
            is_cjk = True
        else:
            word = "".join(rng.choice(syllables) for _ in range(rng.choice([1, 2, 2, 3, 3, 4])))
            is_cjk = False
        if word not in seen:
            seen.add(word)
            words.append(word)
            chinese.append(is_cjk)
    return words, chinese


def zipf_sampler(rng: random.Random, size: int, s: float = 1.07):
    cumulative = list(accumulate(1 / (rank**s) for rank in range(1, size + 1)))
    total = cumulative[-1]

    def draw() -> int:
        return bisect_left(cumulative, rng.random() * total)

    return draw


def make_text(rng, words, chinese, draw) -> str:
    parts: list[str] = []
    for _ in range(rng.randint(12, 70)):
        index = draw()
        word = words[index]
        if chinese[index] or not parts:
            parts.append(word)
        else:
            parts.append(" " + word + " ")
        if rng.random() < 0.08:
            parts.append(rng.choice("，。！？\n"))
    return "".join(parts).strip()


def build(path: Path) -> tuple[float, list[str], list[bool]]:
    rng = random.Random(SEED)
    words, chinese = vocabulary(rng)
    draw = zipf_sampler(rng, len(words))
    started = time.perf_counter()
    open_archive(path).close()
    db = open_archive(path)
    conn = db.conn
    conn.execute("PRAGMA synchronous = OFF")
    base = datetime(2025, 1, 1, tzinfo=UTC)
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO channels (id, name, kind, title, first_seen, source_url, origin)"
        " VALUES (?, ?, 'telegram', ?, ?, ?, 't.me')",
        [
            (c, f"bench_{c:02d}", f"频道 {c}", to_stamp(base), f"https://t.me/s/bench_{c:02d}")
            for c in range(1, CHANNELS + 1)
        ],
    )
    for start in range(1, POSTS + 1, BATCH):
        post_rows, version_rows = [], []
        for i in range(start, min(start + BATCH, POSTS + 1)):
            channel = 1 + i % CHANNELS
            num = i // CHANNELS + 1
            when = to_stamp(base + timedelta(seconds=20 * i))
            text = make_text(rng, words, chinese, draw)
            edited = i % 10 == 0
            current = 2 if edited else 1
            post_rows.append(
                (i, channel, str(num), num, f"https://t.me/bench_{channel:02d}/{num}",
                 when, when, when, current, text, int(edited), 100 + i % 5000)
            )  # fmt: skip
            for version in range(1, current + 1):
                body = text if version == current else text[: len(text) // 2]
                version_rows.append((i, version, when, body, body, when, int(version > 1)))
        conn.executemany(
            "INSERT INTO posts (id, channel_id, post_id, post_num, url, published_at, first_seen,"
            " last_seen, current_version, text, edited, views) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            post_rows,
        )
        conn.executemany(
            "INSERT INTO post_versions (post, version, captured_at, text, raw_text, published_at,"
            " edited) VALUES (?,?,?,?,?,?,?)",
            version_rows,
        )
        print(f"  {min(start + BATCH - 1, POSTS):,} posts", flush=True, file=sys.stderr)
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return time.perf_counter() - started, words, chinese


def pick_terms(conn, words: list[str], chinese: list[bool]) -> dict[str, list[str]]:
    """Query terms of each kind, chosen by rank in the vocabulary."""

    def first(predicate, ranks, count=3) -> list[str]:
        chosen = []
        for rank in ranks:
            if rank < len(words) and predicate(words[rank], chinese[rank]):
                chosen.append(words[rank])
                if len(chosen) == count:
                    break
        return chosen

    long_cjk = lambda w, c: c and len(w) >= 3  # noqa: E731
    return {
        "common word": first(long_cjk, range(0, 2000)),
        "middling word": first(long_cjk, range(800, 20000)),
        "rare word": first(long_cjk, range(20000, 60000)),
        "two characters": first(lambda w, c: c and len(w) == 2, range(0, 500)),
        "Latin word": first(lambda w, c: not c and len(w) >= 4, range(0, 300)),
        "two terms": [
            " ".join(pair)
            for pair in zip(
                first(lambda w, c: c and len(w) >= 2, range(30, 400)),
                first(lambda w, c: c and len(w) >= 2, range(400, 3000)),
                strict=False,
            )
        ],
    }


def timed(fn, runs: int = RUNS) -> float:
    fn()  # warm
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def measure(path: Path, words, chinese) -> dict:
    conn = connect_readonly(path)
    results = {"search": {}}
    for kind, terms in pick_terms(conn, words, chinese).items():
        rows = []
        for term in terms:
            hits = conn.execute(
                "SELECT COUNT(*) FROM posts WHERE text LIKE ?", [f"%{term.split()[0]}%"]
            ).fetchone()[0]
            seconds = timed(lambda term=term: search_posts(conn, term))
            rows.append((term, hits, seconds))
        results["search"][kind] = rows
    channel_id = conn.execute("SELECT id FROM channels WHERE name = 'bench_07'").fetchone()[0]
    results["latest"] = timed(
        lambda: conn.execute(
            "SELECT post_id, text FROM posts WHERE channel_id = ? ORDER BY post_num DESC LIMIT 100",
            [channel_id],
        ).fetchall()
    )
    name, post_id = conn.execute(
        "SELECT c.name, p.post_id FROM posts p JOIN channels c ON c.id = p.channel_id"
        " WHERE p.edited = 1 ORDER BY p.id LIMIT 1 OFFSET 500"
    ).fetchone()
    ref = find_post(conn, f"{name}/{post_id}")
    results["history"] = timed(lambda: versions(conn, ref))
    conn.close()
    return results


def ingest_pages(name: str) -> list[tuple[Capture, object]]:
    """``INGEST_PAGES`` rich pages of a new channel ``name``, parsed (parsing is not timed)."""
    from bench._rich_pages import render_pages
    from bench.crawl_speed import PAGE_SIZE, make_channel

    channel = make_channel(INGEST_PAGES * PAGE_SIZE)
    channel.name = name
    parsed = []
    for before, body in render_pages(channel, PAGE_SIZE).items():
        url = f"https://t.me/s/{name}" + (f"?before={before}" if before else "")
        capture = Capture(url=url, fetched_at=utcnow(), status=200,
                          body=body, headers=[("Content-Type", "text/html; charset=utf-8")])  # fmt: skip
        parsed.append((capture, extract_page(body, url, before=before, channel=name)))
    return parsed


def ingest_rate(path: Path, pages) -> float:
    """Posts per second ``ingest_page`` writes into the archive at ``path``."""
    db = open_archive(path)
    try:
        posts = sum(len(page.posts) for _, page in pages)
        started = time.perf_counter()
        for capture, page in pages:
            ingest_page(db, None, capture, page)
        return posts / (time.perf_counter() - started)
    finally:
        db.close()


def measure_ingest(path: Path) -> dict:
    """Ingest into an empty archive and into the big one, alternating; medians."""
    empty, full = [], []
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        for round_ in range(INGEST_ROUNDS):
            fresh = Path(tmp) / f"empty{round_}.db"
            empty.append(ingest_rate(fresh, ingest_pages(f"ingest_e{round_}")))
            full.append(ingest_rate(path, ingest_pages(f"ingest_m{round_}")))
            print(f"  ingest round {round_ + 1}: empty {empty[-1]:.0f} posts/s,"
                  f" big {full[-1]:.0f} posts/s", file=sys.stderr)  # fmt: skip
    return {"empty": statistics.median(empty), "full": statistics.median(full)}


def report(results: dict, posts: int, build_seconds: float, size: int) -> str:
    all_times = [s for rows in results["search"].values() for _, _, s in rows]
    lines = [
        f"## Search, latest posts, history and ingest at {posts:,} posts",
        "",
        describe_machine(),
        "",
        f"An archive of {posts:,} posts in {CHANNELS} channels, texts drawn from a Zipf"
        f" vocabulary of Chinese and Latin words, built in {build_seconds:.0f} s"
        f" ({size / 1e9:.2f} GB with its indexes). Each time is the median of {RUNS} warm"
        " runs of `search_posts` (20 results, best first).",
        "",
        "| kind | term | posts holding it | time |",
        "|---|---|---:|---:|",
    ]
    for kind, rows in results["search"].items():
        for term, hits, seconds in rows:
            lines.append(f"| {kind} | {term} | {hits:,} | {seconds * 1000:.1f} ms |")
    slowest = {kind: max(s for _, _, s in rows) for kind, rows in results["search"].items() if rows}
    lines += [
        "",
        f"Median over every query: **{statistics.median(all_times) * 1000:.1f} ms**; the"
        f" slowest kind: **{max(slowest, key=slowest.get)}** at"
        f" {max(slowest.values()) * 1000:.0f} ms.",
        f"A channel's latest 100 posts: **{results['latest'] * 1000:.2f} ms**; one post's"
        f" history: **{results['history'] * 1000:.2f} ms**.",
    ]
    ingest = results.get("ingest")
    if ingest:
        lines += [
            "",
            f"Ingest (`ingest_page`, boilerplate learning on; {INGEST_PAGES} rich t.me pages of"
            f" 20 posts, a new channel each round, medians of {INGEST_ROUNDS} alternating"
            f" rounds): **{ingest['full']:.0f} posts/s** into this archive against"
            f" {ingest['empty']:.0f} posts/s into an empty one:"
            f" **{ingest['full'] / ingest['empty']:.2f}×** its empty-archive rate.",
        ]
    lines += ["", f"Load average when done: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", metavar="PATH", help="build the archive here and keep it")
    parser.add_argument("--reuse", metavar="PATH", help="time an archive built with --keep")
    args = parser.parse_args()
    rng = random.Random(SEED)
    if args.reuse:
        path = Path(args.reuse)
        words, chinese = vocabulary(rng)
        build_seconds = float("nan")
    else:
        folder = Path(tempfile.mkdtemp(prefix="bench-search-"))
        path = Path(args.keep) if args.keep else folder / "archive.db"
        build_seconds, words, chinese = build(path)
    posts = sqlite3.connect(path).execute("SELECT COUNT(*) FROM posts").fetchone()[0]
    results = measure(path, words, chinese)
    results["ingest"] = measure_ingest(path)  # last: it adds posts to the archive
    text = report(results, posts, build_seconds, path.stat().st_size)
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(text, encoding="utf-8")
    print(text)
    if not args.keep and not args.reuse:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


if __name__ == "__main__":
    main()
