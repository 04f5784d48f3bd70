"""The Scrapy settings a user may change with ``-s``, and the few a stored source may carry.

A table (:data:`TUNABLES`): each setting's name, the kind of value it takes
and its bounds, and whether a scheduled source may keep it (``stored``).
``-s NAME=VALUE`` on ``crawl`` and ``worker`` takes only the settings named
here, each checked against its kind and bounds (:func:`check_setting`):
nothing that names a class, a module, a file or a reactor (they would run
code or write where a value says), and no value Scrapy would choke on or
wait on for ever (``LOG_LEVEL=NOPE``, ``DOWNLOAD_DELAY=1e308``).

Scheduled sources live in the archive file and in sources files, which
people share: a source keeps only the *politeness* settings marked
``stored`` (delays, timeouts, retries, concurrency per host, a side
fetch's bounds, the user agent), never anything that changes what runs or
where it writes.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: A Scrapy setting's name, as ``-s NAME=VALUE`` takes it.
SETTING_NAME = re.compile(r"[A-Z][A-Z0-9_]{0,63}")
#: Levels ``LOG_LEVEL`` takes.
LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")
#: The longest delay or timeout taken, in seconds (an hour); longer is a typo or an attack.
MAX_SECONDS = 3600.0


@dataclass(frozen=True)
class Tunable:
    """A setting ``-s`` may change: what it takes, and whether a stored source may keep it."""

    name: str
    check: Callable[[str], str | None]  # why a value is refused (None: taken)
    stored: bool = False


def _number(lo: float, hi: float, *, whole: bool = False, above: bool = False):
    kind = "a whole number" if whole else "a number"

    def check(value: str) -> str | None:
        try:
            number = int(value) if whole else float(value)
        except ValueError:
            return f"takes {kind}, not {value!r}"
        if math.isnan(number) or number < lo or number > hi or (above and number <= lo):
            low = f"above {lo:g}" if above else f"{lo:g}"
            return f"takes {kind} from {low} to {hi:g}, not {value!r}"
        return None

    return check


def _flag(value: str) -> str | None:
    if value.strip().lower() not in ("0", "1", "true", "false"):
        return f"takes true or false, not {value!r}"
    return None


def _choice(*choices: str):
    said = ", ".join(choices[:-1]) + f" or {choices[-1]}"

    def check(value: str) -> str | None:
        return None if value in choices else f"takes {said}, not {value!r}"

    return check


def _text(limit: int):
    def check(value: str) -> str | None:
        if len(value) > limit or not value.isprintable():
            return f"takes printable text of at most {limit} characters"
        return None

    return check


def _slots(value: str) -> str | None:
    """``DOWNLOAD_SLOTS``: ``{"host": {"concurrency": N, "delay": S}}``."""
    try:
        slots = json.loads(value)
    except ValueError:
        return f"takes a JSON object, not {value!r}"
    if not isinstance(slots, dict) or len(slots) > 1000:
        return 'takes a JSON object such as {"t.me": {"concurrency": 1, "delay": 1.5}}'
    for host, slot in slots.items():
        if not isinstance(slot, dict) or set(slot) - {"concurrency", "delay"}:
            return f"slot {host!r}: takes concurrency and delay only"
        concurrency, delay = slot.get("concurrency", 1), slot.get("delay", 0)
        if not (isinstance(concurrency, int) and not isinstance(concurrency, bool)) or not (
            1 <= concurrency <= 100
        ):
            return f"slot {host!r}: concurrency takes a whole number from 1 to 100"
        if (
            isinstance(delay, bool)
            or not isinstance(delay, int | float)
            or not (0 <= delay <= MAX_SECONDS)
        ):
            return f"slot {host!r}: delay takes seconds from 0 to {MAX_SECONDS:g}"
    return None


def _codes(value: str) -> str | None:
    """``RETRY_HTTP_CODES``: a JSON list of HTTP statuses (or comma-separated numbers)."""
    text = value.strip()
    try:
        codes = json.loads(text) if text.startswith("[") else [int(c) for c in text.split(",")]
    except ValueError:
        return f"takes a list of HTTP statuses, not {value!r}"
    if not isinstance(codes, list) or not all(
        isinstance(c, int) and not isinstance(c, bool) and 100 <= c <= 599 for c in codes
    ):
        return f"takes a list of HTTP statuses (100 to 599), not {value!r}"
    return None


SECONDS = _number(0, MAX_SECONDS)

TUNABLES: tuple[Tunable, ...] = (
    # Politeness: a scheduled source may keep these.
    Tunable("DOWNLOAD_DELAY", SECONDS, stored=True),
    Tunable("RANDOMIZE_DOWNLOAD_DELAY", _flag, stored=True),
    Tunable("DOWNLOAD_SLOTS", _slots, stored=True),
    Tunable("CONCURRENT_REQUESTS_PER_DOMAIN", _number(1, 100, whole=True), stored=True),
    Tunable("DOWNLOAD_TIMEOUT", _number(0, MAX_SECONDS, above=True), stored=True),
    Tunable("DOWNLOAD_MAXSIZE", _number(1, 2**31, whole=True), stored=True),
    Tunable("DOWNLOAD_WARNSIZE", _number(0, 2**31, whole=True), stored=True),
    Tunable("RETRY_TIMES", _number(0, 20, whole=True), stored=True),
    Tunable("BACKOFF_BASE", SECONDS, stored=True),
    Tunable("BACKOFF_MAX", _number(0, 86400), stored=True),
    Tunable("TELEGRAM_THROTTLE_RETRIES", _number(0, 20, whole=True), stored=True),
    Tunable("TELEGRAM_THROTTLE_DELAY", SECONDS, stored=True),
    # How long a side fetch may take and how often a host may fail it: a source whose
    # pictures live on a slow host may keep more patience (crawler/handlers/http.py).
    Tunable("SIDE_FETCH_TIMEOUT", _number(0, MAX_SECONDS, above=True), stored=True),
    Tunable("SIDE_FETCH_MIN_RATE", _number(0, 10**9, whole=True), stored=True),
    Tunable("HOST_BREAKER_FAILURES", _number(0, 1000, whole=True), stored=True),
    Tunable("AUTOTHROTTLE_ENABLED", _flag, stored=True),
    Tunable("AUTOTHROTTLE_START_DELAY", SECONDS, stored=True),
    Tunable("AUTOTHROTTLE_MAX_DELAY", SECONDS, stored=True),
    Tunable("AUTOTHROTTLE_TARGET_CONCURRENCY", _number(0, 100, above=True), stored=True),
    Tunable("USER_AGENT", _text(500), stored=True),
    # This run only.
    Tunable("CONCURRENT_REQUESTS", _number(1, 1000, whole=True)),
    Tunable("RETRY_ENABLED", _flag),
    Tunable("RETRY_HTTP_CODES", _codes),
    Tunable("ROBOTSTXT_OBEY", _flag),
    Tunable("COOKIES_ENABLED", _flag),
    Tunable("REDIRECT_ENABLED", _flag),
    Tunable("REDIRECT_MAX_TIMES", _number(0, 50, whole=True)),
    Tunable("METAREFRESH_ENABLED", _flag),
    Tunable("DNS_TIMEOUT", _number(0, 600, above=True)),
    Tunable("DNSCACHE_ENABLED", _flag),
    Tunable("CLOSESPIDER_TIMEOUT", _number(0, 10**7)),
    Tunable("CLOSESPIDER_ITEMCOUNT", _number(0, 10**9, whole=True)),
    Tunable("MEMUSAGE_LIMIT_MB", _number(0, 10**6, whole=True)),
    Tunable("LOG_LEVEL", _choice(*LOG_LEVELS)),
    Tunable("LOG_ENABLED", _flag),
    # Distributed workers (crawler/distributed/worker/).
    Tunable("POLITENESS_SCOPE", _choice("cluster", "worker")),
    Tunable("WORKER_LEASE_TTL", _number(0, MAX_SECONDS, above=True)),
    Tunable("WORKER_POLL_INTERVAL", _number(0, 60, above=True)),
)
BY_NAME: dict[str, Tunable] = {t.name: t for t in TUNABLES}
#: The settings a scheduled source may keep, in table order.
STORED: tuple[str, ...] = tuple(t.name for t in TUNABLES if t.stored)


def check_setting(name: Any, value: Any, *, stored: bool = False) -> str | None:
    """Why ``-s NAME=VALUE`` is refused, or None. ``stored``: for a scheduled source,
    which keeps only the politeness settings."""
    if not isinstance(name, str) or not SETTING_NAME.fullmatch(name):
        return f"bad setting name {name!r}: expected an upper-case NAME"[:200]
    if not isinstance(value, str):
        return f"setting {name} must be text, not {type(value).__name__}"
    tunable = BY_NAME.get(name)
    if tunable is None:
        if name.startswith("CHANARCHIVE_"):
            return f"{name} cannot be set with -s: chanarchive sets it"
        return (
            f"{name} cannot be set with -s: not one of the settings chanarchive takes"
            " (delays, timeouts, retries, concurrency, robots.txt, the log level, the user"
            " agent: see the README)"
        )
    if stored and not tunable.stored:
        return (
            f"{name} is not kept with a scheduled source: only politeness settings are "
            f"({', '.join(STORED)})"
        )
    problem = tunable.check(value)
    return f"{name} {problem}" if problem else None
