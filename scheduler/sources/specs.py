"""A source's schedule and crawl options as people write them, checked into a :class:`SourceSpec`.

``sources add`` gives them as command-line options; ``sources import`` as the
columns of a file (CSV) or the attributes of an outline (OPML), over the
command line's options. Both go through :func:`make_spec`, so a line of a
file is refused for exactly what the same ``sources add`` would be refused
for, with the same words.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from archive.errors import BadInput
from archive.query.search import SearchQuery, parse_query
from archive.source import parse_source
from crawler.options import GivenOptions, parse_bool

from .files import BadLine, SourceLine
from .scheduled import DEFAULT_MAX, DEFAULT_MIN, Adaptive
from .schedules import BadSchedule, Schedule, parse_duration, parse_schedule


def check_source(
    text: str,
    schedule: Schedule,
    *,
    adaptive: Adaptive | None = None,
    time_limit: int | None = None,
) -> None:
    """Raise :class:`BadInput` when SOURCE and its schedule cannot be added (nothing written)."""
    parse_source(text)
    if adaptive is not None and schedule.cron:
        raise BadSchedule("--adaptive needs an interval (--every), not --cron")
    if time_limit is not None and time_limit < 1:
        raise BadSchedule("--time-limit must be at least 1s")


@dataclass(frozen=True)
class SourceSpec:
    """Everything a source is scheduled with, checked (see :func:`make_spec`)."""

    text: str  # the SOURCE as given
    key: str  # its canonical key
    schedule: Schedule
    adaptive: Adaptive | None = None
    crawl: GivenOptions = field(default_factory=GivenOptions)
    time_limit: int | None = None
    paused: bool | None = None  # None: a new source is active, an old one keeps its state
    #: Keyword alerts: tell only of the posts matching this (None: an old source keeps its own).
    match: SearchQuery | None = None
    clear_match: bool = False  # --no-match: tell of every change again


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
    crawl: GivenOptions = field(default_factory=GivenOptions)  # the crawl options set
    paused: bool | None = None  # None: leave as it is (a new source is active)
    match: str | None = None  # a keyword alert's query; None: leave as it is
    no_match: bool = False  # forget the query: notifications tell of every change


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
    crawl = GivenOptions.check(options.crawl)
    if options.match is not None and options.no_match:
        raise BadInput("give --match QUERY or --no-match, not both")
    match = parse_query(options.match, option="--match") if options.match is not None else None
    check_source(text, schedule, adaptive=bounds, time_limit=limit)
    return SourceSpec(
        text, parse_source(text).key, schedule, bounds, crawl, limit, options.paused,
        match, options.no_match,
    )  # fmt: skip


def options_from_fields(fields: dict[str, str], defaults: Options) -> Options:
    """A file line's own columns (``every``, ``cron``, ``paused`` …) over the command line's."""
    got = {k: v.strip() for k, v in fields.items() if v is not None and v.strip() != ""}
    options = replace(defaults)
    if "every" in got or "cron" in got:  # a line's schedule replaces the default one whole
        options.every, options.cron = got.get("every"), got.get("cron")
    for name in ("jitter", "min", "max", "time_limit"):
        if name in got:
            setattr(options, name, got[name])
    if "adaptive" in got:
        options.adaptive = parse_bool(got["adaptive"], "adaptive")
    if "paused" in got:
        options.paused = parse_bool(got["paused"], "paused")
    if "match" in got:
        options.match = got["match"]
    own = GivenOptions.from_text(got)  # the line's crawl options, over the command line's
    settings = {**defaults.crawl.get("settings", {}), **own.get("settings", {})}
    options.crawl = GivenOptions.check({**defaults.crawl, **own, "settings": settings})
    return options


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
