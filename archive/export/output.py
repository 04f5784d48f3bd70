"""Where an export goes: a file written whole or not at all, never over an archive.

An export to a file is written to a temporary file in the target's folder
and renamed into place only when it is complete, so a failure (a full disk,
an interrupted run, a bad record) leaves the previous file as it was and no
half export. The target is checked first (:func:`check_target`): the
archive being exported and its side files (through a symlink or a hard link
too), any file named like a side file of any database (``-wal``, ``-shm``,
``-journal``), and any file that is an SQLite database or one of SQLite's
side files by its first bytes are refused. A target that is
not a regular file (``/dev/stdout``, a pipe, ``/dev/full``) is written
directly: it cannot be renamed over.

Files an export writes into a folder (one Atom feed per channel) are named
by the export, never by the archive's data: :func:`file_in` refuses a name
that would leave the folder.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import stat
import struct
import tempfile
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from ..errors import BadInput, ChanarchiveError
from ..store.connection import SIDE_SUFFIXES, archive_files
from ..store.migrations import MIGRATIONS_TABLE


class OutputFailed(ChanarchiveError):
    """The export could not be written (a full disk, a closed pipe): the work failed."""


#: How SQLite's own files begin: a database, a write-ahead log, a rollback journal,
#: and the WAL index (``-shm``, whose first word is its version in native byte order).
SQLITE_HEADER = b"SQLite format 3\x00"
WAL_MAGIC = (b"\x37\x7f\x06\x82", b"\x37\x7f\x06\x83")
JOURNAL_MAGIC = b"\xd9\xd5\x05\xf9\x20\xa1\x63\xd7"
SHM_MAGIC = struct.pack("=I", 3007000)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def check_target(target: str | os.PathLike[str], archive: str | os.PathLike[str]) -> None:
    """Refuse (:class:`BadInput`) an export target that is any SQLite file or side file.

    Refused, before anything is written: the archive and its side files (by
    name, through a symlink or a hard link); any file named like a side file
    of some database (``…-wal``, ``…-shm``, ``…-journal``, in any case, also
    where a symlink points); and any existing file that begins as an SQLite
    database, write-ahead log, rollback journal or WAL index does (another
    archive, another application's database, or a link to one of their files).
    """
    target = Path(target)
    for path in archive_files(archive):
        if _same_file(target, path) or target.resolve() == path.resolve():
            raise BadInput(
                f"-o {target} is the archive's own file ({path.name}): exporting over it"
                " would destroy it; give another file name"
            )
    for name in (target.name, target.resolve().name):
        suffix = next((s for s in SIDE_SUFFIXES if name.lower().endswith(s)), None)
        if suffix is not None:
            raise BadInput(
                f"-o {target} is named like an SQLite {suffix} file: writing it could destroy"
                " a database's data; give another file name"
            )
    kind = sqlite_file_kind(target)
    if kind is not None:
        raise BadInput(
            f"-o {target} is {kind}: exporting over it would destroy it; give another file name"
        )


def sqlite_file_kind(path: Path) -> str | None:
    """What SQLite file ``path`` is, from its first bytes (None: not one, or not a regular file)."""
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            return None  # a pipe or a device: never read here
        with open(path, "rb") as file:
            head = file.read(len(SQLITE_HEADER))
    except OSError:
        return None
    if head.startswith(SQLITE_HEADER):
        return "a chanarchive archive" if _is_archive(path) else "an SQLite database"
    if head[:4] in WAL_MAGIC:
        return "an SQLite write-ahead log (-wal)"
    if head.startswith(JOURNAL_MAGIC):
        return "an SQLite rollback journal (-journal)"
    if head[:4] == SHM_MAGIC:
        return "an SQLite WAL index (-shm)"
    return None


def _is_archive(path: Path) -> bool:
    """Whether the SQLite file ``path`` holds chanarchive's migrations table (read, not written)."""
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


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """A new file's path that becomes ``target`` only when the ``with`` block ends without
    error, for a writer that needs a path rather than a stream (a ZIP file is read back as
    it is written). The rules of :func:`atomic_output` hold: the file is made beside
    ``target`` and renamed into place, or discarded; a device or a pipe gets a copy of
    it; write errors are :class:`OutputFailed`.
    """
    target = Path(target)
    try:
        special = target.exists() and not stat.S_ISREG(target.stat().st_mode)
    except OSError:
        special = False
    if special:
        with tempfile.TemporaryDirectory(prefix=".chanarchive-") as folder:
            made = Path(folder) / target.name
            try:
                yield made
                with open(made, "rb") as source, open(target, "wb") as out:
                    shutil.copyfileobj(source, out, 1024 * 1024)
            except OSError as exc:
                raise OutputFailed(f"cannot write {target}: {exc.strerror or exc}") from None
        return
    folder = target.parent
    try:
        handle, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=folder)
        os.close(handle)
    except OSError as exc:
        raise OutputFailed(f"cannot write into {folder}: {exc.strerror or exc}") from None
    try:
        yield Path(temp)
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
