"""Export records as a CSV 4CAT imports: its five columns first, then the whole record.

4CAT's "import CSV" takes any CSV whose columns include ``id``, ``thread_id``,
``author``, ``body`` and ``timestamp``; this one starts with them, made from
the record:

- ``id``: ``CHANNEL/POST_ID`` (``CHANNEL/POST_ID/vN`` with ``--all-versions``,
  so every row's id is its own);
- ``thread_id``: the post it replies to, as ``CHANNEL/POST_ID`` (from its
  ``reply_to`` URL), else its own ``CHANNEL/POST_ID``: a reply shares its
  thread with the post it answers;
- ``author``: the channel (a channel's posts are the channel's);
- ``body``: the clean text;
- ``timestamp``: when it was published, as ``YYYY-MM-DD HH:MM:SS`` in UTC
  (when it was captured, for a post without a date).

The record's own fields follow, as ``--format csv`` writes them (lists as
JSON, text cells neutralised unless ``raw``).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import UTC
from typing import IO, Any

from ..source import telegram_post_parts
from ..times import to_datetime
from .cells import BOM
from .records import FIELDS
from .scope import Progress, counted
from .tabular import csv_cell

#: The columns 4CAT's CSV import asks for, first in the file.
FOURCAT_COLUMNS = ["id", "thread_id", "author", "body", "timestamp"]


def _post_ref(url: str | None) -> str | None:
    """``CHANNEL/POST_ID`` of a Telegram post URL (``t.me/NAME/ID``, ``/s/NAME/ID``), or None."""
    try:
        found = telegram_post_parts(url) if url else None
    except ValueError:
        return None
    if found is None or not found[1].isdigit():
        return None
    return f"{found[0].lower()}/{found[1]}"


def _timestamp(record: dict[str, Any]) -> str:
    when = to_datetime(record.get("published_at")) or to_datetime(record.get("captured_at"))
    if when is None:
        return ""
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def fourcat_columns(record: dict[str, Any], *, all_versions: bool = False) -> list[Any]:
    """The five 4CAT columns of a record."""
    own = f"{record['channel']}/{record['post_id']}"
    row_id = f"{own}/v{record['version']}" if all_versions else own
    thread = _post_ref(record.get("reply_to")) or own
    return [row_id, thread, record["channel"], record.get("text") or "", _timestamp(record)]


def write_fourcat_csv(
    records: Iterable[dict[str, Any]],
    out: IO[str],
    progress: Progress | None = None,
    *,
    all_versions: bool = False,
    raw: bool = False,
    excel: bool = False,
) -> int:
    """4CAT's columns, then the record's, one row per record; returns how many."""
    if excel:
        out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(FOURCAT_COLUMNS + FIELDS)
    count = 0
    for record in counted(records, progress):
        first = fourcat_columns(record, all_versions=all_versions)
        writer.writerow([csv_cell(v, raw=raw) for v in first + [record[n] for n in FIELDS]])
        count += 1
    return count
