"""Pieces shared by the commands: the archive path, error translation, output formats."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import Any

import click

from archive.db import open_archive
from archive.errors import BadInput, ChanarchiveError

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
        except BadInput as exc:
            raise BadUsage(str(exc)) from exc
        except ChanarchiveError as exc:
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
