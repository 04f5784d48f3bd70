"""The archive library: from fetched bytes to posts, into one SQLite file, and out again.

One subpackage per concern; dependencies point one way (each may import only
what is to its left): models ← clean ← extract ← store ← query / export / verify
← serve.

Holds: the shared terms at the bottom, here: :mod:`.models` (the records
that flow: Post, Page, Capture; statuses and error kinds), :mod:`.errors`,
:mod:`.times` (the archive's times, made, read and shown),
:mod:`.source` (SOURCE arguments, :func:`~archive.source.channel_key`),
the version and the user agent; and one subpackage per concern, each saying
what it holds and may import:

- :mod:`archive.clean`: raw text → clean text (rules as data, profiles, learning);
- :mod:`archive.extract`: bytes → :class:`~archive.models.Page` (no SQLite);
- :mod:`archive.store`: the only code that writes the archive file;
- :mod:`archive.query`, :mod:`archive.export`, :mod:`archive.serve`: read it;
- :mod:`archive.verify`: checks that an archive file, or a WACZ exported
  from one, still holds what was kept.

May import: the standard library only. The library never prints and
imports neither the crawler, the scheduler nor the command line.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("chanarchive")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

USER_AGENT = (
    f"chanarchive/{__version__} (public channel archiver; crawl -s USER_AGENT=... to add a contact)"
)
