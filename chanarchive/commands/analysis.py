"""The analysis-ready exports of ``chanarchive export``: Parquet written whole or not at all."""

from __future__ import annotations

import sys

from archive.export.output import atomic_output
from archive.export.parquet import write_parquet

from ..clitools import BadUsage, is_terminal


def write_parquet_to(records, output: str | None, report) -> int:
    """``--format parquet``: to ``-o`` (a temporary file renamed into place), or to stdout
    when it is not a terminal."""
    if output:
        with atomic_output(output, binary=True) as out:
            return write_parquet(records, out, report)
    if is_terminal(sys.stdout):
        raise BadUsage("--format parquet writes a binary file: give -o FILE (or redirect stdout)")
    count = write_parquet(records, sys.stdout.buffer, report)
    sys.stdout.buffer.flush()
    return count
