"""Telegram page parsing alone: chanarchive's parser against snscrape's, in one run.

The same generated pages as ``bench/crawl_speed.py`` (``BENCH_SPEED_POSTS``,
default 6,000 posts, 20 a page), parsed in alternating rounds
(``BENCH_SPEED_ROUNDS``, default 3); posts/s of CPU time, medians. Quicker
than the whole crawl benchmark when only parsing changed: issue 10's target
is chanarchive ≥ 2.5× snscrape. Prints a table row; ``--write`` also writes
docs/benchmarks/parse_speed.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._machine import describe_machine  # noqa: E402
from bench.crawl_speed import POSTS, ROUNDS, make_channel, measure_parsing, pages_of  # noqa: E402

RESULT = ROOT / "docs" / "benchmarks" / "parse_speed.md"


def main(argv: list[str]) -> None:
    pages = pages_of(make_channel(POSTS))
    rates = measure_parsing(pages)
    ours, theirs = rates["ours"], rates["snscrape"]
    ratio = f"**{ours / theirs:.2f}×**" if theirs else "(snscrape absent)"
    lines = [
        "## Telegram page parsing",
        "",
        describe_machine(),
        "",
        f"{POSTS:,} generated posts in {len(pages)} t.me/s pages (as `crawl_speed.py`),"
        f" medians of {ROUNDS} alternating rounds, posts/s of CPU time.",
        "",
        "| chanarchive | snscrape | ratio |",
        "|---:|---:|---:|",
        f"| {ours:.0f} | {f'{theirs:.0f}' if theirs else '–'} | {ratio} |",
    ]
    print("\n".join(lines))
    if "--write" in argv:
        RESULT.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
