"""The archive's times: the one place they are made, read and shown.

The archive stores its own times (``captured_at``, ``fetched_at``,
``deleted_at``, ``first_seen``, ``observed_at``) as ISO 8601 UTC with
microseconds, ``2026-11-26T10:00:00.000000+00:00``, which sort as text; the
times a schedule sets (``next_run_at``) are whole seconds. :func:`utcnow`
and :func:`to_stamp` make them, :func:`to_datetime` reads one back,
:func:`parse_time` turns what a user types into that form, and
:func:`readable`, :func:`warc_date` and :func:`rfc3339` show one to people,
to WARC tools and to feed readers.
"""

from __future__ import annotations

from datetime import UTC, datetime

from .errors import BadInput


def utcnow() -> str:
    """Now, as ISO 8601 UTC with microseconds (sorts as text)."""
    return to_stamp(datetime.now(UTC))


def to_stamp(when: datetime, *, seconds: bool = False) -> str:
    """``when`` as the archive writes it: ISO 8601 UTC with microseconds (naive taken as UTC).

    With ``seconds``, to the whole second (``2026-11-26T10:00:00+00:00``), as
    the scheduler keeps the times it sets.
    """
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    return when.astimezone(UTC).isoformat(timespec="seconds" if seconds else "microseconds")


def parse_time(text: str, *, option: str = "time") -> str:
    """``text`` (ISO 8601: a date, or a date and time, with or without offset) as archive UTC.

    A time without an offset is taken as UTC; ``Z`` works. Raises
    :class:`BadInput` naming ``option`` when ``text`` is not a time.
    """
    raw = (text or "").strip()
    if raw.endswith(("Z", "z")):
        raw = raw[:-1] + "+00:00"
    try:
        return to_stamp(datetime.fromisoformat(raw))
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


def rfc3339(value: str | None) -> str | None:
    """An ISO 8601 time as RFC 3339 (a date alone becomes midnight UTC); None if it is not one."""
    when = to_datetime(value)
    return when.isoformat() if when else None


def readable(when: str | datetime, *, seconds: bool = True) -> str:
    """An archive time as people read it, in UTC: ``2026-11-27 10:00:05`` (or to the minute).

    A text that is not a time is given back as it is.
    """
    moment = to_datetime(when) if isinstance(when, str) else when
    if moment is None:
        return str(when)
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
