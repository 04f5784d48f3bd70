"""Export records as jsonl (one JSON object a line) or csv (the same columns, lists JSON-encoded).

The csv is RFC 4180's: CRLF line ends, a cell quoted when it holds a comma,
a quote or a line break (a lone carriage return included).

The jsonl carries every value exactly. The csv is meant for spreadsheets:
its text cells are neutralised (:mod:`.cells`: a cell a spreadsheet would
run as a formula gets an apostrophe in front) unless ``raw`` is asked, and
``excel`` puts a UTF-8 byte-order mark in front so that Excel reads it as
UTF-8.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from typing import IO, Any

from .cells import BOM, neutralise
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


def csv_cell(value: Any, *, raw: bool = False) -> Any:
    """A record value as a CSV cell: lists JSON-encoded, booleans ``true``/``false``, null empty.

    Text is neutralised for spreadsheets (:func:`.cells.neutralise`) unless ``raw``.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        value = json.dumps(value, ensure_ascii=False)
    if isinstance(value, str) and not raw:
        return neutralise(value)
    return value


def write_csv(
    records: Iterable[dict[str, Any]],
    out: IO[str],
    progress: Progress | None = None,
    *,
    raw: bool = False,
    excel: bool = False,
) -> int:
    """A header of the record fields, then one row per record; returns how many.

    ``raw``: cells as they are, not neutralised; ``excel``: a UTF-8 byte-order mark first.
    """
    if excel:
        out.write(BOM)
    # RFC 4180's line end: the csv module quotes a cell holding any character of the line
    # terminator, so a lone carriage return in a post is quoted too, never a row break.
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(FIELDS)
    count = 0
    for record in counted(records, progress):
        writer.writerow([csv_cell(record[name], raw=raw) for name in FIELDS])
        count += 1
    return count
