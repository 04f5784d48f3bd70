"""``/-/media/SHA256``: an archived media file, served as exactly one picture, video or audio
type, or as a download.

A file is read through a read-only connection of its own (a file may be
larger than the guard lets a query read); it is served inline only when
its stored content type is exactly one type of :data:`INLINE_MEDIA`
(then as that type, spelled by us), as a download
(``application/octet-stream``) otherwise, always with ``nosniff`` and a
sandboxing CSP: never run by the browser.
"""

from __future__ import annotations

import re
from typing import Any

from ...store import connect_readonly, media_file

#: Content types a media file is served as (exactly these, nothing else): pictures
#: a browser shows but cannot run (no SVG), videos and sound. Anything else is a download.
INLINE_MEDIA = frozenset(
    {
        "image/jpeg", "image/png", "image/gif", "image/webp", "image/avif", "image/bmp",
        "video/mp4", "video/webm", "video/ogg", "video/quicktime",
        "audio/mpeg", "audio/ogg", "audio/mp4", "audio/aac", "audio/wav", "audio/webm",
        "audio/flac", "audio/opus",
    }
)  # fmt: skip
_MEDIA_TYPE = re.compile(r"[a-z]+/[a-z0-9][a-z0-9.+-]*")


def inline_type(content_type: Any) -> str | None:
    """The type a stored media file is shown as, or None: a download.

    Only a content type that is exactly one type of :data:`INLINE_MEDIA`
    (parameters after ``;`` allowed, no second type, nothing else) is
    shown; ``image/png, text/html`` is not.
    """
    if not isinstance(content_type, str) or len(content_type) > 200 or "," in content_type:
        return None
    kind = content_type.split(";", 1)[0].strip().lower()
    if not _MEDIA_TYPE.fullmatch(kind) or kind not in INLINE_MEDIA:
        return None
    return kind


def read_media(path: str, sha256: str) -> tuple[str | None, bytes] | None:
    """The stored content type and bytes of media file ``sha256`` (None: not kept)."""
    conn = connect_readonly(path)
    try:
        return media_file(conn, sha256)
    finally:
        conn.close()


def media_headers(sha256: str, content_type: Any) -> tuple[str, dict[str, str]]:
    """The type a file is served as, and the headers it is served with."""
    headers = {
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "public, max-age=31536000, immutable",
    }
    kind = inline_type(content_type)
    if kind is None:
        kind = "application/octet-stream"
        headers["Content-Disposition"] = f'attachment; filename="{sha256}"'
    return kind, headers
