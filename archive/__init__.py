"""The archive: SQLite store, extraction, query and export. Imports neither crawler nor scheduler."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("chanarchive")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

USER_AGENT = (
    f"chanarchive/{__version__} (public channel archiver; crawl -s USER_AGENT=... to add a contact)"
)
