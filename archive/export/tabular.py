"""Export records as jsonl (one JSON object a line) or csv (the same columns, lists JSON-encoded)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from typing import IO, Any

from .records import FIELDS
from .scope import Progress, counted


def write_jsonl(
    records: Iterable[dict[str, Any]], out: IO[str], progress: Progress | None = None
) -> int:
    """One JSON object a line; returns how many."""
    count = 0
    for record in counted(records, progress):
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        count += 1
    return count


def csv_cell(value: Any) -> Any:
    """A record value as a CSV cell: lists JSON-encoded, booleans ``true``/``false``, null empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return value


def write_csv(
    records: Iterable[dict[str, Any]], out: IO[str], progress: Progress | None = None
) -> int:
    """A header of the record fields, then one row per record; returns how many."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(FIELDS)
    count = 0
    for record in counted(records, progress):
        writer.writerow([csv_cell(record[name]) for name in FIELDS])
        count += 1
    return count
