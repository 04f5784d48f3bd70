"""Pieces shared by the commands: the archive path, error translation, output formats."""

from __future__ import annotations

import functools
import json
import os
import re
import sys
from collections.abc import Callable
from typing import Any

import click

from archive.clean.profiles import load_profile
from archive.errors import BadInput, ChanarchiveError
from archive.models import DEFAULT_DELETION_CHECKS, MEDIA_MODES, MEDIA_PHOTOS, parse_size
from archive.store import open_archive

DEFAULT_DB = "archive.db"


class BadUsage(click.ClickException):
    """Bad input: one line on stderr, exit status 2, nothing written."""

    exit_code = 2


class WorkFailed(click.ClickException):
    """The work itself failed (e.g. every fetch failed): exit status 1."""

    exit_code = 1


def db_path(ctx: click.Context) -> str:
    return ctx.find_root().obj["db"]


def open_db(ctx: click.Context, *, create: bool = False):
    """Open the archive named by --db / $CHANARCHIVE_DB, as a one-line error when it cannot be."""
    try:
        return open_archive(db_path(ctx), create=create)
    except ChanarchiveError as exc:
        raise BadUsage(str(exc)) from exc


def translate_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn library errors into one clear line and the right exit status."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ChanarchiveError as exc:  # BadInput, ArchiveError, ...: the user can act on it
            raise BadUsage(str(exc)) from exc
        except BrokenPipeError:
            # The reader went away (e.g. `| head`): not an error of ours.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            sys.exit(0)

    return wrapper


def output_format(
    *choices: str, default: str
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The --format option, the same on every command that prints records or rows."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(choices),
        default=default,
        show_default=True,
        help="Output format.",
    )


def is_terminal(stream=None) -> bool:
    stream = stream or sys.stderr
    return hasattr(stream, "isatty") and stream.isatty()


#: Settings that decide where pages are written or which code runs: not for ``-s``.
FIXED_SETTINGS = ("ITEM_PIPELINES", "SPIDER_MODULES", "NEWSPIDER_MODULE")
#: Numeric settings that must be above zero (a zero timeout or concurrency stalls a crawl).
POSITIVE_SETTINGS = ("DOWNLOAD_TIMEOUT", "CONCURRENT_REQUESTS", "CONCURRENT_REQUESTS_PER_DOMAIN")


def check_setting(name: str, value: str) -> str | None:
    """Why ``-s NAME=VALUE`` is refused, or None: the value must read as the setting's type."""
    if name.startswith("CHANARCHIVE_") or name in FIXED_SETTINGS:
        return f"{name} cannot be set with -s: chanarchive sets it"
    default = _setting_default(name)
    if default is None or isinstance(default, str):
        return None
    if isinstance(default, bool):
        if value.strip().lower() not in ("0", "1", "true", "false"):
            return f"{name} takes true or false, not {value!r}"
        return None
    if isinstance(default, int | float):
        try:
            number = float(value) if isinstance(default, float) else int(value)
        except ValueError:
            kind = "a number" if isinstance(default, float) else "a whole number"
            return f"{name} takes {kind}, not {value!r}"
        if number != number or number in (float("inf"), float("-inf")) or number < 0:
            return f"{name} takes a number of zero or more, not {value!r}"
        if name in POSITIVE_SETTINGS and number == 0:
            return f"{name} must be above zero"
        return None
    if isinstance(default, dict):
        try:
            parsed = json.loads(value)
        except ValueError:
            return f"{name} takes a JSON object, not {value!r}"
        if not isinstance(parsed, dict):
            return f"{name} takes a JSON object, not {value!r}"
    return None


def _setting_default(name: str) -> Any:
    """The value a setting has without ``-s`` (chanarchive's, else Scrapy's), or None."""
    from scrapy.settings import default_settings

    import crawler.settings

    if hasattr(crawler.settings, name):
        return getattr(crawler.settings, name)
    return getattr(default_settings, name, None)


def _settings(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> dict[str, str]:
    parsed = {}
    for value in values:
        name, sep, setting = value.partition("=")
        if not sep or not re.fullmatch(r"[A-Z][A-Z0-9_]*", name):
            raise click.BadParameter(f"expected NAME=VALUE with an upper-case NAME, got {value!r}")
        problem = check_setting(name, setting)
        if problem:
            raise click.BadParameter(problem)
        parsed[name] = setting
    return parsed


def _regex(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None:
        try:
            re.compile(value)
        except re.error as exc:
            raise click.BadParameter(f"not a regular expression: {exc}") from exc
    return value


def _profile(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None:
        try:
            load_profile(value)  # an unknown profile is bad input, before anything is written
        except BadInput as exc:
            raise click.BadParameter(str(exc)) from exc
    return value


def settings_option(scope: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The -s NAME=VALUE option (repeatable), checked as ``crawl -s`` checks it."""
    return click.option(
        "-s",
        "settings",
        multiple=True,
        callback=_settings,
        metavar="NAME=VALUE",
        help=f"Override a Scrapy setting, {scope} (repeatable).",
    )


def crawl_options(
    *, depth_default: int | None, scope: str
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The options of a crawl (--max-pages, --depth, --follow, --profile, -s), the same on
    ``crawl`` and ``sources add``; ``scope`` says what they apply to ("this run", ...)."""
    options = [
        click.option(
            "--max-pages",
            type=click.IntRange(min=1, max=10**9),
            help=f"Fetch at most N pages per source, {scope}.",
        ),
        click.option(
            "--depth",
            type=click.IntRange(min=0, max=1000),
            default=depth_default,
            show_default=depth_default is not None,
            help="Web sources: how many link hops to follow from the start page.",
        ),
        click.option(
            "--follow",
            callback=_regex,
            metavar="REGEX",
            help="Web sources: follow same-host links matching REGEX.",
        ),
        click.option(
            "--profile",
            callback=_profile,
            metavar="NAME",
            help="Web sources: the site profile to extract with.",
        ),
        settings_option(scope),
    ]

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(options):
            fn = option(fn)
        return fn

    return decorate


def size_option(ctx: click.Context, param: click.Parameter, value: Any) -> int | None:
    """Click callback: a size option (see :func:`parse_size`), at least one byte."""
    if value is None or isinstance(value, int):
        return value
    try:
        size = parse_size(str(value))
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    if size < 1:
        raise click.BadParameter("must be at least one byte")
    return size


def capture_options(*, scheduled: bool) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--media``, ``--media-max-size`` and ``--deletion-checks``: what a crawl captures
    beside the pages. On ``crawl`` they default to the crawl's defaults; on ``sources
    add``/``import`` (``scheduled``) an option not given stays unset, so the source's
    runs take whatever the crawl's default is then."""

    def default(value: Any) -> Any:
        return None if scheduled else value

    def shown(text: str) -> str:
        return f" [default: {text}]" if scheduled else ""

    options = [
        click.option(
            "--media",
            type=click.Choice(list(MEDIA_MODES)),
            default=default(MEDIA_PHOTOS),
            show_default=not scheduled,
            help="Media files to archive at first sight: photos (with the thumbnails of videos "
            "and link previews), all (also videos, voice, round videos, audio, documents), "
            f"or none{shown(MEDIA_PHOTOS)}. Example: --media all --media-max-size 50M",
        ),
        click.option(
            "--media-max-size",
            default=default("20M"),
            show_default=not scheduled,
            callback=size_option,
            metavar="BYTES",
            help="Keep no media file larger than this (bytes, or with K, M, G: 500K, 20M)"
            f"{shown('20M')}.",
        ),
        click.option(
            "--deletion-checks",
            type=click.IntRange(min=0, max=100_000),
            default=default(DEFAULT_DELETION_CHECKS),
            show_default=not scheduled,
            metavar="N",
            help="Telegram: look at up to N posts per source that left the listing, each "
            "through its own embed (/NAME/ID?embed=1); only its 'Post not found' makes a post "
            "deleted. The rest stay missing until a later crawl; 0 looks at none"
            f"{shown(str(DEFAULT_DELETION_CHECKS))}. "
            "Example: --deletion-checks 200",
        ),
    ]

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(options):
            fn = option(fn)
        return fn

    return decorate
