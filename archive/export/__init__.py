"""Exports: the archive streamed out as export records (jsonl, csv), WARC or Atom.

Holds: what an export covers and its records read as a stream
(:mod:`.scope`), the export record itself, the product contract's field
names (:mod:`.records`), jsonl and csv (:mod:`.tabular`), the raw captures
as WARC/1.1 (:mod:`.warc`), and Atom feeds of a channel's posts and of
the archive's change events (:mod:`.atom`). Every export runs in
constant memory.

Reads through a read-only connection and writes only to the stream it is
given. May import: :mod:`archive.models`, :mod:`archive.errors`,
:mod:`archive.times`, :mod:`archive.store` (for its read-only connection),
:mod:`archive.query.changes` (the change events the change feed is made of).
"""

from .records import FIELDS, record_from_post, record_from_row
from .scope import ExportScope, iter_scope
from .tabular import write_csv, write_jsonl

__all__ = [
    "FIELDS",
    "ExportScope",
    "iter_scope",
    "record_from_post",
    "record_from_row",
    "write_csv",
    "write_jsonl",
]
