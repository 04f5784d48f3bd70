"""``chanarchive export``: stream the archive out as jsonl, csv, WARC or Atom."""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

import click

from archive.export import ExportScope, iter_scope, write_csv, write_jsonl
from archive.export.atom import channel_info, write_atom
from archive.export.fourcat import write_fourcat_csv
from archive.export.media import MediaWriteFailed, check_media_dir, write_media_dir
from archive.export.output import (
    OutputFailed,
    atomic_output,
    atomic_path,
    check_target,
    file_in,
)
from archive.export.records import archived_files
from archive.export.wacz import write_wacz
from archive.export.warc import write_warc
from archive.source import channel_key
from archive.store import connect_readonly

from ..clitools import BadUsage, WorkFailed, db_path, is_terminal, translate_errors
from .analysis import write_parquet_to

FORMATS = ("jsonl", "csv", "warc", "atom", "wacz", "parquet", "4cat")


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


def csv_flags(what: str):
    """``--raw-csv`` and ``--excel``: the CSV for programs, or for Excel (default: neutralised)."""

    def decorate(fn):
        fn = click.option(
            "--excel",
            is_flag=True,
            help=f"{what}: start with a UTF-8 byte-order mark, so that Excel shows Chinese "
            "and other non-Latin text right.",
        )(fn)
        return click.option(
            "--raw-csv",
            is_flag=True,
            help=f"{what}: the exact text, for programs: cells a spreadsheet would run as "
            "formulas are not neutralised (by default they get an apostrophe in front).",
        )(fn)

    return decorate


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
    help="Only versions captured at or after T (ISO 8601; warc, wacz: captures fetched since T).",
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
    "warc: a name ending in .warc is not compressed; wacz: a name ending in .wacz).",
)
@click.option(
    "--media-dir",
    type=click.Path(file_okay=False),
    metavar="DIR",
    help="Also write the archived media files of the exported posts into DIR, each named "
    "by its sha256 (e.g. --media-dir media/ gives media/3f2a…9c.jpg).",
)
@csv_flags("csv")
@click.pass_context
@translate_errors
def export(
    ctx, fmt, channel, since, until, as_of, all_versions, live, output, media_dir, raw_csv, excel
):
    """Stream posts out of the archive.

    By default the current version of each post, deleted posts included (with
    their deleted_at); --all-versions gives every version; --as-of T the
    archive exactly as it stood at time T (posts deleted by then included,
    with their deleted_at, as a plain export has them); --no-deleted leaves
    deleted posts out. --since/--until select on when a
    version was captured. jsonl and csv carry the export record; warc the raw
    page captures (WARC/1.1: response records, revisit records for captures
    identical to an earlier one, the request as sent and the server's address
    where they were kept) and the media files; wacz the same WARC packed as a
    WACZ 1.1.1 file with its index, its page list and a manifest of SHA-256
    hashes, which ReplayWeb.page and pywb open and `chanarchive verify
    FILE.wacz` checks; atom one feed per channel of its new and edited
    posts. Progress shows on stderr when it is a terminal.

    csv is for spreadsheets: a text cell a spreadsheet would run as a formula
    (one starting with =, +, -, @, a tab or a carriage return, also after
    leading spaces) gets an apostrophe in front, which the spreadsheet does
    not show. The exact text is in --format jsonl, or in csv with --raw-csv
    (for programs: never open it in a spreadsheet). --excel adds a UTF-8
    byte-order mark so that Excel shows Chinese and other non-Latin text
    right.

    parquet carries the jsonl records as typed columns (links a list, media a
    list of structs, reactions a map), for pandas, pyarrow and DuckDB; 4cat is
    a csv whose first columns are the ones 4CAT's import asks for (id,
    thread_id, author, body, timestamp), then the record's.

    With --media-dir the media files are written first: if one cannot be
    written, the export says how many were and writes no export (exit 1).

    Example:

        chanarchive export --format jsonl -o archive.jsonl

        chanarchive export --format csv --channel durov --all-versions -o durov.csv

        chanarchive export --format csv --excel -o for-excel.csv

        chanarchive export --format jsonl --as-of 2026-11-01T00:00:00Z

        chanarchive export --format warc -o captures.warc.gz

        chanarchive export --format wacz --channel durov -o durov.wacz

        chanarchive export --format atom --channel durov -o durov.atom

        chanarchive export --format jsonl -o archive.jsonl --media-dir media/

        chanarchive export --format parquet -o archive.parquet

        chanarchive export --format 4cat -o for-4cat.csv
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
    check_csv_flags(fmt, raw_csv, excel)
    if output is not None:
        _check_output(Path(output), fmt)
        check_target(output, archive)
        _check_wacz_name(Path(output), fmt)
    if media_dir is not None:
        check_media_dir(media_dir)  # a bad folder is refused before anything is written
        if output is not None and Path(media_dir).resolve() == Path(output).resolve():
            raise BadUsage("--media-dir and -o name the same path")
    conn = connect_readonly(archive)
    progress = _Progress("captures" if fmt in ("warc", "wacz") else "records")
    # On a terminal only, and not over the export itself when that goes to the same screen.
    shown = is_terminal() and (output is not None or not is_terminal(sys.stdout))
    report = progress if shown else None
    try:
        # One snapshot for the media files and the export, so that they agree
        # while a crawl writes.
        conn.execute("BEGIN")
        if scope.channel is not None:
            channel_info(conn, scope.channel)  # an unknown channel is bad input: exit 2
        if media_dir is not None:
            # First: when a file cannot be written, no export claims it is there.
            _export_media(conn, scope, media_dir)
        if fmt == "atom":
            count = _export_atom(conn, scope, output, report, archive)
        elif fmt == "wacz":
            count = _export_wacz(conn, scope, output, report)
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
        elif fmt == "parquet":
            count = write_parquet_to(iter_scope(conn, scope), output, report)
        else:
            records = iter_scope(conn, scope)

            def write(out) -> int:
                if fmt == "4cat":
                    return write_fourcat_csv(
                        records, out, report, all_versions=all_versions, raw=raw_csv, excel=excel
                    )
                if fmt == "jsonl":
                    return write_jsonl(records, out, report)
                return write_csv(records, out, report, raw=raw_csv, excel=excel)

            if output:
                with atomic_output(output) as out:
                    count = write(out)
            else:
                count = write(sys.stdout)
                sys.stdout.flush()
    except OutputFailed as exc:
        done = " (the media files were written)" if media_dir is not None else ""
        raise WorkFailed(f"{exc}{done}") from None
    except OSError as exc:  # stdout itself failed (a full disk behind a redirect)
        if isinstance(exc, BrokenPipeError):
            raise
        raise WorkFailed(f"cannot write the export: {exc.strerror or exc}") from None
    finally:
        conn.close()
    if report is not None:
        progress.done(count)


def check_csv_flags(fmt: str, raw_csv: bool, excel: bool) -> None:
    if (raw_csv or excel) and fmt not in ("csv", "4cat"):
        flag = "--raw-csv" if raw_csv else "--excel"
        raise BadUsage(f"{flag} is for --format csv and 4cat only")
    if raw_csv and excel:
        raise BadUsage(
            "--raw-csv keeps formulas a spreadsheet would run, --excel is for a spreadsheet:"
            " give one of them"
        )


def _export_media(conn, scope: ExportScope, media_dir: str) -> int:
    """Write the archived media files of the export's records into ``media_dir``."""
    archived: dict[str, dict] = {}  # sha256 -> a media item of the export holding that file
    for record in iter_scope(conn, scope):
        for item in archived_files(record):
            archived.setdefault(item["sha256"], item)
    try:
        return write_media_dir(conn, [{"media": list(archived.values())}], media_dir)
    except MediaWriteFailed as exc:
        raise WorkFailed(f"{exc}; the export was not written") from None


def _check_output(path: Path, fmt: str) -> None:
    if path.is_dir() and fmt != "atom":
        raise BadUsage(f"-o {path} is a folder: give a file name (only atom writes a folder)")
    if not path.parent.is_dir():
        raise BadUsage(f"cannot write {path}: folder {path.parent} does not exist")


def _check_wacz_name(path: Path, fmt: str) -> None:
    """A WACZ file's name ends in ``.wacz`` (the format says so; a pipe or device is fine)."""
    if fmt == "wacz" and path.suffix.lower() != ".wacz" and (path.is_file() or not path.exists()):
        raise BadUsage(f"-o {path}: a WACZ file's name ends in .wacz (e.g. -o {path.stem}.wacz)")


def _export_wacz(conn, scope: ExportScope, output: str | None, report) -> int:
    """The WACZ of ``scope`` into ``output`` (whole or not at all), else to stdout."""
    if output:
        with atomic_path(output) as path:
            return write_wacz(conn, path, scope, progress=report).warc.records
    # A ZIP is read back as it is made: it is made in a temporary folder, then copied out.
    with tempfile.TemporaryDirectory(prefix="chanarchive-wacz-") as folder:
        path = Path(folder) / "export.wacz"
        count = write_wacz(conn, path, scope, progress=report).warc.records
        with open(path, "rb") as made:
            shutil.copyfileobj(made, sys.stdout.buffer, 1024 * 1024)
        sys.stdout.buffer.flush()
    return count


def _export_atom(conn, scope: ExportScope, output: str | None, report, archive: str) -> int:
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
    if folder:
        for target in targets:
            check_target(target, archive)
    count = 0
    for name, target in zip(channels, targets, strict=True):
        one = ExportScope(**{**vars(scope), "channel": name})
        if target:
            with atomic_output(target) as out:
                count += write_atom(conn, out, one, progress=report)
        else:
            count += write_atom(conn, sys.stdout, one, progress=report)
    return count
