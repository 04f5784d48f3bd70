"""Times given on the command line, made comparable with the archive's.

The archive stores its own times (``captured_at``, ``fetched_at``,
``deleted_at``, ``first_seen``, ``observed_at``) as ISO 8601 UTC with
microseconds, ``2026-11-26T10:00:00.000000+00:00``, which sort as text.
:func:`parse_time` turns what a user types into that form.
"""

from __future__ import annotations

from datetime import UTC, datetime

from .errors import BadInput


def utcnow() -> str:
    """Now, as ISO 8601 UTC with microseconds (sorts as text)."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def parse_time(text: str, *, option: str = "time") -> str:
    """``text`` (ISO 8601: a date, or a date and time, with or without offset) as archive UTC.

    A time without an offset is taken as UTC; ``Z`` works. Raises
    :class:`BadInput` naming ``option`` when ``text`` is not a time.
    """
    raw = (text or "").strip()
    if raw.endswith(("Z", "z")):
        raw = raw[:-1] + "+00:00"
    try:
        when = datetime.fromisoformat(raw)
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return when.astimezone(UTC).isoformat(timespec="microseconds")
    except (ValueError, OverflowError):
        raise BadInput(
            f"bad {option} {text!r}: give ISO 8601, e.g. 2026-11-26 or 2026-11-26T10:00:00+08:00"
        ) from None


def to_datetime(value: str | None) -> datetime | None:
    """A stored ISO 8601 time (``Z`` allowed, naive taken as UTC) as an aware datetime; None if not one."""
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        when = when if when.tzinfo else when.replace(tzinfo=UTC)
        when.astimezone(UTC)  # a time that cannot be said in UTC (year 1 or 9999 at an offset)
    except (ValueError, OverflowError):
        return None
    return when


def warc_date(stamp: str) -> str:
    """An archive time as a WARC/1.1 date: UTC, ``Z``, microseconds when there are any."""
    when = to_datetime(stamp)
    if when is None:
        raise ValueError(f"not a time: {stamp!r}")
    when = when.astimezone(UTC)
    spec = "microseconds" if when.microsecond else "seconds"
    return when.replace(tzinfo=None).isoformat(timespec=spec) + "Z"
