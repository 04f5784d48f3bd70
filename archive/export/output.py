"""Where an export goes: a file written whole or not at all, never over an archive.

An export to a file is written to a temporary file in the target's folder
and renamed into place only when it is complete, so a failure (a full disk,
an interrupted run, a bad record) leaves the previous file as it was and no
half export. The target is checked first: the archive being exported, any
of its side files (``-wal``, ``-shm``, ``-journal``), through a symlink or a
hard link, and any other chanarchive archive are refused. A target that is
not a regular file (``/dev/stdout``, a pipe, ``/dev/full``) is written
directly: it cannot be renamed over.

Files an export writes into a folder (one Atom feed per channel) are named
by the export, never by the archive's data: :func:`file_in` refuses a name
that would leave the folder.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
import tempfile
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from ..errors import BadInput, ChanarchiveError
from ..store.connection import archive_files
from ..store.migrations import MIGRATIONS_TABLE


class OutputFailed(ChanarchiveError):
    """The export could not be written (a full disk, a closed pipe): the work failed."""


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def check_target(target: str | os.PathLike[str], archive: str | os.PathLike[str]) -> None:
    """Refuse (:class:`BadInput`) an export target that is an archive or one of its files."""
    target = Path(target)
    for path in archive_files(archive):
        if _same_file(target, path) or target.resolve() == path.resolve():
            raise BadInput(
                f"-o {target} is the archive's own file ({path.name}): exporting over it"
                " would destroy it; give another file name"
            )
    if target.is_file() and _is_archive(target):
        raise BadInput(f"-o {target} is a chanarchive archive: give another file name")


def _is_archive(path: Path) -> bool:
    """Whether ``path`` is an SQLite file holding chanarchive's migrations table."""
    uri = "file:" + urllib.parse.quote(str(path.resolve())) + "?mode=ro"
    if not Path(f"{path}-wal").exists():
        uri += "&immutable=1"  # nothing to miss, and no side file left behind
    try:
        conn = sqlite3.connect(uri, uri=True)
    except sqlite3.Error:
        return False
    try:
        row = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE name = ?", [MIGRATIONS_TABLE]
        ).fetchone()
        return row is not None
    except sqlite3.DatabaseError:
        return False
    finally:
        conn.close()


@contextlib.contextmanager
def atomic_output(target: str | os.PathLike[str], *, binary: bool = False) -> Iterator[IO]:
    """A stream that becomes ``target`` only when the ``with`` block ends without error.

    Write errors (``OSError``: a full disk, a lost mount) become
    :class:`OutputFailed` with one line; the target is then left untouched.
    """
    target = Path(target)
    mode = "wb" if binary else "w"
    text = {} if binary else {"encoding": "utf-8", "newline": ""}
    try:
        special = target.exists() and not stat.S_ISREG(target.stat().st_mode)
    except OSError:
        special = False
    if special:  # a device or a pipe: written as it comes
        try:
            with open(target, mode, **text) as out:
                yield out
        except OSError as exc:
            raise OutputFailed(f"cannot write {target}: {exc.strerror or exc}") from None
        return
    folder = target.parent
    try:
        handle, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=folder)
    except OSError as exc:
        raise OutputFailed(f"cannot write into {folder}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(handle, mode, **text) as out:
            yield out
        _keep_mode(temp, target)
        os.replace(temp, target)
    except OSError as exc:
        _discard(temp)
        raise OutputFailed(f"cannot write {target}: {exc.strerror or exc}") from None
    except BaseException:
        _discard(temp)
        raise


def _keep_mode(temp: str, target: Path) -> None:
    """The new file gets the old one's permissions, else the usual ones for a new file."""
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    os.chmod(temp, mode)


def _discard(temp: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(temp)


def file_in(folder: str | os.PathLike[str], name: str) -> Path:
    """``folder/name``, refused (:class:`BadInput`) when ``name`` would lead outside ``folder``."""
    folder = Path(folder)
    if not name or name in (".", "..") or "/" in name or "\\" in name or "\x00" in name:
        raise BadInput(f"refusing to write a file named {name!r} (from the archive's data)")
    path = folder / name
    if path.resolve().parent != folder.resolve():
        raise BadInput(f"refusing to write {name!r}: it would land outside {folder}")
    return path
