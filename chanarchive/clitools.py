"""Pieces shared by the commands: the archive path, error translation, output formats."""

from __future__ import annotations

import functools
import os
import re
import sys
from collections.abc import Callable
from typing import Any

import click

from archive.clean.profiles import load_profile
from archive.errors import BadInput, ChanarchiveError
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


def _settings(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> dict[str, str]:
    parsed = {}
    for value in values:
        name, sep, setting = value.partition("=")
        if not sep or not re.fullmatch(r"[A-Z][A-Z0-9_]*", name):
            raise click.BadParameter(f"expected NAME=VALUE with an upper-case NAME, got {value!r}")
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


def crawl_options(
    *, depth_default: int | None, scope: str
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The options of a crawl (--max-pages, --depth, --follow, --profile, -s), the same on
    ``crawl`` and ``sources add``; ``scope`` says what they apply to ("this run", ...)."""
    options = [
        click.option(
            "--max-pages",
            type=click.IntRange(min=1),
            help=f"Fetch at most N pages per source, {scope}.",
        ),
        click.option(
            "--depth",
            type=click.IntRange(min=0),
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
        click.option(
            "-s",
            "settings",
            multiple=True,
            callback=_settings,
            metavar="NAME=VALUE",
            help=f"Override a Scrapy setting, {scope} (repeatable).",
        ),
    ]

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(options):
            fn = option(fn)
        return fn

    return decorate
