"""``chanarchive verify``: is what the archive (or an exported WACZ) keeps still intact?"""

from __future__ import annotations

import time
from pathlib import Path

import click

from archive.store import connect_readonly
from archive.verify import Report, check_archive, check_package

from ..clitools import BadUsage, db_path, is_terminal, translate_errors


class _Progress:
    """What is being checked and how far, one line on stderr redrawn a few times a second."""

    def __init__(self) -> None:
        self.shown = False
        self._last = 0.0

    def __call__(self, what: str, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self._last < 0.25:
            return
        self._last = now
        count = f"{done:,} / {total:,}" if total > 0 else f"{done:,}"
        click.echo(f"\r\x1b[Kchecking {what}: {count}", err=True, nl=False)
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            click.echo("\r\x1b[K", err=True, nl=False)
            self.shown = False


def _is_sqlite(path: Path) -> bool:
    """Whether ``path`` begins as an SQLite database does (given as FILE.wacz by mistake)."""
    try:
        with open(path, "rb") as file:
            return file.read(16) == b"SQLite format 3\x00"
    except OSError:
        return False


@click.command()
@click.argument("package", required=False, metavar="[FILE.wacz]")
@click.option(
    "--sample",
    type=click.IntRange(min=1),
    metavar="N",
    help="Check N page bodies, N media files and N deletions taken at random (a WACZ: N "
    "records found through its index), and SQLite's quicker check: a quick look at a large "
    "archive.",
)
@click.pass_context
@translate_errors
def verify(ctx, package, sample):
    """Check that the archive, or an exported WACZ, is intact; read-only.

    The archive: SQLite's integrity check; every page body and media file
    hashed again against the SHA-256 it is kept under; every post version's
    capture present; every confirmed deletion with its evidence (the post's
    embed saying "Post not found", or its page answering 404 / 410). A WACZ
    (FILE.wacz): every file against datapackage.json, that file against
    datapackage-digest.json, the index, and every WARC record's digests.

    Prints one line per problem, then a summary; exits 1 when anything is
    wrong. Nothing is written: the archive is opened read-only. Progress
    shows on stderr when it is a terminal.

    Example:

        chanarchive verify

        chanarchive verify --sample 1000

        chanarchive verify export.wacz
    """
    progress = _Progress()
    shown = progress if is_terminal() else None
    if package is not None:
        path = Path(package)
        if not path.is_file():
            raise BadUsage(f"no file {package}: give a .wacz file made by export --format wacz")
        if _is_sqlite(path):
            raise BadUsage(
                f"{package} is an SQLite file, not a WACZ: to verify an archive, run"
                f" chanarchive --db {package} verify"
            )
        report = Report(str(path))
        problems = check_package(path, report, sample=sample, progress=shown)
        conn = None
    else:
        archive = db_path(ctx)
        conn = connect_readonly(archive)  # read-only: nothing can change the file
        report = Report(archive)
        problems = check_archive(conn, report, sample=sample, progress=shown)
    try:
        for problem in problems:
            progress.clear()
            click.echo(str(problem))
    finally:
        progress.clear()
        if conn is not None:
            conn.close()
    click.echo(report.summary())
    return 0 if report.ok else 1
