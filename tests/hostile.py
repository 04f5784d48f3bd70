"""A corpus of hostile pages, served by the tests' server under ``/hostile/NAME``.

Each case is a page a crawled site could serve to damage or poison an
archive: Telegram markup that claims another channel or names a path as its
channel, ids and counters no int can hold, markup deeper or larger than the
HTML parser reads, binary data dressed as HTML, a listing of thousands of
posts. ``VICTIM`` is the channel the tests archive first, from another
server, and that every claim below tries to rewrite.

:func:`aimed_channel` is a channel whose pictures aim the crawler at another
server on loopback, in every spelling of its address (``/_control/aimed``).
"""

from __future__ import annotations

import gzip
import html
import random
import time
from collections.abc import Callable

from chanarchive.demo.site import SampleChannel, SamplePost

VICTIM = "victim_news"

Case = Callable[[dict[str, str]], tuple[int, list[tuple[str, str]], bytes]]
HTML = [("Content-Type", "text/html; charset=utf-8")]


def message(
    data_post: str, text: str, *, views: str = "1.2K", date: str = "2026-01-01T09:00:00+00:00"
) -> str:
    return (
        '<div class="tgme_widget_message_wrap"><div class="tgme_widget_message js-widget_message"'
        f' data-post="{html.escape(data_post)}"><div class="tgme_widget_message_bubble">'
        f'<div class="tgme_widget_message_text js-message_text">{html.escape(text)}</div>'
        '<div class="tgme_widget_message_footer"><div class="tgme_widget_message_info">'
        f'<span class="tgme_widget_message_views">{html.escape(views)}</span>'
        '<span class="tgme_widget_message_meta"><a class="tgme_widget_message_date"'
        f' href="https://t.me/{html.escape(data_post)}"><time datetime="{html.escape(date)}">'
        "9:00</time></a></span></div></div></div></div></div>"
    )


def channel_page(
    username: str | None, messages: list[str], *, subscribers: str = "1.5K", extra: str = ""
) -> str:
    header = ""
    if username is not None:
        header = (
            '<div class="tgme_channel_info"><div class="tgme_channel_info_header">'
            '<div class="tgme_channel_info_header_title"><span>Hostile</span></div>'
            '<div class="tgme_channel_info_header_username">'
            f'<a href="#">@{html.escape(username)}</a></div></div>'
            '<div class="tgme_channel_info_counters"><div class="tgme_channel_info_counter">'
            f'<span class="counter_value">{html.escape(subscribers)}</span>'
            ' <span class="counter_type">subscribers</span></div></div></div>'
        )
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>Hostile</title></head><body>'
        f"{header}{extra}{''.join(messages)}</body></html>"
    )


def scheme_message(data_post: str) -> str:
    """A message whose every URL is something else than http(s) (one link in its text is)."""
    msg = message(data_post, "text")
    msg = msg.replace(
        f'href="https://t.me/{html.escape(data_post)}"', 'href="javascript:alert(10)"'
    )
    extra = (
        '<div class="tgme_widget_message_forwarded_from">Forwarded from '
        '<a class="tgme_widget_message_forwarded_from_name" href="javascript:alert(2)">'
        "<span>src</span></a></div>"
        '<a class="tgme_widget_message_reply" href="data:text/html,x"><div>reply</div></a>'
        '<a class="tgme_widget_message_photo_wrap" href="file:///etc/passwd"'
        " style=\"background-image:url('javascript:alert(3)')\"></a>"
        '<a class="tgme_widget_message_video_player" href="vbscript:x">'
        '<i class="tgme_widget_message_video_thumb"'
        " style=\"background-image:url('data:image/png,x')\"></i>"
        '<video src="file:///etc/shadow"></video></a>'
    )
    text_div = '<div class="tgme_widget_message_text'
    msg = msg.replace(text_div, extra + text_div)
    links = (
        '<a href="javascript:alert(4)">a</a> <a href="data:text/html,x">b</a>'
        ' <a href="mailto:x@y.example">c</a> <a href="tg://resolve?domain=x">d</a>'
        ' <a href=" JaVaScRiPt:alert(8)">e</a> <a href="https://ok.example/page">ok</a> '
    )
    msg = msg.replace(">text</div>", f">{links}text</div>")
    preview = (
        '<a class="tgme_widget_message_link_preview" href="javascript:alert(5)">'
        '<i class="link_preview_image"'
        " style=\"background-image:url('javascript:alert(6)')\"></i>"
        '<div class="link_preview_title">t</div></a>'
    )
    footer = '<div class="tgme_widget_message_footer'
    return msg.replace(footer, preview + footer)


def _values_page() -> str:
    """Dates and counts no real page shows, and one of each that is fine."""
    views = ["1e309K", "-5", "NaN", "1" + "0" * 30, "inf", "\u22125", "5 views 6", "12 345", "1.2K"]
    dates = ["1969-12-31T23:59:59+00:00", "2101-01-01T00:00:00Z", "0001-01-01", "garbage",
             "2026-01-01T09:00:00", "9999-12-31T23:59:59-23:59", "2026-01-02T09:00:00+00:00",
             "2026-01-03T09:00:00+00:00", "2026-01-04T09:00:00+00:00"]  # fmt: skip
    reactions = (
        '<div class="tgme_widget_message_reactions">'
        '<span class="tgme_reaction"><i class="emoji"><b>👍</b></i>12</span>'
        '<span class="tgme_reaction"><i class="emoji"><b>🔥</b></i>-5</span>'
        '<span class="tgme_reaction"><i class="emoji"><b>❤</b></i>1e309K</span>'
        '<span class="tgme_reaction"><i class="emoji"><b>🎉</b></i>' + "9" * 40 + "</span></div>"
    )
    footer = '<div class="tgme_widget_message_footer'
    messages = [
        message(f"values_chan/{i}", f"post {i}", views=v, date=d).replace(
            footer, reactions + footer
        )
        for i, (v, d) in enumerate(zip(views, dates, strict=True), start=1)
    ]
    return channel_page("values_chan", messages, subscribers="1e309K")


def _page(text: str, headers: list[tuple[str, str]] = HTML) -> Case:
    body = text.encode("utf-8")
    return lambda query: (200, headers, body)


def _deep(levels: int) -> str:
    inner = message("deep_chan/2", "deep inside")
    return channel_page(
        "deep_chan",
        [message("deep_chan/1", "on top"), "<div>" * levels + inner + "</div>" * levels],
    )


def _binary(query: dict[str, str]) -> tuple[int, list[tuple[str, str]], bytes]:
    data = random.Random(9).randbytes(200_000)
    return 200, [("Content-Type", query.get("ct", "text/html"))], data


def _utf16(query: dict[str, str]) -> tuple[int, list[tuple[str, str]], bytes]:
    text = channel_page("wide_chan", [message("wide_chan/1", "宽字符页面的第一条消息")])
    return 200, [("Content-Type", "text/html; charset=utf-16")], text.encode("utf-16")


def _drip(query: dict[str, str]) -> tuple[int, list[tuple[str, str]], object]:
    """A page that comes one byte at a time, ``every`` seconds apart: no deadline of its own."""
    every = float(query.get("every", "0.5"))
    body = channel_page("drip_chan", [message("drip_chan/1", "slowly")]).encode()

    def chunks():
        for byte in body:
            time.sleep(every)
            yield bytes([byte])

    return 200, [*HTML, ("Content-Length", str(len(body)))], chunks()


def _gzip(query: dict[str, str]) -> tuple[int, list[tuple[str, str]], bytes]:
    body = channel_page("gzip_chan", [message("gzip_chan/1", "压缩过的消息 compressed")])
    return 200, [*HTML, ("Content-Encoding", "gzip")], gzip.compress(body.encode())


def _listing(count: int) -> str:
    cards = "".join(
        f'<li><a href="/hostile/post/{i}">Post number {i}</a> <span>a few words</span></li>'
        for i in range(1, count + 1)
    )
    return f"<!DOCTYPE html><html><head><title>Huge listing</title></head><body><ul>{cards}</ul></body></html>"


CASES: dict[str, Case] = {
    # Another channel's name, claimed from this server: refused, never written.
    "claim": _page(
        channel_page(
            VICTIM,
            [message(f"{VICTIM}/3", "POISONED edit of 3"), message(f"{VICTIM}/9", "POISON 9")],
        )
    ),
    "claim_range": _page(
        channel_page(VICTIM, [message(f"{VICTIM}/1", "POISON low"), message(f"{VICTIM}/9", "x")])
    ),
    # A page of its own channel with one message of the victim's in it.
    "mixed": _page(
        channel_page(
            "mixed_chan",
            [message("mixed_chan/1", "own post"), message(f"{VICTIM}/5", "POISON via data-post")],
        )
    ),
    # Paths and junk where a channel name goes.
    "dotdot": _page(channel_page("../../escaped", [message("../../escaped/1", "path escape")])),
    "absolute": _page(channel_page("/tmp/abs_escape", [message("/tmp/abs_escape/1", "absolute")])),
    "slash": _page(channel_page("a/b", [message("a/b/1", "slash")])),
    "no_header_dotdot": _page(channel_page(None, [message("../../nohdr/1", "from data-post")])),
    "script_name": _page(channel_page("x\u202ey<script>", [message("x/1", "weird")])),
    # URLs that are no http(s) URL, everywhere a message has one.
    "schemes": _page(channel_page("schemes_chan", [scheme_message("schemes_chan/1")])),
    # Dates out of 1970-2100, counts no channel shows.
    "values": _page(_values_page()),
    # Ids and counters.
    "big_id": _page(
        channel_page(
            "bigid_chan",
            [
                message("bigid_chan/1", "ok one"),
                message("bigid_chan/9223372036854775808", "2**63"),
                message("bigid_chan/9223372036854775807", "2**63 - 1"),
                message("bigid_chan/2", "ok two"),
            ],
        )
    ),
    "odd_ids": _page(
        channel_page(
            "oddid_chan",
            [
                message("oddid_chan/1", "ok one"),
                message("oddid_chan/\u00b2", "superscript two"),
                message("oddid_chan/\u0665", "arabic five"),
                message("oddid_chan/-5", "negative"),
                message("oddid_chan/0", "zero"),
                message("oddid_chan/" + "9" * 5000, "five thousand digits"),
                message("oddid_chan/3", "ok three"),
            ],
        )
    ),
    "duplicate_ids": _page(
        channel_page(
            "dup_chan",
            [message("dup_chan/7", "first text"), message("dup_chan/7", "second text")],
        )
    ),
    "huge_counts": _page(
        channel_page(
            "counts_chan",
            [
                message("counts_chan/1", "a", views="99999999999999999999999"),
                message("counts_chan/2", "b", views="1" + "0" * 400 + "K"),
            ],
            subscribers="9" * 30,
        )
    ),
    "bad_dates": _page(
        channel_page(
            "dates_chan",
            [
                message("dates_chan/1", "a", date="99999-99-99T99:99"),
                message("dates_chan/2", "b", date="garbage"),
                message("dates_chan/3", "c", date="9999-12-31T23:59:59-23:59"),
            ],
        )
    ),
    # More than the HTML parser reads: reported, never silent.
    "deep": _page(_deep(300)),
    "huge_attribute": _page(
        channel_page(
            "attr_chan",
            [
                message("attr_chan/1", "x").replace(
                    "data-post=", 'data-x="' + "A" * 11_000_000 + '" data-post='
                ),
                message("attr_chan/2", "ok"),
            ],
        )
    ),
    # Not pages at all.
    "binary": _binary,
    "utf16": _utf16,
    # Thousands of posts on one page.
    "huge_listing": _page(_listing(1500)),
    # One fetch outside a crawl (``chanarchive extract URL``).
    "drip": _drip,
    "gzip": _gzip,
}


def serve(name: str, query: dict[str, str]) -> tuple[int, list[tuple[str, str]], bytes] | None:
    """The response of case ``name``, or None when there is no such case."""
    case = CASES.get(name)
    return case(query) if case is not None else None


#: 127.0.0.1 in the spellings a URL's host may use, by name.
LOOPBACK_SPELLINGS = {
    "dotted": "127.0.0.1",
    "short": "127.1",
    "hex": "0x7f000001",
    "decimal": "2130706433",
    "octal": "017700000001",
    "ipv6": "[::1]",
    "mapped": "[::ffff:127.0.0.1]",
    "name": "localhost",
}


def aimed_channel(
    name: str, port: int, base: str, *, hosts: dict[str, str] | None = None
) -> SampleChannel:
    """Channel NAME (served from ``base``) whose pictures are on ``127.0.0.1:PORT``, in every
    spelling of :data:`LOOPBACK_SPELLINGS` (``hosts``: others, by name), as photos, a link
    preview's image, a video and its thumbnail, one behind a redirect from ``base``, one a
    ``file:`` URL; and one picture on ``base`` itself (``/media/NAME-own.jpg``)."""
    spellings = {**LOOPBACK_SPELLINGS, **(hosts or {})}

    def at(host: str, what: str) -> str:
        return f"http://{host}:{port}/media/{name}-{what}"

    posts = [
        SamplePost(id=i, date=f"2026-03-01T{i:02d}:00:00+00:00", text=f"Aimed {key}",
                   photos=[at(host, f"{key}.jpg")])
        for i, (key, host) in enumerate(spellings.items(), start=1)
    ]  # fmt: skip
    extra = len(posts)
    posts += [
        SamplePost(
            id=extra + 1, date="2026-03-02T01:00:00+00:00", text="A story with a preview",
            link_preview={"url": "https://example.com/story", "site": "Example",
                          "title": "A story", "image": at("127.1", "preview.jpg")},
        ),
        SamplePost(
            id=extra + 2, date="2026-03-02T02:00:00+00:00", text="A video",
            video=(at("0x7f.1", "video.mp4"), at("0x7f.1", "thumb.jpg")),
        ),
        SamplePost(
            id=extra + 3, date="2026-03-02T03:00:00+00:00", text="Moved",
            photos=[f"{base}/redirect?to=" + at("127.0.0.1", "redirected.jpg")],
        ),
        SamplePost(
            id=extra + 4, date="2026-03-02T04:00:00+00:00", text="A file",
            photos=["file:///etc/passwd"],
        ),
        SamplePost(
            id=extra + 5, date="2026-03-02T05:00:00+00:00", text="Our own picture",
            photos=[f"{base}/media/{name}-own.jpg"],
        ),
    ]  # fmt: skip
    return SampleChannel(
        name=name,
        title=f"Aimed {name}",
        description="Pictures elsewhere",
        subscribers=7,
        posts=posts,
    )
