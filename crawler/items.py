"""What the spider hands to the pipelines: a fetched page, a media file, why a fetch failed, a check."""

from __future__ import annotations

from dataclasses import dataclass

from archive.models import Capture, MediaFetch, MediaRef, Page


@dataclass
class PageItem:
    """A fetched page with what was parsed from it (``page`` None when parsing failed)."""

    source: str
    capture: Capture
    page: Page | None


@dataclass
class ErrorItem:
    """A fetch or parse that failed, with its reason, to be kept with the crawl."""

    source: str
    url: str | None
    kind: str
    message: str


@dataclass
class MediaItem:
    """A media URL fetched (``fetch``) or only seen again (None), with the post slots showing it."""

    source: str
    url: str
    refs: list[MediaRef]
    fetch: MediaFetch | None = None


@dataclass
class CheckItem:
    """A look at a missing post's own embed: ``deleted``, ``alive`` or ``failed``, and why."""

    source: str
    channel: str
    post_id: str
    url: str
    outcome: str
    http_status: int | None
    reason: str
    checked_at: str
    capture: Capture | None = None  # the answer as fetched (none when nothing answered)
