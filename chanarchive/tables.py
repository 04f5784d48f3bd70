"""Rows as text: an aligned table that respects CJK widths, and json / jsonl / csv.

Chinese, Japanese and Korean characters take two columns on a terminal,
combining marks none; the table pads by display width, not by character
count, so its columns line up. Long cells are cut to a width (with ``…``)
and line breaks shown as ``⏎``: the table is for reading; json, jsonl and
csv carry every value in full.
"""

from __future__ import annotations

import base64
import csv
import json
import unicodedata
from collections.abc import Iterable, Sequence
from typing import IO, Any

ROW_FORMATS = ("table", "json", "jsonl", "csv")

#: The widest a table cell gets, in terminal columns.
DEFAULT_CELL_WIDTH = 60


def char_width(ch: str) -> int:
    """Terminal columns taken by one character: 2 for wide CJK, 0 for combining marks."""
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def display_width(text: str) -> int:
    """Terminal columns taken by ``text``."""
    return sum(char_width(ch) for ch in text)


def truncate(text: str, width: int) -> str:
    """``text`` cut to at most ``width`` columns, ending in ``…`` when cut."""
    if display_width(text) <= width:
        return text
    out, used = [], 0
    for ch in text:
        w = char_width(ch)
        if used + w > width - 1:
            break
        out.append(ch)
        used += w
    return "".join(out) + "…"


def pad(text: str, width: int, *, right: bool = False) -> str:
    """``text`` padded with spaces to ``width`` columns (on the left when ``right``)."""
    fill = " " * max(0, width - display_width(text))
    return fill + text if right else text + fill


def cell_text(value: Any) -> str:
    """How a value reads in a table cell (one line)."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    text = str(value)
    text = text.replace("\r\n", "\n").replace("\n", "⏎").replace("\t", " ")
    return "".join("�" if unicodedata.category(ch) in ("Cc", "Cs") else ch for ch in text)


def render_table(
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    cell_width: int = DEFAULT_CELL_WIDTH,
    rule: bool = True,
) -> str:
    """An aligned text table: a header, a rule (unless ``rule`` is false), one line per row.

    Columns of numbers are right-aligned.
    """
    rows = list(rows)
    cells = [[truncate(cell_text(v), cell_width) for v in row] for row in rows]
    headers = [truncate(cell_text(c), cell_width) for c in columns]
    widths = [display_width(h) for h in headers]
    for row in cells:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], display_width(cell))
    numeric = [
        bool(rows) and all(isinstance(row[i], int | float) or row[i] is None for row in rows)
        for i in range(len(columns))
    ]
    lines = ["  ".join(pad(h, widths[i]) for i, h in enumerate(headers)).rstrip()]
    if rule:
        lines.append("  ".join("-" * w for w in widths))
    for row in cells:
        line = "  ".join(pad(c, widths[i], right=numeric[i]) for i, c in enumerate(row))
        lines.append(line.rstrip())
    return "\n".join(lines) + "\n"


def json_value(value: Any) -> Any:
    """A value JSON can carry: bytes as ``{"$base64": true, "encoded": …}``."""
    if isinstance(value, bytes):
        return {"$base64": True, "encoded": base64.b64encode(value).decode("ascii")}
    return value


def csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value


def write_rows(
    columns: Sequence[str], rows: Iterable[Sequence[Any]], out: IO[str], fmt: str
) -> None:
    """Write rows in one of :data:`ROW_FORMATS`."""
    if fmt == "table":
        out.write(render_table(columns, rows))
    elif fmt == "json":
        objects = [{c: json_value(v) for c, v in zip(columns, row, strict=True)} for row in rows]
        out.write(json.dumps(objects, ensure_ascii=False, indent=2) + "\n")
    elif fmt == "jsonl":
        for row in rows:
            obj = {c: json_value(v) for c, v in zip(columns, row, strict=True)}
            out.write(json.dumps(obj, ensure_ascii=False) + "\n")
    elif fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([csv_value(v) for v in row])
    else:
        raise ValueError(f"unknown row format {fmt!r}")
