"""``chanarchive export``: stream the archive out as jsonl, csv, WARC or Atom."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from archive.export import ExportScope, iter_scope, write_csv, write_jsonl
from archive.export.atom import channel_info, write_atom
from archive.export.media import check_media_dir, write_media_dir
from archive.export.output import OutputFailed, atomic_output, check_target, file_in
from archive.export.records import archived_files
from archive.export.warc import write_warc
from archive.source import channel_key
from archive.store import connect_readonly

from ..clitools import BadUsage, WorkFailed, db_path, is_terminal, translate_errors

FORMATS = ("jsonl", "csv", "warc", "atom")


class _Progress:
    """A one-line count on stderr, redrawn at most a few times a second (terminals only)."""

    def __init__(self, noun: str) -> None:
        self.noun = noun
        self.shown = False
        self._last = 0.0

    def __call__(self, count: int) -> None:
        now = time.monotonic()
        if now - self._last < 0.25:
            return
        self._last = now
        click.echo(f"\rexported {count:,} {self.noun}", err=True, nl=False)
        self.shown = True

    def done(self, count: int) -> None:
        if self.shown:
            click.echo(f"\rexported {count:,} {self.noun}", err=True)


def _atom_channels(conn, channel: str | None) -> list[str]:
    if channel:
        return [channel_key(channel)]
    return [row[0] for row in conn.execute("SELECT name FROM channels ORDER BY name")]


@click.command()
@click.option("--format", "fmt", type=click.Choice(FORMATS), required=True, help="Export format.")
@click.option("--channel", metavar="NAME", help="Only this channel.")
@click.option(
    "--since",
    metavar="T",
    help="Only versions captured at or after T (ISO 8601; WARC: captures fetched since T).",
)
@click.option("--until", metavar="T", help="Only versions captured before T.")
@click.option(
    "--as-of",
    "as_of",
    metavar="T",
    help="The archive as it stood at T: later posts absent, the version then current, "
    "posts deleted by then present with their deleted_at (as a plain export has them).",
)
@click.option(
    "--no-deleted",
    "live",
    is_flag=True,
    help="Leave out posts found deleted (by T, with --as-of).",
)
@click.option(
    "--all-versions", is_flag=True, help="Every version of every post, not only the current."
)
@click.option(
    "-o",
    "--output",
    type=click.Path(writable=True),
    help="Write here, not to stdout (atom: a folder gets one NAME.atom per channel; "
    "warc: a name ending in .warc is not compressed).",
)
@click.option(
    "--media-dir",
    type=click.Path(file_okay=False),
    metavar="DIR",
    help="Also write the archived media files of the exported posts into DIR, each named "
    "by its sha256 (e.g. --media-dir media/ gives media/3f2a…9c.jpg).",
)
@click.pass_context
@translate_errors
def export(ctx, fmt, channel, since, until, as_of, all_versions, live, output, media_dir):
    """Stream posts out of the archive.

    By default the current version of each post, deleted posts included (with
    their deleted_at); --all-versions gives every version; --as-of T the
    archive exactly as it stood at time T (posts deleted by then included,
    with their deleted_at, as a plain export has them); --no-deleted leaves
    deleted posts out. --since/--until select on when a
    version was captured. jsonl and csv carry the export record; warc the raw
    page captures (WARC/1.1: response records, revisit records for captures
    identical to an earlier one); atom one feed per channel of its new and
    edited posts. Progress shows on stderr when it is a terminal.

    Example:

        chanarchive export --format jsonl -o archive.jsonl

        chanarchive export --format csv --channel durov --all-versions -o durov.csv

        chanarchive export --format jsonl --as-of 2026-11-01T00:00:00Z

        chanarchive export --format warc -o captures.warc.gz

        chanarchive export --format atom --channel durov -o durov.atom

        chanarchive export --format jsonl -o archive.jsonl --media-dir media/
    """
    scope = ExportScope(
        channel=channel,
        since=since,
        until=until,
        as_of=as_of,
        all_versions=all_versions,
        live=live,
    ).normalized()  # bad times are refused here, before any output is opened
    archive = db_path(ctx)
    if output is not None:
        _check_output(Path(output), fmt)
        check_target(output, archive)
    if media_dir is not None:
        check_media_dir(media_dir)  # a bad folder is refused before anything is written
        if output is not None and Path(media_dir).resolve() == Path(output).resolve():
            raise BadUsage("--media-dir and -o name the same path")
    conn = connect_readonly(archive)
    archived: dict[str, dict] = {}  # sha256 -> a media item of the export holding that file
    progress = _Progress("captures" if fmt == "warc" else "records")
    # On a terminal only, and not over the export itself when that goes to the same screen.
    shown = is_terminal() and (output is not None or not is_terminal(sys.stdout))
    report = progress if shown else None
    try:
        if scope.channel is not None:
            channel_info(conn, scope.channel)  # an unknown channel is bad input: exit 2
        if fmt == "atom":
            count = _export_atom(conn, scope, output, report)
        elif fmt == "warc":
            gzip = not (output and output.endswith(".warc"))
            if output:
                with atomic_output(output, binary=True) as out:
                    count = write_warc(
                        conn, out, scope, gzip=gzip, filename=Path(output).name, progress=report
                    ).records
            else:
                count = write_warc(
                    conn, sys.stdout.buffer, scope, gzip=gzip, progress=report
                ).records
                sys.stdout.buffer.flush()
        else:
            writer = write_jsonl if fmt == "jsonl" else write_csv
            records = iter_scope(conn, scope)
            if media_dir is not None:  # the files the records name, noted as they stream by
                records = _noting_files(records, archived)
            if output:
                with atomic_output(output) as out:
                    count = writer(records, out, report)
            else:
                count = writer(records, sys.stdout, report)
                sys.stdout.flush()
        if media_dir is not None:
            if fmt not in ("jsonl", "csv"):  # their records were not read: read them now
                for _record in _noting_files(iter_scope(conn, scope), archived):
                    pass
            write_media_dir(conn, [{"media": list(archived.values())}], media_dir)
    except OutputFailed as exc:
        raise WorkFailed(str(exc)) from None
    except OSError as exc:  # stdout itself failed (a full disk behind a redirect)
        if isinstance(exc, BrokenPipeError):
            raise
        raise WorkFailed(f"cannot write the export: {exc.strerror or exc}") from None
    finally:
        conn.close()
    if report is not None:
        progress.done(count)


def _check_output(path: Path, fmt: str) -> None:
    if path.is_dir() and fmt != "atom":
        raise BadUsage(f"-o {path} is a folder: give a file name (only atom writes a folder)")
    if not path.parent.is_dir():
        raise BadUsage(f"cannot write {path}: folder {path.parent} does not exist")


def _export_atom(conn, scope: ExportScope, output: str | None, report) -> int:
    channels = _atom_channels(conn, scope.channel)
    folder = output is not None and Path(output).is_dir()
    if len(channels) != 1 and not folder:
        names = ", ".join(channels) or "none"
        raise BadUsage(
            "an Atom feed is one channel's: give --channel NAME, or -o FOLDER for one "
            f"NAME.atom per channel (channels: {names})"
        )
    # Every file is named and checked before the first is written: all or nothing.
    targets = [file_in(output, f"{name}.atom") if folder else output for name in channels]
    count = 0
    for name, target in zip(channels, targets, strict=True):
        one = ExportScope(**{**vars(scope), "channel": name})
        if target:
            with atomic_output(target) as out:
                count += write_atom(conn, out, one, progress=report)
        else:
            count += write_atom(conn, sys.stdout, one, progress=report)
    return count


def _noting_files(records, archived: dict[str, dict]):
    """``records`` unchanged, each archived media item noted in ``archived`` by sha256."""
    for record in records:
        for item in archived_files(record):
            archived.setdefault(item["sha256"], item)
        yield record
