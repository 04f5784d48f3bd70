"""What the spider hands to the writer: a fetched page, a media file, why a fetch failed, a check.

Each item has one record form (JSON-ready: :meth:`to_record`) and one way
back (:func:`item_from_record`), used wherever an item leaves its process
(a worker's delivery to the ingester). Reading a record checks every field's
type and size and the values an item may take (an error's kind, a check's
outcome): a record that does not fit is refused (:class:`~archive.errors.BadRecord`),
never written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from archive.errors import BadRecord
from archive.extract.values import check_page
from archive.models import (
    CHECK_OUTCOMES,
    ERROR_KINDS,
    Capture,
    MediaFetch,
    MediaRef,
    Page,
    from_record,
    to_record,
)


class _Record:
    """The record form shared by the items: ``{"type": ..., field: value ...}``."""

    TYPE: ClassVar[str]

    def to_record(self) -> dict[str, Any]:
        return {"type": self.TYPE, **to_record(self)}

    @classmethod
    def from_record(cls, data: dict[str, Any]):
        if not isinstance(data, dict) or data.get("type") != cls.TYPE:
            raise BadRecord(f"not a {cls.TYPE} item")
        fields = {k: v for k, v in data.items() if k != "type"}
        return from_record(cls, fields, f"{cls.TYPE} item")


@dataclass
class PageItem(_Record):
    """A fetched page with what was parsed from it (``page`` None when parsing failed)."""

    TYPE: ClassVar[str] = "page"

    source: str
    capture: Capture
    page: Page | None
    #: Telegram: the walk proved that no message of the channel is older than the page shows
    #: (an empty page: its ``before``): the archive then remembers the start was reached.
    start: bool = False

    @classmethod
    def from_record(cls, data: dict[str, Any]) -> PageItem:
        """The item, and its page's values held to what a parsed page's may be (a record from
        another process is not trusted to have been parsed here)."""
        item = super().from_record(data)
        if item.page is not None:
            check_page(item.page)
        return item


@dataclass
class ErrorItem(_Record):
    """A fetch or parse that failed, with its reason, to be kept with the crawl."""

    TYPE: ClassVar[str] = "error"

    source: str
    url: str | None
    kind: str
    message: str

    def __post_init__(self) -> None:
        if self.kind not in ERROR_KINDS:
            raise BadRecord(f"error item: unknown kind {self.kind!r}"[:200])


@dataclass
class MediaItem(_Record):
    """A media URL fetched (``fetch``) or only seen again (None), with the post slots showing it."""

    TYPE: ClassVar[str] = "media"

    source: str
    url: str
    refs: list[MediaRef]
    fetch: MediaFetch | None = None


@dataclass
class CheckItem(_Record):
    """A look at a missing post's own embed: ``deleted``, ``alive`` or ``failed``, and why."""

    TYPE: ClassVar[str] = "check"

    source: str
    channel: str
    post_id: str
    url: str
    outcome: str
    http_status: int | None
    reason: str
    checked_at: str
    capture: Capture | None = None  # the answer as fetched (none when nothing answered)

    def __post_init__(self) -> None:
        if self.outcome not in CHECK_OUTCOMES:
            raise BadRecord(f"check item: unknown outcome {self.outcome!r}"[:200])


Item = PageItem | ErrorItem | MediaItem | CheckItem
ITEM_TYPES: dict[str, type] = {cls.TYPE: cls for cls in (PageItem, ErrorItem, MediaItem, CheckItem)}


def item_from_record(data: Any) -> Item:
    """The item a record stands for, checked; :class:`BadRecord` says what does not fit."""
    kind = data.get("type") if isinstance(data, dict) else None
    cls = ITEM_TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise BadRecord(f"unknown item type {kind!r}"[:200])
    return cls.from_record(data)
