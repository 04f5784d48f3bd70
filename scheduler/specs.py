"""A source's schedule and crawl options as people write them, checked into a :class:`SourceSpec`.

``sources add`` gives them as command-line options; ``sources import`` as the
columns of a file (CSV) or the attributes of an outline (OPML), over the
command line's options. Both go through :func:`make_spec`, so a line of a
file is refused for exactly what the same ``sources add`` would be refused
for, with the same words.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace

from archive.clean.profiles import load_profile
from archive.errors import BadInput
from archive.models import MEDIA_MODES, parse_size
from archive.source import parse_source

from .registry import (
    DEFAULT_MAX,
    DEFAULT_MIN,
    Adaptive,
    CrawlSettings,
    SourceSpec,
    check_source,
)
from .schedules import BadSchedule, parse_duration, parse_schedule
from .sourcefiles import BadLine, SourceLine

#: A Scrapy setting's name, as ``-s NAME=VALUE`` takes it.
SETTING_NAME = re.compile(r"[A-Z][A-Z0-9_]*")
_TRUE = {"yes", "y", "true", "1", "on"}
_FALSE = {"no", "n", "false", "0", "off", ""}


@dataclass
class Options:
    """A source's options as written (durations as text), before they are checked."""

    every: str | None = None
    cron: str | None = None
    jitter: str | None = None
    adaptive: bool = False
    min: str | None = None
    max: str | None = None
    time_limit: str | None = None
    max_pages: int | None = None
    depth: int | None = None
    follow: str | None = None
    profile: str | None = None
    settings: dict[str, str] = field(default_factory=dict)
    media: str | None = None
    media_max_size: int | None = None
    deletion_checks: int | None = None
    paused: bool | None = None  # None: leave as it is (a new source is active)


def make_spec(text: str, options: Options) -> SourceSpec:
    """Check SOURCE and its options; raise :class:`BadInput` saying what is wrong."""
    bounds = None
    every, cron = options.every, options.cron
    if options.adaptive:
        bounds = Adaptive(
            _seconds(options.min, DEFAULT_MIN, "--min"), _seconds(options.max, DEFAULT_MAX, "--max")
        )
        if every is None and cron is None:
            every = str(bounds.start())
    elif options.min is not None or options.max is not None:
        raise BadSchedule("--min and --max bound an --adaptive interval: add --adaptive")
    schedule = parse_schedule(every, cron, options.jitter)
    limit = (
        parse_duration(options.time_limit, what="time limit")
        if options.time_limit is not None
        else None
    )
    crawl = CrawlSettings(
        settings=dict(options.settings),
        max_pages=options.max_pages,
        depth=options.depth,
        follow=options.follow,
        profile=options.profile,
        media=options.media,
        media_max_size=options.media_max_size,
        deletion_checks=options.deletion_checks,
    )
    check_crawl(crawl)
    check_source(text, schedule, adaptive=bounds, time_limit=limit)
    return SourceSpec(text, parse_source(text).key, schedule, bounds, crawl, limit, options.paused)


def check_crawl(crawl: CrawlSettings) -> None:
    """Raise :class:`BadInput` for crawl options ``chanarchive crawl`` would refuse."""
    if crawl.max_pages is not None and crawl.max_pages < 1:
        raise BadInput(f"max_pages must be at least 1, not {crawl.max_pages}")
    if crawl.depth is not None and crawl.depth < 0:
        raise BadInput(f"depth must be 0 or more, not {crawl.depth}")
    if crawl.follow is not None:
        try:
            re.compile(crawl.follow)
        except re.error as exc:
            raise BadInput(f"follow {crawl.follow!r} is not a regular expression: {exc}") from None
    if crawl.profile is not None:
        load_profile(crawl.profile)  # BadInput naming the profile
    if crawl.media is not None and crawl.media not in MEDIA_MODES:
        raise BadInput(f"media must be one of {', '.join(MEDIA_MODES)}, not {crawl.media!r}")
    if crawl.media_max_size is not None and crawl.media_max_size < 1:
        raise BadInput(f"media_max_size must be at least one byte, not {crawl.media_max_size}")
    if crawl.deletion_checks is not None and crawl.deletion_checks < 0:
        raise BadInput(f"deletion_checks must be 0 or more, not {crawl.deletion_checks}")
    for name in crawl.settings:
        if not SETTING_NAME.fullmatch(name):
            raise BadInput(f"bad setting name {name!r}: expected an upper-case NAME")


def options_from_fields(fields: dict[str, str], defaults: Options) -> Options:
    """A file line's own columns (``every``, ``cron``, ``paused`` …) over the command line's."""
    got = {k: v.strip() for k, v in fields.items() if v is not None and v.strip() != ""}
    options = replace(defaults, settings=dict(defaults.settings))
    if "every" in got or "cron" in got:  # a line's schedule replaces the default one whole
        options.every, options.cron = got.get("every"), got.get("cron")
    for name in ("jitter", "min", "max", "time_limit", "follow", "profile", "media"):
        if name in got:
            setattr(options, name, got[name])
    if "adaptive" in got:
        options.adaptive = parse_bool(got["adaptive"], "adaptive")
    if "paused" in got:
        options.paused = parse_bool(got["paused"], "paused")
    if "media_max_size" in got:
        try:
            options.media_max_size = parse_size(got["media_max_size"])
        except ValueError as exc:
            raise BadInput(f"media_max_size: {exc}") from None
    for name in ("max_pages", "depth", "deletion_checks"):
        if name in got:
            try:
                setattr(options, name, int(got[name]))
            except ValueError:
                raise BadInput(f"{name} must be a whole number, not {got[name]!r}") from None
    if "settings" in got:
        options.settings.update(parse_settings(got["settings"]))
    return options


def parse_bool(text: str, what: str) -> bool:
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise BadInput(f"{what} must be yes or no, not {text!r}")


def parse_settings(text: str) -> dict[str, str]:
    """Scrapy settings as a file gives them: a JSON object, or ``NAME=VALUE`` words."""
    text = text.strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise BadInput(f"settings is not a JSON object: {exc.msg}") from None
        if not isinstance(data, dict):
            raise BadInput("settings must be a JSON object of NAME: VALUE")
        return {str(k): str(v) for k, v in data.items()}
    settings = {}
    for word in text.split():
        name, sep, value = word.partition("=")
        if not sep:
            raise BadInput(f"bad setting {word!r}: expected NAME=VALUE")
        settings[name] = value
    return settings


def _seconds(value: str | None, default: int, what: str) -> int:
    return default if value is None else parse_duration(value, what=what)


@dataclass
class ImportPlan:
    """The sources of a file, checked: what ``sources import`` writes, all at once."""

    specs: list[SourceSpec]
    merged: int = 0  # lines naming a source an earlier line named the same way


def specs_from_lines(name: str, lines: list[SourceLine], defaults: Options) -> ImportPlan:
    """Check every line of file ``name``; the first bad one raises :class:`BadLine` at its line.

    A source on two lines is fine when both say the same (the second is
    merged); two lines that schedule one source differently are refused.
    """
    if not lines:
        raise BadLine(f"no sources in {name}")
    seen: dict[str, tuple[int, SourceSpec]] = {}
    specs: list[SourceSpec] = []
    merged = 0
    for line in lines:
        try:
            spec = make_spec(line.source, options_from_fields(line.fields, defaults))
        except BadInput as exc:
            raise BadLine(f"{name} line {line.line}: {exc}") from None
        first = seen.get(spec.key)
        if first is None:
            seen[spec.key] = (line.line, spec)
            specs.append(spec)
        elif replace(first[1], text=spec.text) == spec:
            merged += 1
        else:
            raise BadLine(
                f"{name} line {line.line}: {spec.key} is on line {first[0]} too, "
                "with another schedule or other options"
            )
    return ImportPlan(specs, merged)
