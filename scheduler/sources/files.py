"""Files of sources: what ``sources import`` reads and ``sources export`` writes.

Three formats, told apart by the file's name or its first lines:

- **text**: one SOURCE a line; blank lines and ``#`` comments (whole lines,
  or after a space) are skipped. Schedules come from the command line.
- **CSV** with a header row naming a ``source`` column (or ``url`` /
  ``channel``); the other columns :data:`COLUMNS` (``every``, ``cron``,
  ``paused``, ``settings`` …) are each line's own options, over the command
  line's; columns not known here are ignored. ``sources export`` writes
  this format, every column filled in: importing it back gives the same
  schedule. Its cells are neutralised for spreadsheets as the export's are
  (:mod:`archive.export.cells`: a cell a spreadsheet would run as a formula
  gets an apostrophe in front), and reading takes that mark off again; a
  UTF-8 byte-order mark in front (``--excel``, or a file saved by Excel) is
  read as nothing.
- **OPML** (a feed reader's export): every ``<outline>`` with a link is a
  source — its ``source`` attribute, else its ``htmlUrl``, else its
  ``xmlUrl`` (an RSSHub ``…/telegram/channel/NAME`` feed is ``@NAME``);
  outlines may carry the same attributes as the CSV columns.

Reading checks nothing but the format; each line keeps its number, so
whatever is wrong with it later is reported at its line.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePath

from lxml import etree

from archive.errors import BadInput
from archive.export.cells import BOM, neutralise, restore
from crawler.options import SCHEDULED

from .scheduled import ScheduledSource
from .schedules import format_duration

FORMATS = ("txt", "csv", "opml")
#: The columns of a CSV file (and attributes of an OPML outline), in the order export writes them.
COLUMNS = (
    "source", "every", "cron", "jitter", "adaptive", "min", "max", "time_limit", "paused",
    "match", *SCHEDULED,
)  # fmt: skip
#: Header names taken for the source column, in order of preference.
SOURCE_COLUMNS = ("source", "url", "channel")
#: An RSSHub feed of a Telegram channel: its channel is the source.
_RSSHUB = re.compile(r"/telegram/channel/([A-Za-z][A-Za-z0-9_]{2,31})/?$")


class BadLine(BadInput):
    """A line of a sources file that cannot be imported."""


@dataclass
class SourceLine:
    """One source as a file gives it: its line, the SOURCE, and its own columns."""

    line: int
    source: str
    fields: dict[str, str]


def detect_format(name: str, text: str) -> str:
    """``txt``, ``csv`` or ``opml``, from the file name, else from its first lines."""
    suffix = PurePath(name).suffix.lower()
    if suffix in (".opml", ".xml"):
        return "opml"
    if suffix in (".csv", ".tsv"):
        return "csv"
    start = text.lstrip()[:200].lower()
    if start.startswith(("<?xml", "<opml")):
        return "opml"
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            header = [cell.strip().lower() for cell in next(csv.reader([stripped]))]
            return "csv" if any(c in SOURCE_COLUMNS for c in header) and len(header) > 1 else "txt"
    return "txt"


def read_sources(name: str, data: bytes, fmt: str = "auto") -> list[SourceLine]:
    """The sources in file ``name`` (its bytes ``data``), each with its line number."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise BadLine(f"{name} line {line}: not UTF-8 text") from None
    if fmt == "auto":
        fmt = detect_format(name, text)
    if fmt == "opml":
        return _read_opml(name, data)
    if fmt == "csv":
        return _read_csv(name, text)
    return _read_text(text)


def _read_text(text: str) -> list[SourceLine]:
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        source = re.split(r"\s#", line, maxsplit=1)[0].strip()
        if source and not source.startswith("#"):
            found.append(SourceLine(number, source, {}))
    return found


def _read_csv(name: str, text: str) -> list[SourceLine]:
    lines = text.splitlines(keepends=True)
    start = 0  # comment lines before the header are allowed
    while start < len(lines) and (
        not lines[start].strip() or lines[start].lstrip().startswith("#")
    ):
        start += 1
    reader = csv.reader(io.StringIO("".join(lines[start:])))
    try:
        header = [cell.strip().lower() for cell in next(reader)]
    except StopIteration:
        return []
    column = next((c for c in SOURCE_COLUMNS if c in header), None)
    if column is None:
        raise BadLine(
            f"{name} line {start + 1}: a CSV file needs a 'source' column in its header row"
        )
    found = []
    try:
        for row in reader:
            number = start + reader.line_num
            if not any(cell.strip() for cell in row) or row[0].lstrip().startswith("#"):
                continue
            if len(row) > len(header):
                raise BadLine(
                    f"{name} line {number}: {len(row)} cells, the header has {len(header)}"
                )
            cells = dict(zip(header, (restore(cell) for cell in row), strict=False))
            source = (cells.pop(column, "") or "").strip()
            if not source:
                raise BadLine(f"{name} line {number}: no source in the {column!r} column")
            fields = {k: v for k, v in cells.items() if k in COLUMNS and k != "source"}
            found.append(SourceLine(number, source, fields))
    except csv.Error as exc:
        raise BadLine(f"{name} line {start + reader.line_num}: bad CSV: {exc}") from None
    return found


def _read_opml(name: str, data: bytes) -> list[SourceLine]:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        line = exc.lineno or 1
        raise BadLine(f"{name} line {line}: not OPML: {exc.msg}") from None
    found = []
    for outline in root.iter("outline"):
        attrs = {k: v for k, v in outline.attrib.items() if isinstance(k, str)}
        source = _outline_source(attrs)
        if source is None:
            continue  # a folder of outlines
        fields = {k: v for k, v in attrs.items() if k in COLUMNS and k != "source"}
        found.append(SourceLine(outline.sourceline or 0, source, fields))
    return found


def _outline_source(attrs: dict[str, str]) -> str | None:
    if attrs.get("source", "").strip():
        return attrs["source"].strip()
    html, xml = attrs.get("htmlUrl", "").strip(), attrs.get("xmlUrl", "").strip()
    if xml and (match := _RSSHUB.search(xml.split("?")[0])):
        return "@" + match.group(1)
    return html or xml or attrs.get("url", "").strip() or None


# -- writing --------------------------------------------------------------------


def source_fields(source: ScheduledSource) -> dict[str, str]:
    """A source as a row of :data:`COLUMNS`: everything ``sources import`` needs to restore it."""
    adaptive = source.adaptive
    return {
        "source": source.key,
        "every": format_duration(source.schedule.every) if source.schedule.every else "",
        "cron": source.schedule.cron or "",
        "jitter": format_duration(source.schedule.jitter) if source.schedule.jitter else "",
        "adaptive": "yes" if adaptive else "",
        "min": format_duration(adaptive.min_seconds) if adaptive else "",
        "max": format_duration(adaptive.max_seconds) if adaptive else "",
        "time_limit": format_duration(source.time_limit) if source.time_limit else "",
        "paused": "yes" if source.paused else "",
        "match": source.match.text if source.match else "",
        **source.crawl.to_text(),
    }


def write_sources(
    sources: list[ScheduledSource], fmt: str = "csv", *, raw: bool = False, excel: bool = False
) -> Iterator[str]:
    """``sources`` as a file ``sources import`` reads, in pieces to write one after another.

    csv: cells neutralised for spreadsheets unless ``raw``; ``excel``: a UTF-8
    byte-order mark first.
    """
    if fmt == "csv":
        if excel:
            yield BOM
        yield from _write_csv(sources, raw=raw)
    elif fmt == "opml":
        yield from _write_opml(sources)
    else:
        yield "# chanarchive sources: one a line (schedules are kept by the csv format)\n"
        for source in sources:
            yield source.key + "\n"


def _write_csv(sources: list[ScheduledSource], *, raw: bool = False) -> Iterator[str]:
    buffer = io.StringIO()
    # CRLF, as RFC 4180 has it: a cell holding a lone carriage return is quoted too.
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for source in sources:
        fields = source_fields(source)
        writer.writerow(
            fields
            if raw
            else {k: neutralise(v) if isinstance(v, str) else v for k, v in fields.items()}
        )
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def _write_opml(sources: list[ScheduledSource]) -> Iterator[str]:
    yield '<?xml version="1.0" encoding="UTF-8"?>\n<opml version="2.0">\n'
    yield "  <head><title>chanarchive sources</title></head>\n  <body>\n"
    for source in sources:
        outline = etree.Element("outline", text=source.key, type="link", htmlUrl=source.url)
        for name, value in source_fields(source).items():
            if value:
                outline.set(name, value)
        yield "    " + etree.tostring(outline, encoding="unicode") + "\n"
    yield "  </body>\n</opml>\n"
