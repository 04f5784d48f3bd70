"""Export records as Parquet: one row per record, the record's fields as typed columns.

The same records, fields and order as jsonl (:data:`.records.FIELDS`); the
lists and objects are Parquet's own nested types, so pandas, pyarrow and
DuckDB read them without parsing JSON:

- ``links``: a list of strings;
- ``media``: a list of structs ``{type, url, sha256, size, content_type,
  thumb: {url, sha256, size, content_type}}`` (a key the jsonl record leaves
  out is null here);
- ``reactions``: a map of emoji to count (null when the page showed none).

Times stay the ISO 8601 text of the jsonl record (with their offsets, which
a Parquet timestamp would drop); ``version`` and ``views`` are 64-bit
integers, ``edited`` a boolean.

The records are written in row groups of :data:`ROW_GROUP` rows: one group
is held in memory at a time, so memory stays flat whatever the archive's size.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import IO, Any

import pyarrow as pa
import pyarrow.parquet as pq

from .records import FIELDS
from .scope import Progress, counted

#: Rows per row group: what is held in memory at once.
ROW_GROUP = 10_000

_FILE = pa.struct(
    [
        ("url", pa.string()),
        ("sha256", pa.string()),
        ("size", pa.int64()),
        ("content_type", pa.string()),
    ]
)
_MEDIA = pa.struct(
    [
        ("type", pa.string()),
        ("url", pa.string()),
        ("sha256", pa.string()),
        ("size", pa.int64()),
        ("content_type", pa.string()),
        ("thumb", _FILE),
    ]
)
_TYPES = {
    "version": pa.int64(),
    "views": pa.int64(),
    "edited": pa.bool_(),
    "links": pa.list_(pa.string()),
    "media": pa.list_(_MEDIA),
    "reactions": pa.map_(pa.string(), pa.int64()),
}
#: The file's schema: every record field, in the record's order.
SCHEMA = pa.schema([(name, _TYPES.get(name, pa.string())) for name in FIELDS])


def _row(record: dict[str, Any]) -> dict[str, Any]:
    row = {name: record.get(name) for name in FIELDS}
    reactions = row["reactions"]
    row["reactions"] = list(reactions.items()) if reactions is not None else None
    return row


def _table(rows: list[dict[str, Any]]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=SCHEMA)


def write_parquet(
    records: Iterable[dict[str, Any]],
    out: IO[bytes],
    progress: Progress | None = None,
    *,
    row_group: int = ROW_GROUP,
) -> int:
    """The records as one Parquet file on the binary stream ``out``; returns how many."""
    count = 0
    batch: list[dict[str, Any]] = []
    with pq.ParquetWriter(out, SCHEMA, compression="zstd") as writer:
        for record in counted(records, progress):
            batch.append(_row(record))
            count += 1
            if len(batch) >= row_group:
                writer.write_table(_table(batch), row_group_size=row_group)
                batch = []
        if batch or count == 0:
            writer.write_table(_table(batch), row_group_size=row_group)
    return count


def read_records(path: str) -> list[dict[str, Any]]:
    """A Parquet export read back as records (the keys jsonl leaves out dropped): for tests
    and for checking a file."""
    records = []
    for row in pq.read_table(path).to_pylist():
        if row["reactions"] is not None:
            row["reactions"] = dict(row["reactions"])
        row["media"] = [_present(item) for item in row["media"] or []]
        records.append(row)
    return records


def _present(item: dict[str, Any] | None) -> dict[str, Any] | None:
    """A media item (or thumbnail) without the keys a jsonl record leaves out: the file's
    three only when it is archived, the thumbnail only when there is one."""
    if item is None:
        return None
    kept = {k: v for k, v in item.items() if k not in ("sha256", "size", "content_type", "thumb")}
    if item.get("sha256") is not None:
        kept.update(sha256=item["sha256"], size=item["size"], content_type=item["content_type"])
    if "thumb" in item and item["thumb"] is not None:
        kept["thumb"] = _present(item["thumb"])
    return kept
