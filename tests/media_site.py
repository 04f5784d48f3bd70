"""Media files for the tests' server: ``/media/<name>`` with image-like bytes, and its controls.

The bytes of ``/media/NAME`` are made from NAME (a JPEG start and end marker
around seeded random bytes, as incompressible as a real photo:
:func:`chanarchive.demo.site.sample_media_bytes`); the part of NAME from a
``~`` to its extension is ignored, so ``/media/a~1.jpg`` and
``/media/a~2.jpg`` are two URLs of identical bytes.

Controls (``/_control/...``):

- ``media_channel?name=X&posts=N[&shared=1][&preview=1][&video=1][&base=URL]``: channel X
  with N posts, each with one photo ``/media/X-ID.jpg`` (absolute URLs: Telegram
  markup resolves against t.me) on this server, or on ``base`` when given; ``shared``: the
  last two show identical bytes under two URLs; ``preview``: post 1 also has a link
  preview with an image; ``video``: post 1 also has a video ``/media/X-video.mp4``
  shown by its thumbnail ``/media/X-thumb.jpg``
- ``media?state=gone|ok``: every media file answers 404 (gone) or again its bytes
- ``media_fail?file=NAME&code=500``: NAME answers ``code`` (0: no more)
- ``media_size?file=NAME&bytes=N``: NAME is N bytes long
- ``media_sign?on=1``: every page render signs its media URLs anew (``?sig=N``), as
  Telegram's CDN links change between fetches
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import urlsplit

from chanarchive.demo.site import (
    Request,
    Response,
    SampleChannel,
    SamplePost,
    sample_media_bytes,
)

_MEDIA_URL = re.compile(r"(/media/[^'\"?)\s]+)")


def media_bytes(name: str, size: int | None = None) -> bytes:
    """The bytes ``/media/NAME`` serves: JPEG-like, deterministic, 20-60 KB unless ``size``."""
    return sample_media_bytes(name, size)


def media_sha256(name: str, size: int | None = None) -> str:
    return hashlib.sha256(media_bytes(name, size)).hexdigest()


def media_requests(site) -> list[str]:
    """The ``/media/`` paths ``site`` (a test server process) served, query left out, in order."""
    return [urlsplit(path).path for _m, path, _s in site.stats() if path.startswith("/media/")]


def serve_media_channel(site, name: str, posts: int = 5, **flags) -> str:
    """Have ``site`` serve :func:`media_channel` NAME, its media URLs signed anew on every
    page render; returns the channel's URL."""
    site.control("media_channel", name=name, posts=posts, **flags)
    site.control("media_sign", on=1)
    return f"{site.url}/s/{name}"


def media_channel(
    name: str, posts: int, base: str, *, shared: bool = False, preview: bool = False,
    video: bool = False,
) -> SampleChannel:  # fmt: skip
    """A channel whose every post has a photo on ``BASE/media/``."""
    items = []
    for i in range(1, posts + 1):
        photo = f"{base}/media/{name}-{i}.jpg"
        if shared and i > posts - 2:
            photo = f"{base}/media/{name}-same~{i}.jpg"
        post = SamplePost(
            id=i,
            date=f"2026-02-01T{(i % 24):02d}:00:00+00:00",
            text=f"Photo post {i} of {name}",
            views=10 * i,
            photos=[photo],
        )
        if video and i == 1:
            post.video = (f"{base}/media/{name}-video.mp4", f"{base}/media/{name}-thumb.jpg")
        if preview and i == 1:
            post.link_preview = {
                "url": "https://example.com/story",
                "site": "Example",
                "title": "A story",
                "image": f"{base}/media/{name}-preview.jpg",
            }
        items.append(post)
    return SampleChannel(
        name=name, title=f"Media {name}", description="Photos", subscribers=5, posts=items
    )


class MediaFiles:
    """The state of the ``/media/`` route: gone or not, failing files, file sizes, signing."""

    def __init__(self) -> None:
        self.gone = False
        self.fail: dict[str, int] = {}
        self.sizes: dict[str, int] = {}
        self.sign = False
        self.signed = 0

    def route(self, request: Request) -> Response | None:
        name = request.path[len("/media/") :]
        if not name or "/" in name:
            return None
        if self.gone:
            return Response(status=404, body=b"gone", content_type="text/plain")
        code = self.fail.get(name)
        if code:
            return Response(status=code, body=b"failing", content_type="text/plain")
        kind = "video/mp4" if name.endswith(".mp4") else "image/jpeg"
        return Response(body=media_bytes(name, self.sizes.get(name)), content_type=kind)

    def control(self, site, action: str, query: dict[str, str]) -> dict | None:
        if action == "media_channel":
            channel = media_channel(
                query.get("name", "media"),
                int(query.get("posts", "3")),
                query.get("base") or site.url,
                shared=query.get("shared") == "1",
                preview=query.get("preview") == "1",
                video=query.get("video") == "1",
            )
            site.set_channel(channel)
            return {"ok": True, "url": f"/s/{channel.name}"}
        if action == "media":
            self.gone = query.get("state") == "gone"
            return {"ok": True}
        if action == "media_fail":
            self.fail[query.get("file", "")] = int(query.get("code", "0"))
            return {"ok": True}
        if action == "media_size":
            self.sizes[query.get("file", "")] = int(query.get("bytes", "0"))
            return {"ok": True}
        if action == "media_sign":
            self.sign = query.get("on") == "1"
            return {"ok": True}
        return None

    def signed_page(self, response: Response) -> Response:
        """``response`` (a channel page) with its media URLs signed anew, when signing is on."""
        if not self.sign or not isinstance(response.body, str):
            return response
        self.signed += 1
        token = f"?sig={self.signed}"
        response.body = _MEDIA_URL.sub(lambda m: m.group(1) + token, response.body)
        return response
