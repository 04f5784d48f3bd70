"""What a host that fails costs a crawl: time, lines of output, attempts (issue 20).

Each fault is met by one ``chanarchive crawl`` of a channel served by the
tests' loopback server (``tests/server.py``), with the failing host on
loopback too (``tests/fault_hosts.py``) or a name that does not resolve
(``tests/fakedns``, which also fences the crawl off anything beyond
loopback):

- ``hanging pictures``: one page of 20 posts, each with a picture on a host
  that accepts connections and never answers;
- ``dead-name pictures``: three pages (50 posts), their pictures on a name
  that does not resolve;
- ``dripping picture``: one post whose picture (50 KB) arrives 10 bytes a second;
- ``no network``: ``crawl @anyname`` when ``t.me`` does not resolve;
- ``refused page host`` and ``hanging page host``: a channel whose own host
  refuses connections, or never answers.

Settings are the defaults but ``DOWNLOAD_DELAY=0`` (loopback). Each crawl is
killed after ``--limit`` seconds (default 300) and then reported as not done.

``--before DIR`` also runs every fault with the code of another checkout
(``git archive main | tar -x -C DIR``) for a before/after table. Writes
docs/benchmarks/fault_costs.md (``--no-write``: only prints).
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._machine import describe_machine  # noqa: E402
from tests.conftest import start_site  # noqa: E402
from tests.fakedns import environment  # noqa: E402
from tests.fault_hosts import DrippingHost, HangingHost, RefusingPort  # noqa: E402

RESULT = ROOT / "docs" / "benchmarks" / "fault_costs.md"
DEAD = "dead.invalid"
SETTINGS = ["-s", "DOWNLOAD_DELAY=0"]


@dataclass
class Outcome:
    """One crawl's cost and what it left."""

    seconds: float
    done: bool
    status: int | None
    stderr_lines: int
    tracebacks: int
    posts: int
    stored: int
    not_stored: int
    attempts: str

    def cells(self) -> list[str]:
        took = f"{self.seconds:.1f}" if self.done else f"> {self.seconds:.0f} (killed)"
        return [
            took,
            str(self.status) if self.done else "-",
            f"{self.stderr_lines} ({self.tracebacks} tracebacks)",
            f"{self.posts} posts, {self.stored} stored, {self.not_stored} not",
            self.attempts,
        ]


def counts(db: Path) -> tuple[int, int, int]:
    """(posts, media URLs stored, media URLs not stored) of the archive ``db``."""
    if not db.exists():
        return 0, 0, 0
    conn = sqlite3.connect(db)
    try:
        posts = conn.execute("SELECT COUNT(*) FROM posts").fetchone()[0]
        stored, failed = conn.execute(
            "SELECT COUNT(*) FILTER (WHERE status = 'ok'), COUNT(*) FILTER (WHERE status != 'ok')"
            " FROM media_urls"
        ).fetchone()
    except sqlite3.Error:
        return 0, 0, 0
    finally:
        conn.close()
    return posts, stored, failed


def crawl(code: Path, tmp: Path, source: str, limit: float, names: dict | None = None):
    """Crawl ``source`` with ``code``'s chanarchive into a new archive: (outcome, DNS log)."""
    db = tmp / "archive.db"
    log = tmp / "dns.log"
    env = environment(tmp / "fence", names or {}, log=log)
    env["PYTHONPATH"] = os.pathsep.join([env["PYTHONPATH"], str(code)])
    command = [sys.executable, "-m", "chanarchive", "--db", str(db), "crawl", source,
               "--allow-private-hosts", *SETTINGS]  # fmt: skip
    started = time.monotonic()
    proc = subprocess.Popen(command, cwd=code, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        _out, err = proc.communicate(timeout=limit)
        done = True
    except subprocess.TimeoutExpired:
        proc.kill()
        _out, err = proc.communicate()
        done = False
    seconds = time.monotonic() - started
    if (tmp / "fence").exists():
        raise SystemExit(
            f"{source}: the crawl tried to leave loopback: {(tmp / 'fence').read_text()}"
        )
    lines = err.strip().splitlines()
    outcome = Outcome(seconds, done, proc.returncode, len(lines), err.count("Traceback"),
                      *counts(db), attempts="")  # fmt: skip
    looked_up = log.read_text().split() if log.exists() else []
    return outcome, looked_up


def hanging_pictures(site, code: Path, tmp: Path, limit: float) -> Outcome:
    with HangingHost() as host:
        site.control("media_channel", name="stuck", posts=20, base=host.url)
        outcome, _ = crawl(code, tmp, f"{site.url}/s/stuck", limit)
        outcome.attempts = f"{host.connections} connections"
    return outcome


def dead_name_pictures(site, code: Path, tmp: Path, limit: float) -> Outcome:
    site.control("media_channel", name="deadpics", posts=50, base=f"http://{DEAD}")
    outcome, looked_up = crawl(code, tmp, f"{site.url}/s/deadpics", limit, {DEAD: [[]]})
    outcome.attempts = f"{looked_up.count(DEAD)} look-ups"
    return outcome


def dripping_picture(site, code: Path, tmp: Path, limit: float) -> Outcome:
    with DrippingHost(size=50_000, rate=10) as drip:
        site.control("media_channel", name="drip", posts=1, base=drip.url)
        outcome, _ = crawl(code, tmp, f"{site.url}/s/drip", limit)
        outcome.attempts = f"{drip.connections} connections"
    return outcome


def no_network(site, code: Path, tmp: Path, limit: float) -> Outcome:
    outcome, looked_up = crawl(code, tmp, "@anyname", limit, {"t.me": [[]]})
    outcome.attempts = f"{looked_up.count('t.me')} look-ups"
    return outcome


def refused_page_host(site, code: Path, tmp: Path, limit: float) -> Outcome:
    with RefusingPort() as port:
        outcome, _ = crawl(code, tmp, f"{port.url}/s/gone", limit)
    outcome.attempts = "-"
    return outcome


def hanging_page_host(site, code: Path, tmp: Path, limit: float) -> Outcome:
    with HangingHost() as host:
        outcome, _ = crawl(code, tmp, f"{host.url}/s/stuck", limit)
        outcome.attempts = f"{host.connections} connections"
    return outcome


FAULTS: dict[str, Callable[..., Outcome]] = {
    "hanging pictures": hanging_pictures,
    "dead-name pictures": dead_name_pictures,
    "dripping picture": dripping_picture,
    "no network": no_network,
    "refused page host": refused_page_host,
    "hanging page host": hanging_page_host,
}


def measure(code: Path, limit: float, only: str | None) -> dict[str, Outcome]:
    results = {}
    site = start_site()
    try:
        for name, fault in FAULTS.items():
            if only and only not in name:
                continue
            with tempfile.TemporaryDirectory() as tmp:
                results[name] = fault(site, code, Path(tmp), limit)
            print(f"  {code.name or code}: {name}: {' | '.join(results[name].cells())}", flush=True)
    finally:
        site.stop()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", type=Path, help="a checkout whose code to measure too")
    parser.add_argument("--label", default="before", help="what --before's code is")
    parser.add_argument("--limit", type=float, default=300, help="kill a crawl after this (s)")
    parser.add_argument("--only", help="only the faults whose name holds this")
    parser.add_argument("--no-write", action="store_true", help="print, do not write the doc")
    args = parser.parse_args()
    runs = {}
    if args.before:
        runs[args.label] = measure(args.before.resolve(), args.limit, args.only)
    runs["now"] = measure(ROOT, args.limit, args.only)
    header = "| fault | code | seconds | exit | stderr lines | archived | attempts |"
    lines = [
        "## Faults: what a failing host costs a crawl",
        "",
        f"Measured by `bench/fault_costs.py` on {describe_machine()}.",
        "",
        "One `crawl` per fault, defaults but `DOWNLOAD_DELAY=0`, every host on loopback"
        " or a name faked not to resolve; attempts are the connections the failing host"
        " accepted, or the look-ups of the dead name; a crawl still running after"
        f" {args.limit:g} s is killed.",
        "",
        header,
        "|---|---|---:|---:|---:|---|---|",
    ]
    for name in runs["now"]:
        for label, results in runs.items():
            lines.append("| " + " | ".join([name, label, *results[name].cells()]) + " |")
    lines.append("")
    print("\n".join(lines))
    if not args.no_write:
        RESULT.parent.mkdir(parents=True, exist_ok=True)
        RESULT.write_text("\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    main()
