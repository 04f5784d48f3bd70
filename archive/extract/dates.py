"""Reading a post's published time from the text a page shows.

Mirror pages show times as ``2023-02-18 15:01:39``, ``2023-02-1815:01:39(1)``
(a card: date, time and a count run together), ``2023年2月18日 15:01``,
``Feb 18, 2023 at 15:01`` or an ISO 8601 ``datetime`` attribute. The result
is always ISO 8601 with an offset: a time without one gets the profile's
``timezone`` (default UTC), a bare date is taken as midnight.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}
_TIME = r"(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2}))?(?:\.\d+)?\s*(?P<ampm>[ap]\.?m\.?)?"
_OFFSET = r"(?P<tz>Z|[+-]\d{2}:?\d{2})?"
_NUMERIC = re.compile(
    r"(?<!\d)(?P<y>(?:19|20)\d{2})\s*[-/.年]\s*(?P<mo>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})(?!\d{3})\s*日?"
    rf"(?:\s*T?\s*{_TIME}{_OFFSET})?",
    re.IGNORECASE,
)
_ENGLISH = re.compile(
    r"(?:(?P<mname>[A-Za-z]{3,9})\.?\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<y>(?:19|20)\d{2})"
    r"|(?P<d2>\d{1,2})(?:st|nd|rd|th)?\s+(?P<mname2>[A-Za-z]{3,9})\.?,?\s+(?P<y2>(?:19|20)\d{2}))"
    rf"(?:,?\s*(?:at\s*)?{_TIME})?",
    re.IGNORECASE,
)


def _offset(text: str | None, default: str) -> timezone:
    value = (text or default).upper()
    if value in ("Z", "UTC"):
        return UTC
    sign = -1 if value.startswith("-") else 1
    digits = value[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0)))


def _build(groups: dict, year: str, month: int, day: str, tz_default: str) -> str | None:
    hour = int(groups.get("h") or 0)
    ampm = (groups.get("ampm") or "").lower().replace(".", "")
    if ampm == "pm" and hour < 12:
        hour += 12
    elif ampm == "am" and hour == 12:
        hour = 0
    try:
        when = datetime(
            int(year),
            month,
            int(day),
            hour,
            int(groups.get("mi") or 0),
            int(groups.get("s") or 0),
            tzinfo=_offset(groups.get("tz"), tz_default),
        )
    except ValueError:
        return None
    return when.isoformat()


def find_time(text: str, tz: str = "+00:00") -> str | None:
    """The first date (with its time, if any) written in ``text``, as ISO 8601 with offset."""
    if not text:
        return None
    match = _NUMERIC.search(text)
    if match:
        g = match.groupdict()
        return _build(g, g["y"], int(g["mo"]), g["d"], tz)
    match = _ENGLISH.search(text)
    if match:
        g = match.groupdict()
        month = _MONTHS.get((g["mname"] or g["mname2"] or "").lower())
        if month:
            return _build(g, g["y"] or g["y2"], month, g["d"] or g["d2"], tz)
    return None
