"""Exports: the archive streamed out as export records (jsonl, csv), WARC or Atom.

Holds: what an export covers and its records read as a stream
(:mod:`.scope`), the export record itself, the product contract's field
names (:mod:`.records`), jsonl and csv (:mod:`.tabular`), Parquet
(:mod:`.parquet`) and 4CAT's import CSV (:mod:`.fourcat`), the raw captures
as WARC/1.1 (:mod:`.warc`, with each capture's provenance) with the
archived media files (:mod:`.media`, also written to a folder) and the
digest they share (:mod:`.digest`), that WARC packed as a WACZ for replay
tools (:mod:`.wacz`), Atom feeds of a channel's posts and of the archive's
change events (:mod:`.atom`), and the file an export is written to
(:mod:`.output`). Every export runs in constant memory.

Reads through a read-only connection and writes only to the stream it is
given.

May import: :mod:`archive.models`, :mod:`archive.errors`,
:mod:`archive.times`, :mod:`archive.source`, ``archive.__version__``,
:mod:`archive.store` (its read-only connection, stored bodies and media
files, the mark of an archive), :mod:`archive.query.changes` (the change
events the change feed is made of) and :mod:`archive.query.history` (the
marks of a word diff), :mod:`archive.query.search` (the query a feed of
keyword alerts is read with).
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
