"""Pieces shared by the commands: the archive path, error translation, output formats."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import Any

import click

from archive.errors import ArchiveUnwritable, BadInput, ChanarchiveError
from archive.store import open_archive

DEFAULT_DB = "archive.db"


class BadUsage(click.ClickException):
    """Bad input: one line on stderr, exit status 2, nothing written."""

    exit_code = 2


class WorkFailed(click.ClickException):
    """The work itself failed (e.g. every fetch failed): exit status 1."""

    exit_code = 1


class WriteRefused(click.ClickException):
    """The archive refused a write (a full disk, read-only, an I/O error, a damaged file):
    exit status 3."""

    exit_code = 3


def db_path(ctx: click.Context) -> str:
    return ctx.find_root().obj["db"]


def open_db(ctx: click.Context, *, create: bool = False):
    """Open the archive named by --db / $CHANARCHIVE_DB, as a one-line error when it cannot be."""
    try:
        return open_archive(db_path(ctx), create=create)
    except ArchiveUnwritable as exc:
        raise WriteRefused(str(exc)) from exc
    except ChanarchiveError as exc:
        raise BadUsage(str(exc)) from exc


def translate_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn library errors into one clear line and the right exit status."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ArchiveUnwritable as exc:  # a full disk ...: make room, and try again
            raise WriteRefused(str(exc)) from exc
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


def _option_value(spec):
    """Click callback: a crawl option's text read and checked as the options table says."""

    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        if value is None or isinstance(value, bool):
            return value
        try:
            parsed = spec.parse(str(value))
        except BadInput as exc:
            raise click.BadParameter(str(exc)) from exc
        problem = spec.check(parsed)
        if problem:
            raise click.BadParameter(problem)
        return parsed

    return callback


def _settings(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict:
    from crawler.tunables import SETTING_NAME, check_setting

    parsed = {}
    for value in values:
        name, sep, setting = value.partition("=")
        if not sep or not SETTING_NAME.fullmatch(name):
            raise click.BadParameter(f"expected NAME=VALUE with an upper-case NAME, got {value!r}")
        problem = check_setting(name, setting)
        if problem:
            raise click.BadParameter(problem)
        parsed[name] = setting
    return parsed


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


def crawl_flags(
    *, scheduled: bool, scope: str
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The crawl options as flags, made from the options table (:mod:`crawler.options`).

    The command gets them as one ``options`` argument: on ``crawl``
    (``scheduled=False``) a :class:`~crawler.options.CrawlOptions`; on ``sources
    add``/``import`` the options given (a partial record): one not given stays
    unset, so the source's runs take the default of the day they run.
    """
    from crawler.options import DEFAULTS, OPTIONS, CrawlOptions, GivenOptions

    specs = [spec for spec in OPTIONS if spec.scheduled or not scheduled]
    made = []
    for spec in specs:
        dest = f"option_{spec.name}"
        text = spec.help.replace("{scope}", scope)
        if spec.name == "settings":
            made.append(click.option("-s", dest, multiple=True, callback=_settings,
                                     metavar=spec.metavar, help=text))  # fmt: skip
            continue
        if isinstance(spec.default, bool):
            made.append(click.option(spec.flag, dest, is_flag=True, help=text))
            continue
        default = getattr(DEFAULTS, spec.name)
        if default is not None:
            text += f" [default: {spec.text(default)}]"
        made.append(click.option(spec.flag, dest, callback=_option_value(spec),
                                 metavar=spec.metavar, help=text,
                                 type=click.Choice(spec.choices) if spec.choices else None))  # fmt: skip

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            values = {spec.name: kwargs.pop(f"option_{spec.name}", None) for spec in specs}
            try:
                if scheduled:
                    kwargs["options"] = GivenOptions.check(values)
                else:
                    given = {k: v for k, v in values.items() if v is not None}
                    kwargs["options"] = CrawlOptions.from_record(given)
            except BadInput as exc:
                raise BadUsage(str(exc)) from exc
            return fn(*args, **kwargs)

        for option in reversed(made):
            wrapper = option(wrapper)
        return wrapper

    return decorate
