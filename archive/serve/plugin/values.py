"""What a page shows of a stored value: the door between the archive's rows and the templates.

An archive is a file people share, and SQLite keeps whatever was put in a
column — text in a count, a date in the year 9999, a megabyte in a title,
bytes where text was expected. Every value a page shows passes through
one of these functions, which give the templates only the types they
expect, so no single row can break a page:

- :func:`text`: any value as text, of at most ``width`` characters
  (:func:`shown` also says how long it was, for a "shortened: the whole
  value is a click away" note);
- :func:`count`: a whole number a count can be (0 to 10¹⁵), else None —
  "not a number" is shown as absent;
- :func:`iso`, :func:`moment` and :func:`day`: an ISO 8601 time or date
  from 1970 to 2100 (as data, as a page writes it, as a day), else absent: a time that does not parse, or that no crawl could
  have seen, is not drawn or written as if it were one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from ...times import readable, to_datetime

#: The years a stored time may fall in to be shown (the crawl's own door checks the same).
FIRST_YEAR, LAST_YEAR = 1970, 2100
#: The largest count shown; above it a "count" is not one.
MAX_COUNT = 10**15
#: Characters of a short piece of text: a name, a title in a list, a status.
SHORT = 200
#: Characters of a post's text shown on its page before "shortened" (a Telegram post has 4,096).
LONG = 50_000

_HEX64 = re.compile(r"[0-9a-f]{64}\Z")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Shown:
    """A piece of text as a page shows it, and whether it had to be shortened."""

    text: str
    length: int  # characters of the whole value (its bytes, for a blob)
    shortened: bool


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


def exact(value: Any) -> str:
    """``value`` as text, character for character (a name that goes into a link)."""
    return _as_text(value)


def shown(value: Any, width: int = LONG, *, length: Any = None) -> Shown:
    """``value`` as text of at most ``width`` characters, and how long it really was.

    ``length``: the whole value's length when only its start was read
    (``substr()`` in SQL); otherwise the length of ``value`` itself.
    """
    whole = _as_text(value)
    full = count(length)
    full = max(full if full is not None else len(whole), len(whole))
    cut = whole if len(whole) <= width else whole[:width]
    cut = _CONTROL.sub("", cut)
    return Shown(cut, full, full > len(cut) or len(whole) > width)


def text(value: Any, width: int = SHORT) -> str:
    """``value`` as text of at most ``width`` characters (a cut marked ``…``), on one line."""
    whole = _as_text(value)
    head = " ".join(whole[: width * 4].split())
    return head if len(head) <= width and len(whole) <= width * 4 else head[: width - 1] + "…"


def optional(value: Any, width: int = SHORT) -> str | None:
    """:func:`text`, or None for an empty value."""
    out = text(value, width)
    return out or None


def count(value: Any) -> int | None:
    """``value`` when it is a count (a whole number, 0 to 10¹⁵), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        if not value.is_integer():
            return None
        value = int(value)
    if isinstance(value, int) and 0 <= value <= MAX_COUNT:
        return value
    return None


def number(value: Any) -> int:
    """:func:`count`, with 0 for what is not a count (for sums and comparisons)."""
    return count(value) or 0


def _datetime(value: Any) -> datetime | None:
    if not isinstance(value, str) or len(value) > 64:
        return None
    when = to_datetime(value.strip())
    if when is None:
        return None
    when = when.astimezone(UTC)
    return when if FIRST_YEAR <= when.year <= LAST_YEAR else None


def moment(value: Any) -> str:
    """A stored time as a page shows it (``2026-11-27 10:00:05 UTC``, or a date alone),
    or ``""`` when it is not a time from 1970 to 2100."""
    when = _datetime(value)
    if when is None:
        return ""
    if isinstance(value, str) and "T" not in value and " " not in value.strip():
        return when.date().isoformat()
    return readable(when) + " UTC"


def iso(value: Any) -> str | None:
    """A stored time from 1970 to 2100 as ISO 8601 in UTC (a date alone stays a date), else None.

    What a page's data (and its ``.json``) holds; the template shows it with
    the ``moment`` filter (:func:`moment`).
    """
    when = _datetime(value)
    if when is None:
        return None
    if isinstance(value, str) and "T" not in value and " " not in value.strip():
        return when.date().isoformat()
    return when.isoformat()


def timestamp(value: Any) -> str | None:
    """A stored time, when it is one from 1970 to 2100, as ISO 8601 (for charts); else None."""
    when = _datetime(value)
    return when.isoformat() if when is not None else None


def day(value: Any) -> date | None:
    """A ``YYYY-MM-DD`` day from 1970 to 2100, or None."""
    if not isinstance(value, str):
        return None
    try:
        found = date.fromisoformat(value[:10])
    except ValueError:
        return None
    return found if FIRST_YEAR <= found.year <= LAST_YEAR else None


def sha256(value: Any) -> str | None:
    """``value`` when it is a sha256 in hex (a media file's name), else None."""
    return value if isinstance(value, str) and _HEX64.match(value) else None
