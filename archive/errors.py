"""Named errors of the archive library.

The command line turns each into one clear line and an exit status; the
library itself never prints.
"""


class ChanarchiveError(Exception):
    """Base class: an error the user can act on, with a one-line message."""


class BadInput(ChanarchiveError):
    """The user's input is wrong (unknown source form, bad option value, missing file)."""


class BadSource(BadInput):
    """A SOURCE argument that is not `@name`, a t.me link or an http(s) URL."""


class ArchiveError(ChanarchiveError):
    """The archive file cannot be used (not SQLite, not ours, newer schema, unreadable)."""


class ArchiveUnwritable(ArchiveError):
    """The archive refused a write: its disk is full, it is read-only, an I/O error, a damaged
    file, or locked past the busy timeout. Nothing of the refused write was kept; what a
    command was doing stops there (:mod:`archive.store.faults`)."""


class FetchError(ChanarchiveError):
    """A page could not be fetched."""


class NotAPage(ChanarchiveError):
    """A fetched body that is no page at all (binary data, an image): no post is made of it."""


class BadRecord(BadInput):
    """A record from another process (a queue, a child) without the shape it must have."""
