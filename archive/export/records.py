"""The export record: one post version as users and other tools see it.

The field names and their order are the product contract (README, "Export record"); jsonl
and csv exports and ``chanarchive extract`` all speak it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from ..models import Post

FIELDS = [
    "channel",
    "post_id",
    "url",
    "published_at",
    "title",
    "text",
    "raw_text",
    "version",
    "captured_at",
    "edited",
    "deleted_at",
    "views",
    "forwarded_from",
    "reply_to",
    "links",
    "media",
    "reactions",
    "source_url",
]


def public_media(
    media: list[dict[str, Any]], files: dict[str, tuple[str, int, str | None]] | None = None
) -> list[dict[str, Any]]:
    """Media as the record gives them: ``{type, url}`` each, with ``sha256``, ``size`` and
    ``content_type`` when the item's file is archived (``files``: slot -> those three).

    An item shown by a thumbnail of its own (a video, a gif, a round video) adds
    ``thumb``: ``{url}``, with the same three when the thumbnail is archived.
    """
    files = files or {}
    items = []
    for index, m in enumerate(media):
        item = {"type": _str_or_none(m.get("type")), "url": _str_or_none(m.get("url"))}
        _add_file(item, files.get(str(index)))
        thumb = _str_or_none(m.get("thumb"))
        if thumb and thumb != item["url"]:
            item["thumb"] = {"url": thumb}
            _add_file(item["thumb"], files.get(f"{index}/thumb"))
        items.append(item)
    return items


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _add_file(item: dict[str, Any], archived: tuple[str, int, str | None] | None) -> None:
    if archived is not None:
        item["sha256"], item["size"], item["content_type"] = archived


def archived_files(record: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The archived files a record's media name: each item's, then its thumbnail's."""
    for item in record.get("media") or []:
        if item.get("sha256"):
            yield item
        thumb = item.get("thumb")
        if isinstance(thumb, dict) and thumb.get("sha256"):
            yield thumb


_SHA256 = re.compile(r"[0-9a-f]{64}\Z")


def media_files_of(value: str | None) -> dict[str, tuple[str, int, str | None]]:
    """The ``media_files`` column of an export row (JSON ``[[slot, sha256, size, type]...]``).

    Entries that are not a slot, a sha256, a size and a type are left out.
    """
    files = {}
    for entry in _json(value, list) or []:
        if not (isinstance(entry, list) and len(entry) == 4):
            continue
        slot, sha, size, kind = entry
        if isinstance(sha, str) and _SHA256.match(sha) and isinstance(slot, str):
            files[slot] = (sha, _count(size), kind if isinstance(kind, str) else None)
    return files


def record_from_post(
    post: Post, *, version: int = 1, captured_at: str | None = None, deleted_at: str | None = None
) -> dict[str, Any]:
    """The export record of a freshly parsed post (``extract``: nothing archived yet)."""
    return {
        "channel": post.channel,
        "post_id": post.post_id,
        "url": post.url,
        "published_at": post.published_at,
        "title": post.title,
        "text": post.text if post.text is not None else post.raw_text,
        "raw_text": post.raw_text,
        "version": version,
        "captured_at": captured_at,
        "edited": bool(post.edited or version > 1),
        "deleted_at": deleted_at,
        "views": post.views,
        "forwarded_from": (post.forwarded_from or {}).get("url"),
        "reply_to": post.reply_to,
        "links": list(post.links),
        "media": public_media(post.media),
        "reactions": dict(post.reactions) if post.reactions is not None else None,
        "source_url": post.source_url,
    }


def record_from_row(row: dict[str, Any]) -> dict[str, Any]:
    """The export record of an archive row (columns named as FIELDS, lists as JSON text).

    The door from the archive's rows to the export: a shared archive may hold
    anything, and each field comes out as the record says it is — text as
    text (bytes decoded), a count that is not one as null, a list or an
    object that is not valid JSON as empty (null for reactions), so that no
    row breaks an export.
    """
    record = {name: row.get(name) for name in FIELDS}
    for name in _TEXT_FIELDS:
        record[name] = _text(record[name])
    record["post_id"] = record["post_id"] or ""
    record["version"] = _count(record["version"])
    record["edited"] = _flag(record["edited"]) or (record["version"] or 1) > 1
    record["views"] = _count(record["views"])
    record["links"] = [link for link in _json(record["links"], list) or [] if isinstance(link, str)]
    media = [m for m in _json(record["media"], list) or [] if isinstance(m, dict)]
    record["media"] = public_media(media, media_files_of(row.get("media_files")))
    reactions = _json(record["reactions"], dict)
    record["reactions"] = (
        {str(k): n for k, n in ((k, _count(v)) for k, v in reactions.items()) if n is not None}
        if reactions is not None
        else None
    )
    return record


#: The record's fields that are text (or null).
_TEXT_FIELDS = (
    "channel", "post_id", "url", "published_at", "title", "text", "raw_text", "captured_at",
    "deleted_at", "forwarded_from", "reply_to", "source_url",
)  # fmt: skip
#: The largest count a record carries; above it a "count" is not one.
_MAX_COUNT = 10**15


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


def _count(value: Any) -> int | None:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= _MAX_COUNT:
        return value
    return None


def _flag(value: Any) -> bool:
    return value not in (None, 0, 0.0, "", b"", "0")


def _json(value: Any, kind: type) -> Any:
    """``value`` parsed as JSON when it is of ``kind`` (list or dict), else None."""
    if isinstance(value, bytes | bytearray | memoryview):
        value = _text(value)
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = json.loads(value)
    except (ValueError, RecursionError):
        return None
    return parsed if isinstance(parsed, kind) else None
