"""The export record: one post version as users and other tools see it.

The field names and their order are the product contract (README, "Export record"); jsonl
and csv exports and ``chanarchive extract`` all speak it.
"""

from __future__ import annotations

import json
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
        item = {"type": m.get("type"), "url": m.get("url")}
        _add_file(item, files.get(str(index)))
        thumb = m.get("thumb")
        if thumb and thumb != item["url"]:
            item["thumb"] = {"url": thumb}
            _add_file(item["thumb"], files.get(f"{index}/thumb"))
        items.append(item)
    return items


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


def media_files_of(value: str | None) -> dict[str, tuple[str, int, str | None]]:
    """The ``media_files`` column of an export row (JSON ``[[slot, sha256, size, type]...]``)."""
    return {slot: (sha, size, kind) for slot, sha, size, kind in json.loads(value or "[]")}


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
    """The export record of an archive row (columns named as FIELDS, lists as JSON text)."""
    record = {name: row.get(name) for name in FIELDS}
    record["post_id"] = str(record["post_id"])
    record["edited"] = bool(record["edited"]) or (record["version"] or 1) > 1
    record["links"] = json.loads(record["links"] or "[]")
    record["media"] = public_media(
        json.loads(record["media"] or "[]"), media_files_of(row.get("media_files"))
    )
    record["reactions"] = json.loads(record["reactions"]) if record["reactions"] else None
    return record
