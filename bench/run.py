"""Run every benchmark (``make bench``) and assemble docs/benchmarks.md.

Each ``bench/<name>.py`` writes its own results, with the machine and the
date, to ``docs/benchmarks/<name>.md``; this script runs them one after the
other (never in parallel: they measure the machine) and joins the results.
``--assemble`` only joins what is there; ``--only NAME`` runs one benchmark.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
RESULTS = ROOT / "docs" / "benchmarks"
TARGET = ROOT / "docs" / "benchmarks.md"

HEADER = """# Benchmarks

Measured with `make bench` (each section names its machine and date). Speed
and memory are measured here, never in timed tests. Ratios compare runs made
side by side in one session; absolute numbers vary with the machine.

"""


def benchmarks() -> list[Path]:
    return sorted(
        p for p in BENCH.glob("*.py") if p.name not in {"run.py"} and not p.name.startswith("_")
    )


def assemble() -> None:
    sections = [p.read_text(encoding="utf-8").strip() for p in sorted(RESULTS.glob("*.md"))]
    TARGET.write_text(HEADER + "\n\n".join(sections) + "\n", encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)} ({len(sections)} sections)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--assemble", action="store_true", help="only join existing results")
    parser.add_argument("--only", metavar="NAME", help="run only bench/NAME.py")
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    failed = []
    began = time.perf_counter()
    if not args.assemble:
        for script in benchmarks():
            if args.only and script.stem != args.only:
                continue
            print(f"== {script.stem} (load average {os.getloadavg()[0]:.1f})", flush=True)
            started = time.perf_counter()
            if subprocess.run([sys.executable, str(script)], cwd=ROOT).returncode != 0:
                failed.append(script.stem)
            print(f"== {script.stem}: {time.perf_counter() - started:.0f} s", flush=True)
        print(f"== all: {(time.perf_counter() - began) / 60:.1f} min", flush=True)
    assemble()
    if failed:
        print("failed: " + ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
