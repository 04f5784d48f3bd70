"""The archive's times, made, read and shown in one place (``archive.times``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from archive.times import readable, rfc3339, to_datetime, to_stamp, utcnow

BEIJING = timezone(timedelta(hours=8))


def test_a_stamp_is_utc_with_microseconds_or_whole_seconds() -> None:
    when = datetime(2026, 11, 26, 18, 0, 5, 120, tzinfo=BEIJING)
    assert to_stamp(when) == "2026-11-26T10:00:05.000120+00:00"
    assert to_stamp(when, seconds=True) == "2026-11-26T10:00:05+00:00"
    assert to_stamp(datetime(2026, 11, 26, 10)) == "2026-11-26T10:00:00.000000+00:00"  # naive: UTC


def test_now_is_a_stamp_that_reads_back() -> None:
    now = utcnow()
    assert now.endswith("+00:00") and len(now) == len("2026-11-26T10:00:00.000000+00:00")
    assert to_stamp(to_datetime(now)) == now


def test_a_time_shown_to_people_is_utc_without_the_t() -> None:
    assert readable("2026-11-27T10:00:05.123456+00:00") == "2026-11-27 10:00:05"
    assert readable("2026-11-27T18:00:05+08:00", seconds=False) == "2026-11-27 10:00"
    assert readable(datetime(2026, 11, 27, 10, 0, 5, tzinfo=UTC)) == "2026-11-27 10:00:05"
    assert readable("not a time") == "not a time"


def test_feeds_get_rfc3339() -> None:
    assert rfc3339("2026-11-27T18:00:05+08:00") == "2026-11-27T18:00:05+08:00"
    assert rfc3339("2026-11-27") == "2026-11-27T00:00:00+00:00"
    assert rfc3339("yesterday") is None
