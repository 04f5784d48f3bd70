"""Schedules: parsing ``--every 30m`` / ``--cron EXPR`` / ``--jitter S``, and the triggers they make.

A schedule is plain data (an interval in seconds or a crontab expression,
plus jitter) so it can be stored in the archive and compared; the APScheduler
trigger is made from it when the scheduler runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from archive.errors import BadInput

#: The longest interval accepted (a year); a longer one is almost surely a typo.
MAX_INTERVAL = 366 * 86400
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"(\d+)\s*([smhdw])")
# Crontab weekday names; numbers are crontab's (0 and 7 = Sunday), not APScheduler 3's (0 = Monday).
_CRON_DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class BadSchedule(BadInput):
    """A schedule that cannot be used: bad interval, bad cron expression, bad jitter."""


def parse_duration(text: str, *, what: str = "duration") -> int:
    """Seconds in ``45s``, ``30m``, ``2h``, ``1d``, ``1w``, ``1h30m`` or a bare number of seconds."""
    raw = str(text).strip().lower()
    if raw.isascii() and raw.isdigit():
        return int(raw)
    compact = raw.replace(" ", "")
    if not compact or _DURATION.sub("", compact):
        raise BadSchedule(
            f"bad {what} {text!r}: give a number with a unit, e.g. 45s, 30m, 2h, 1d or 1h30m"
        )
    return sum(int(n) * _UNITS[unit] for n, unit in _DURATION.findall(compact))


def format_duration(seconds: float | None) -> str:
    """``5400`` → ``1h30m``: the shortest spelling, the way ``--every`` takes it."""
    if seconds is None:
        return "-"
    left = int(round(seconds))
    if left == 0:
        return "0s"
    parts = []
    for unit in ("d", "h", "m", "s"):
        count, left = divmod(left, _UNITS[unit])
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


@dataclass(frozen=True)
class Schedule:
    """When a source is crawled: every N seconds, or on a crontab expression; plus jitter."""

    every: int | None = None
    cron: str | None = None
    jitter: int = 0

    def describe(self) -> str:
        text = f"every {format_duration(self.every)}" if self.every else f"cron {self.cron!r}"
        return text + (f" ±{format_duration(self.jitter)}" if self.jitter else "")


def stored_schedule(every: Any, cron: Any, jitter: Any) -> Schedule:
    """A schedule as the ``sources`` table keeps it, checked as :func:`parse_schedule` checks
    what a user types (a shared archive's table may hold anything)."""
    if every is not None and (isinstance(every, bool) or not isinstance(every, int)):
        raise BadSchedule(f"an interval of {every!r} seconds")
    if cron is not None and not isinstance(cron, str):
        raise BadSchedule(f"a cron expression {cron!r}")
    if isinstance(jitter, bool) or not isinstance(jitter, int) or jitter < 0:
        raise BadSchedule(f"a jitter of {jitter!r} seconds")
    return parse_schedule(
        None if every is None else str(every), cron, str(jitter) if jitter else None
    )


def parse_schedule(every: str | None, cron: str | None, jitter: str | None = None) -> Schedule:
    """Validate ``--every`` / ``--cron`` / ``--jitter``; raise :class:`BadSchedule` saying why."""
    if (every is None) == (cron is None):
        raise BadSchedule("give exactly one of --every (e.g. 30m) or --cron (e.g. '*/15 * * * *')")
    jitter_s = parse_duration(jitter, what="jitter") if jitter not in (None, "") else 0
    if every is not None:
        seconds = parse_duration(every, what="interval")
        if seconds < 1:
            raise BadSchedule(f"bad interval {every!r}: it must be at least 1s")
        if seconds > MAX_INTERVAL:
            raise BadSchedule(f"bad interval {every!r}: the longest is {MAX_INTERVAL // 86400}d")
        schedule = Schedule(every=seconds, jitter=jitter_s)
    else:
        expr = " ".join(cron.split())
        schedule = Schedule(cron=expr, jitter=jitter_s)
        trigger = make_trigger(schedule)  # raises BadSchedule on a bad expression
        if trigger.get_next_fire_time(None, datetime.now(trigger.timezone)) is None:
            raise BadSchedule(f"cron expression {expr!r} never fires")
    period = schedule_period(schedule)
    if jitter_s and period is not None and jitter_s >= period:
        raise BadSchedule(
            f"jitter {format_duration(jitter_s)} must be shorter than the period "
            f"({format_duration(period)})"
        )
    return schedule


def _crontab_weekdays(field: str) -> str:
    """A crontab day-of-week field as the day names it means, for APScheduler 3.

    Crontab counts 0 (and 7) as Sunday; APScheduler 3 counts 0 as Monday. The
    field is expanded to the set of days (``*``, lists, ranges, steps, names)
    and written back as names, which both read the same way.
    """
    if field == "*":
        return "*"
    days: set[int] = set()
    for part in field.lower().split(","):
        body, slash, step_text = part.partition("/")
        if slash and not (step_text.isascii() and step_text.isdigit()) or step_text == "0":
            raise BadSchedule(f"bad step {part!r} in the day-of-week field")
        step = int(step_text) if slash else 1
        if body == "*":
            lo, hi = 0, 6
        else:
            first, dash, last = body.partition("-")
            lo = _weekday_number(first)
            hi = _weekday_number(last) if dash else (6 if slash else lo)
            if dash and hi == 0 and lo > 0:
                hi = 7  # "fri-sun": a range may end on Sunday
            if hi < lo:
                raise BadSchedule(f"bad range {body!r} in the day-of-week field")
        days.update(n % 7 for n in range(lo, hi + 1, step))
    if len(days) == 7:
        return "*"
    return ",".join(_CRON_DAYS[n] for n in sorted(days))


def _weekday_number(token: str) -> int:
    token = token.strip()
    if token.isascii() and token.isdigit() and int(token) <= 7:
        return int(token)
    if token[:3] in _CRON_DAYS and len(token) == 3:
        return _CRON_DAYS.index(token)
    raise BadSchedule(f"bad day of week {token!r} in cron expression: use 0-7 or sun-sat")


def make_trigger(
    schedule: Schedule, *, every: int | None = None, timezone: tzinfo | str | None = None
) -> BaseTrigger:
    """The APScheduler trigger for ``schedule`` (``every`` overrides its interval: adaptive).

    Cron expressions are read as crontab reads them, in the local time zone
    unless ``timezone`` is given.
    """
    jitter = schedule.jitter or None
    interval = every or schedule.every
    if interval:
        return IntervalTrigger(seconds=interval, jitter=jitter, timezone=timezone)
    fields = (schedule.cron or "").split()
    if len(fields) != 5:
        raise BadSchedule(
            f"bad cron expression {schedule.cron!r}: expected 5 fields "
            "(minute hour day-of-month month day-of-week), got "
            f"{len(fields)}"
        )
    minute, hour, day, month, weekday = fields
    try:
        weekday = _crontab_weekdays(weekday)
        return CronTrigger(
            minute=minute,
            hour=hour,
            day=day,
            month=month,
            day_of_week=weekday,
            jitter=jitter,
            timezone=timezone,
        )
    except BadSchedule:
        raise
    except (ValueError, TypeError, KeyError) as exc:
        raise BadSchedule(f"bad cron expression {schedule.cron!r}: {exc}") from exc


def schedule_period(schedule: Schedule, *, every: int | None = None) -> float | None:
    """The time between two runs: the interval, or for cron the gap between its next two runs."""
    if every or schedule.every:
        return float(every or schedule.every)
    trigger = make_trigger(Schedule(cron=schedule.cron))
    now = datetime.now(trigger.timezone)
    first = trigger.get_next_fire_time(None, now)
    if first is None:
        return None
    second = trigger.get_next_fire_time(first, first + timedelta(microseconds=1))
    return (second - first).total_seconds() if second else None


def trigger_signature(trigger: BaseTrigger) -> str:
    """What makes two triggers fire at the same times: compared to tell a changed schedule."""
    jitter = getattr(trigger, "jitter", None) or 0
    if isinstance(trigger, IntervalTrigger):
        return f"interval:{trigger.interval_length:g}:jitter={jitter}"
    if isinstance(trigger, CronTrigger):
        return f"{trigger}:tz={trigger.timezone}:jitter={jitter}"
    return repr(trigger)
