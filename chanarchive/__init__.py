"""chanarchive: archive public channels over time."""

from archive import __version__

__all__ = ["__version__"]
