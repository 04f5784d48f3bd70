"""Verifying what was kept: an archive file, or a WACZ package exported from one.

Holds: what a verification found and how it is told (:mod:`.report`: each
problem, one line; what was checked; the summary), the checks of an
archive file (:mod:`.archive_file`: SQLite's own integrity check, every
page body and media file hashed again against the SHA-256 it is kept
under, every post version's capture present, every confirmed deletion
with its evidence), and the checks of a WACZ package (:mod:`.wacz_file`:
every file against ``datapackage.json``, that file against
``datapackage-digest.json``, the index's blocks, and the digests of the
WARC records).

Everything here reads: the archive through
:func:`archive.store.connect_readonly`'s connection, a package as a ZIP
file opened for reading. Nothing is written, and nothing prints: the checks
yield their problems and say how far they are through a callback.

May import: :mod:`archive.models`, :mod:`archive.errors`,
:mod:`archive.times`, :mod:`archive.store` (stored bodies and media files
read back), :mod:`archive.extract` (what a deletion check's answer says:
``archive.extract.embed``).
"""

from .archive_file import check_archive
from .report import Problem, Report
from .wacz_file import check_package

__all__ = ["Problem", "Report", "check_archive", "check_package"]
