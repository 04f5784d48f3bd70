"""Channel pages as heavy as real t.me/s pages, for the crawl and storage benchmarks.

The demo site's markup (``chanarchive.demo.site``) has the real structure but
is lean: about 3 KB a message where a real channel page (the saved one in
``../shared/realdata/telegram``) carries about 8 KB. The weight is in what
real pages repeat on every message: the four-path SVG bubble tail, the
channel's photo behind a long signed CDN URL, signed photo and video URLs of
several hundred characters (random, so they do not compress), video players
with their "not supported" labels, reactions, and indentation. This module
adds those to the demo site's pages, so the parser still reads them and the
archive stores what it would store from Telegram.

Pages are rendered once and served from memory (:func:`serve_pages`): the
server's cost is the same for every crawler measured against it.
"""

from __future__ import annotations

import base64
import random
import re
import time

from chanarchive.demo.site import Response, SampleChannel, SiteServer, render_channel_page

_PATHS = (
    ("background", ' fill="#ffffff"', "M8,1 L9,1 L9,20 L8,20 L8,18 C7.807,15.161 7.124,12.233"
     " 5.950,9.218 C5.046,6.893 3.504,4.733 1.325,2.738 L1.325,2.738 C0.917,2.365 0.89,1.732"
     " 1.263,1.325 C1.452,1.118 1.72,1 2,1 L8,1 Z"),
    ("border_1x", ' fill="#d7e3ec"', "M9,1 L2,1 C1.72,1 1.452,1.118 1.263,1.325 C0.89,1.732"
     " 0.917,2.365 1.325,2.738 C3.504,4.733 5.046,6.893 5.95,9.218 C7.124,12.233 7.807,15.161"
     " 8,18 L8,20 L9,20 L9,1 Z M2,0 L9,0 L9,20 L7,20 L7,20 L7.002,18.068 C6.816,15.333"
     " 6.156,12.504 5.018,9.58 C4.172,7.406 2.72,5.371 0.649,3.475 C-0.165,2.729 -0.221,1.464"
     " 0.525,0.649 C0.904,0.236 1.439,0 2,0 Z"),
    ("border_2x", "", "M9,1 L2,1 C1.72,1 1.452,1.118 1.263,1.325 C0.89,1.732 0.917,2.365"
     " 1.325,2.738 C3.504,4.733 5.046,6.893 5.95,9.218 C7.124,12.233 7.807,15.161 8,18 L8,20"
     " L9,20 L9,1 Z M2,0.5 L9,0.5 L9,20 L7.5,20 L7.5,20 L7.501,18.034 C7.312,15.247 6.64,12.369"
     " 5.484,9.399 C4.609,7.15 3.112,5.052 0.987,3.106 C0.376,2.547 0.334,1.598 0.894,0.987"
     " C1.178,0.677 1.579,0.5 2,0.5 Z"),
    ("border_3x", "", "M9,1 L2,1 C1.72,1 1.452,1.118 1.263,1.325 C0.89,1.732 0.917,2.365"
     " 1.325,2.738 C3.504,4.733 5.046,6.893 5.95,9.218 C7.124,12.233 7.807,15.161 8,18 L8,20"
     " L9,20 L9,1 Z M2,0.667 L9,0.667 L9,20 L7.667,20 L7.667,20 L7.668,18.023 C7.477,15.218"
     " 6.802,12.324 5.64,9.338 C4.755,7.064 3.243,4.946 1.1,2.983 C0.557,2.486 0.52,1.643"
     " 1.017,1.1 C1.269,0.824 1.626,0.667 2,0.667 Z"),
)  # fmt: skip
_PAD = "\n" + " " * 36
_TAIL = (
    '<i class="tgme_widget_message_bubble_tail">\n                            <svg class="bubble_icon"'
    ' width="9px" height="20px" viewBox="0 0 9 20">\n                                <g fill="none">'
    + "".join(
        f'{_PAD}<path class="{name}"{fill}\n                                          d="{d}"></path>'
        for name, fill, d in _PATHS
    )
    + "\n                                </g>\n                            </svg>\n                        </i>"
)
_LEAN_TAIL = re.compile(r'<i class="tgme_widget_message_bubble_tail">.*?</i>', re.S)
_FOOTER = '<div class="tgme_widget_message_footer'
_MESSAGE = re.compile(r'data-post="[^"/]+/(\d+)"')
_EMOJI = ("F09F918D", "E29DA4", "F09F94A5", "F09F98A2", "F09F918F", "F09F98B1")


def signed_url(rng: random.Random, suffix: str = ".jpg", size: int = 256) -> str:
    """A Telegram-like signed CDN URL: a long random token (it does not compress)."""
    token = base64.urlsafe_b64encode(rng.randbytes(size)).decode().rstrip("=")
    return f"https://cdn4.telegram-cdn.org/file/{token}{suffix}"


def _video(rng: random.Random, href: str) -> str:
    video = signed_url(rng, ".mp4?token=" + base64.urlsafe_b64encode(rng.randbytes(180)).decode())
    return (
        f'\n                        <a class="tgme_widget_message_video_player js-message_video_player"'
        f' href="{href}?single">\n                            <i class="tgme_widget_message_video_thumb"'
        f" style=\"background-image:url('{signed_url(rng)}')\"></i>"
        '\n                            <div class="tgme_widget_message_video_wrap js-message_video_wrap">'
        f'\n                                <video src="{video}" class="tgme_widget_message_video'
        ' js-message_video" width="100%" height="100%"></video>\n                            </div>'
        '\n                            <div class="message_video_play js-message_video_play"></div>'
        '\n                            <time class="message_video_duration js-message_video_duration">'
        f"0:{rng.randint(10, 59)}</time>\n                            <div class="
        '"message_media_not_supported_wrap">\n                                <div class='
        '"message_media_not_supported">\n                                    <div class='
        '"message_media_not_supported_label">This media is not supported in your browser</div>'
        '\n                                    <span class="message_media_view_in_telegram">VIEW IN'
        " TELEGRAM</span>\n                                </div>\n                            </div>"
        "\n                        </a>"
    )


def _reactions(rng: random.Random) -> str:
    spans = "".join(
        f'<span class="tgme_reaction"><i class="emoji" style="background-image:url('
        f"'//telegram.org/img/emoji/40/{code}.png')\"><b>·</b></i>{rng.randint(1, 999)}</span>"
        for code in rng.sample(_EMOJI, rng.randint(2, 5))
    )
    return (
        '\n                        <div class="tgme_widget_message_reactions js-message_reactions">'
        f"{spans}</div>\n                        "
    )


def enrich(page: str, channel_name: str) -> str:
    """The demo site's page ``page`` with the weight of a real one (stable for each message)."""
    photo = signed_url(random.Random(channel_name), size=300)
    messages = page.split('<div class="tgme_widget_message_wrap')
    out = [messages[0]]
    for block in messages[1:]:
        found = _MESSAGE.search(block)
        rng = random.Random(int(found.group(1)) if found else 0)
        block = _LEAN_TAIL.sub(lambda _: _TAIL, block, count=1)
        block = block.replace('"></i></a></div>', f'"><img\n                            src="{photo}"></i></a>\n                    </div>', 1)  # fmt: skip
        extra = ""
        if found and int(found.group(1)) % 4 == 2:
            extra += _video(rng, f"https://t.me/{channel_name}/{found.group(1)}")
        if found and int(found.group(1)) % 3 != 1:
            extra += _reactions(rng)
        if extra:
            block = block.replace(_FOOTER, extra + _FOOTER, 1)
        block = block.replace("><div", ">\n                    <div").replace(
            "</div></div>", "</div>\n                </div>"
        )
        out.append(block)
    return '<div class="tgme_widget_message_wrap'.join(out)


def render_pages(channel: SampleChannel, page_size: int) -> dict[int | None, bytes]:
    """Every page of ``channel`` (key: its ``before``, None for the newest), enriched."""
    pages: dict[int | None, bytes] = {}
    before = None
    ids = [p.id for p in channel.visible_posts()]
    while True:
        html = render_channel_page(channel, before=before, page_size=page_size)
        pages[before] = enrich(html, channel.name).encode("utf-8")
        shown = [i for i in ids if before is None or i < before][-page_size:]
        if not shown or min(shown) <= min(ids):
            return pages
        before = min(shown)


def serve_pages(
    server: SiteServer, name: str, pages: dict[int | None, bytes], latency: float = 0.0
) -> None:
    """Serve ``pages`` as ``/s/NAME`` (and ``?before=N``) on ``server``, ``latency`` s late."""

    def handler(request):
        before_raw = request.query.get("before", "")
        before = int(before_raw) if before_raw.isdigit() else None
        if before not in pages:
            return None
        if latency:
            time.sleep(latency)
        return Response(body=pages[before])

    server.route(f"/s/{name}", handler)
