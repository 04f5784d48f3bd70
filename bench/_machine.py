"""What every benchmark report says about the machine it ran on."""

from __future__ import annotations

import os
import platform
import sqlite3
from pathlib import Path


def describe_machine(*extra: str) -> str:
    """OS, CPU model and cores, RAM, Python and SQLite versions, plus ``extra`` items."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        ram = f", {kib / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    parts = [
        f"{platform.platform()}",
        f"{cpu} ({os.cpu_count()} cores){ram}",
        f"Python {platform.python_version()}",
        f"SQLite {sqlite3.sqlite_version}",
        *extra,
    ]
    return "; ".join(parts)
