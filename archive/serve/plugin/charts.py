"""Charts drawn on the server as SVG: no script, no CDN, nothing fetched by the browser.

:func:`activity_chart` draws a channel's activity (posts, edits, deletions)
as three rows of bars on one time axis; :func:`line_chart` draws counts
over time (a post's views, its reactions). Every piece of text that goes
into the SVG is escaped: channel names, emoji and labels come from the
archive, which comes from pages nobody vetted.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from ...query.channels import DayActivity
from ...times import readable, to_datetime

WIDTH = 760
ROW_HEIGHT = 56
LEFT = 96  # room for the row labels
RIGHT = 16

#: Colours of the series (posts, edits, deletions; then the lines of a line chart).
COLOURS = {"posts": "#2f6f9f", "edits": "#d97a00", "deletions": "#c0392b"}
PALETTE = ("#2f6f9f", "#d97a00", "#2e8b57", "#8e44ad", "#c0392b", "#7f8c8d", "#b8860b")


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _f(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


# ---------------------------------------------------------------- activity


@dataclass(frozen=True)
class Bucket:
    """A stretch of time on the activity chart, and what happened in it."""

    start: date
    label: str  # how the bucket is named in a tooltip
    posts: int = 0
    edits: int = 0
    deletions: int = 0


def _bucket_start(day: date, unit: str) -> date:
    if unit == "week":
        return day - timedelta(days=day.weekday())
    if unit == "month":
        return day.replace(day=1)
    return day


def _next(start: date, unit: str) -> date:
    if unit == "week":
        return start + timedelta(days=7)
    if unit == "month":
        return (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start + timedelta(days=1)


def buckets(days: Sequence[DayActivity], *, until: date | None = None) -> tuple[str, list[Bucket]]:
    """The activity in buckets of a day, a week or a month (whichever keeps the bars readable).

    Returns the unit and every bucket from the first active day to
    ``until`` (default: the last active day), empty ones included.
    """
    parsed = []
    for d in days:
        try:
            parsed.append((date.fromisoformat(d.day), d))
        except ValueError:
            continue
    if not parsed:
        return "day", []
    first = parsed[0][0]
    last = max(parsed[-1][0], until or parsed[-1][0])
    span = (last - first).days
    unit = "day" if span <= 92 else "week" if span <= 2 * 365 else "month"
    totals: dict[date, list[int]] = {}
    for day, d in parsed:
        counts = totals.setdefault(_bucket_start(day, unit), [0, 0, 0])
        counts[0] += d.posts
        counts[1] += d.edits
        counts[2] += d.deletions
    out = []
    start = _bucket_start(first, unit)
    while start <= last:
        posts, edits, deletions = totals.get(start, (0, 0, 0))
        label = {
            "day": start.isoformat(),
            "week": f"week of {start.isoformat()}",
            "month": start.strftime("%Y-%m"),
        }[unit]
        out.append(Bucket(start, label, posts, edits, deletions))
        start = _next(start, unit)
    return unit, out


def activity_chart(days: Sequence[DayActivity], *, until: date | None = None) -> str:
    """Posts, edits and deletions over time: three rows of bars sharing one time axis."""
    unit, found = buckets(days, until=until)
    rows = (("posts", "posts"), ("edits", "edits"), ("deletions", "deletions"))
    height = ROW_HEIGHT * len(rows) + 28
    label = f"Activity per {unit}: posts, edits and deletions"
    parts = [
        f'<svg class="chart activity" xmlns="http://www.w3.org/2000/svg" role="img"'
        f' viewBox="0 0 {WIDTH} {height}" width="100%" preserveAspectRatio="xMinYMin meet"'
        f' aria-label="{_e(label)}" data-unit="{unit}" data-buckets="{len(found)}">',
        f"<title>{_e(label)}</title>",
    ]
    if not found:
        parts.append(f'<text x="{LEFT}" y="30" class="empty">Nothing archived yet.</text></svg>')
        return "".join(parts)
    plot = WIDTH - LEFT - RIGHT
    step = plot / len(found)
    gap = min(2.0, step * 0.2)
    for r, (attr, noun) in enumerate(rows):
        top = r * ROW_HEIGHT + 6
        base = top + ROW_HEIGHT - 16
        values = [getattr(b, attr) for b in found]
        peak = max(values) or 1
        total = sum(values)
        parts.append(
            f'<g class="series {attr}" data-total="{total}">'
            f'<text x="0" y="{_f(base - 14)}" class="label">{_e(noun)}</text>'
            f'<text x="0" y="{_f(base)}" class="total">{total:,} in all</text>'
            f'<line x1="{LEFT}" y1="{_f(base)}" x2="{WIDTH - RIGHT}" y2="{_f(base)}" class="axis"/>'
        )
        for i, (bucket, value) in enumerate(zip(found, values, strict=True)):
            if not value:
                continue
            h = max(2.0, (base - top - 10) * value / peak)
            parts.append(
                f'<rect x="{_f(LEFT + i * step + gap / 2)}" y="{_f(base - h)}"'
                f' width="{_f(max(step - gap, 1.0))}" height="{_f(h)}" fill="{COLOURS[attr]}">'
                f"<title>{_e(bucket.label)}: {value:,} {_e(noun if value != 1 else noun[:-1])}"
                "</title></rect>"
            )
        parts.append(
            f'<text x="{WIDTH - RIGHT}" y="{_f(top + 8)}" class="peak" text-anchor="end">'
            f"max {peak if total else 0:,} per {unit}</text></g>"
        )
    axis_y = ROW_HEIGHT * len(rows) + 18
    parts.append(
        f'<text x="{LEFT}" y="{axis_y}" class="tick">{_e(found[0].label)}</text>'
        f'<text x="{WIDTH - RIGHT}" y="{axis_y}" class="tick" text-anchor="end">'
        f"{_e(found[-1].label)}</text>"
    )
    parts.append("</svg>")
    return "".join(parts)


# ------------------------------------------------------------------ lines


def _seconds(stamp: str) -> float | None:
    when = to_datetime(stamp)
    return when.timestamp() if when else None


def _short_time(stamp: float, *, seconds: bool = False) -> str:
    return readable(datetime.fromtimestamp(stamp, UTC), seconds=seconds)


def line_chart(
    series: dict[str, Sequence[tuple[str, int]]], *, label: str, css_class: str = "views"
) -> str:
    """Counts over time, one line per series (name → ``[(ISO time, count), …]``)."""
    points = {
        name: [(t, v) for t, v in ((_seconds(at), value) for at, value in values) if t is not None]
        for name, values in series.items()
    }
    points = {name: values for name, values in points.items() if values}
    height = 200
    top, bottom = 14, height - 34
    parts = [
        f'<svg class="chart line {_e(css_class)}" xmlns="http://www.w3.org/2000/svg" role="img"'
        f' viewBox="0 0 {WIDTH} {height}" width="100%" preserveAspectRatio="xMinYMin meet"'
        f' aria-label="{_e(label)}" data-series="{len(points)}">',
        f"<title>{_e(label)}</title>",
    ]
    if not points:
        parts.append(f'<text x="{LEFT}" y="40" class="empty">No counts seen yet.</text></svg>')
        return "".join(parts)
    times = [t for values in points.values() for t, _ in values]
    counts = [v for values in points.values() for _, v in values]
    t0, t1 = min(times), max(times)
    fine = t1 - t0 < 3600  # minutes would not tell the points apart
    peak = max(counts) or 1
    plot = WIDTH - LEFT - RIGHT

    def x(t: float) -> float:
        return LEFT + (plot * (t - t0) / (t1 - t0) if t1 > t0 else plot / 2)

    def y(v: float) -> float:
        return bottom - (bottom - top) * v / peak

    parts.append(
        f'<line x1="{LEFT}" y1="{bottom}" x2="{WIDTH - RIGHT}" y2="{bottom}" class="axis"/>'
        f'<text x="{LEFT - 6}" y="{_f(y(peak) + 4)}" class="tick" text-anchor="end">{peak:,}</text>'
        f'<text x="{LEFT - 6}" y="{bottom + 4}" class="tick" text-anchor="end">0</text>'
        f'<text x="{LEFT}" y="{height - 14}" class="tick">{_e(_short_time(t0, seconds=fine))}</text>'
        f'<text x="{WIDTH - RIGHT}" y="{height - 14}" class="tick" text-anchor="end">'
        f"{_e(_short_time(t1, seconds=fine))}</text>"
    )
    for n, (name, values) in enumerate(points.items()):
        colour = PALETTE[n % len(PALETTE)]
        coords = " ".join(f"{_f(x(t))},{_f(y(v))}" for t, v in values)
        parts.append(f'<g class="series" data-name="{_e(name)}" data-points="{len(values)}">')
        if len(values) > 1:
            parts.append(
                f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="2"/>'
            )
        for t, v in values:
            parts.append(
                f'<circle cx="{_f(x(t))}" cy="{_f(y(v))}" r="3.5" fill="{colour}">'
                f"<title>{_e(name)}: {v:,} at {_e(_short_time(t, seconds=fine))} UTC</title></circle>"
            )
        last_t, last_v = values[-1]
        parts.append(
            f'<text x="{_f(min(x(last_t) + 6, WIDTH - RIGHT))}" y="{_f(y(last_v) - 6)}"'
            f' class="legend" fill="{colour}" text-anchor="end">{_e(name)} {last_v:,}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)
