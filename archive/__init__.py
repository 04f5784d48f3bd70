"""The archive library: from fetched bytes to posts, into one SQLite file, and out again.

One subpackage per concern; dependencies point one way (each may import only
what is to its left): models ← clean ← extract ← store ← query / export / serve.

- :mod:`archive.models` (the records that flow: Post, Page, Capture; statuses
  and error kinds), :mod:`archive.errors`, :mod:`archive.times`,
  :mod:`archive.source` (SOURCE arguments, :func:`~archive.source.channel_key`):
  the shared terms at the bottom;
- :mod:`archive.clean`: raw text → clean text (rules as data, profiles, learning);
- :mod:`archive.extract`: bytes → :class:`~archive.models.Page` (no SQLite);
- :mod:`archive.store`: the only code that writes the archive file;
- :mod:`archive.query`, :mod:`archive.export`, :mod:`archive.serve`: read it.

The library never prints and imports neither the crawler nor the scheduler.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("chanarchive")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

USER_AGENT = (
    f"chanarchive/{__version__} (public channel archiver; crawl -s USER_AGENT=... to add a contact)"
)
