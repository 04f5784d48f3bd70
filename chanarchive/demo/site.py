"""A fake Telegram web preview (``t.me/s/<channel>``) served on loopback.

The offline demo and the tests crawl these pages instead of Telegram. The
markup follows the real preview's structure and class names (channel header,
message wraps, views, ``edited`` marker, forwards, replies, photos and albums,
link previews, service messages, the "older" link and ``<link rel="prev">``),
so a parser that reads one reads the other. :class:`SiteServer` serves
channels over HTTP on ``127.0.0.1`` and can simulate Telegram's rate-limit page
and a page that lost its "older" link.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from archive.times import to_stamp

from .pictures import picture

__all__ = [
    "DEMO_CHANNEL",
    "DROP",
    "START_CASES",
    "Request",
    "Response",
    "SampleChannel",
    "SamplePost",
    "SiteServer",
    "channel_from_dict",
    "demo_channel",
    "format_count",
    "render_channel_page",
    "render_embed",
    "render_post",
    "render_tme_page",
]

#: The bundled demo channel's username.
DEMO_CHANNEL = "chanarchive_demo"

#: Telegram's public preview host: post and channel links point here, as on the real site.
TME = "https://t.me"

SERVICE_TEXT = "Channel created"

#: How a channel's start can show on t.me (:meth:`SiteServer.show_start`):
#: ``no_link``: the page holding the first post has no "older" link (the default);
#: ``empty``: every page that shows a post has its "older" link, the first post's too;
#: ``throttled``: every page below the first post is Telegram's ``tme_no_messages_found``
#: answer (as under load), never the plain empty page;
#: ``created``: the first post is the "Channel created" service message, and every page
#: has its "older" link.
#: Below the first post (``no_link``, ``empty``, ``created``) a page shows the channel
#: header and no message, without Telegram's marker.
START_CASES = ("no_link", "empty", "throttled", "created")


# --------------------------------------------------------------------------- data


@dataclass
class SamplePost:
    """One channel message as the fake site knows it."""

    id: int
    date: str  # ISO 8601 with offset
    text: str  # plain text; "\n" becomes <br/>; URLs, #tags and @names become links
    views: int = 0
    edited: bool = False
    deleted: bool = False  # deleted posts are not rendered
    hidden: bool = False  # left out of the listing, yet its embed still shows it
    forwarded_from: dict | None = None  # {"name": ..., "url": ... or None (hidden)}
    reply_to: int | None = None
    photos: list[str] = field(default_factory=list)  # image URLs; 2+ make an album
    video: tuple[str, str] | None = None  # (video URL, its thumbnail's URL), after the photos
    link_preview: dict | None = None  # {"url", "site", "title", "description", "image"}
    service: bool = False
    author: str | None = None  # signature shown beside the date
    #: Reactions under the post: emoji -> count ("custom:ID" a custom emoji, "⭐" paid stars).
    reactions: dict[str, int] | None = None


@dataclass
class SampleChannel:
    """A channel: its header and every post it ever had (deleted ones kept, flagged)."""

    name: str
    title: str
    description: str
    subscribers: int
    posts: list[SamplePost]
    photo: str | None = None  # the channel's picture URL

    def get(self, post_id: int) -> SamplePost:
        for post in self.posts:
            if post.id == post_id:
                return post
        raise KeyError(f"{self.name} has no post {post_id}")

    def visible_posts(self) -> list[SamplePost]:
        """The posts a reader sees, oldest first."""
        return sorted((p for p in self.posts if not p.deleted and not p.hidden), key=lambda p: p.id)

    @property
    def next_id(self) -> int:
        return max((p.id for p in self.posts), default=0) + 1

    def edit(self, post_id: int, text: str) -> SamplePost:
        """Change a post's text; the page then shows the ``edited`` marker."""
        post = self.get(post_id)
        post.text = text
        post.edited = True
        return post

    def delete(self, post_id: int) -> SamplePost:
        """Remove a post from the pages (ids are never reused)."""
        post = self.get(post_id)
        post.deleted = True
        return post

    def add(self, text: str, *, date: str | None = None, **fields: Any) -> SamplePost:
        """Publish a post with the next id, dated now (or ``date``), never before the last post."""
        if date is None:
            when = datetime.now(UTC).replace(microsecond=0)
            if self.posts:
                last = max(datetime.fromisoformat(p.date) for p in self.posts)
                if when <= last:
                    when = last + timedelta(minutes=1)
            date = to_stamp(when, seconds=True)
        post = SamplePost(id=self.next_id, date=date, text=text, **fields)
        self.posts.append(post)
        return post

    def grow_views(self, factor: float) -> None:
        """Multiply every post's views; with ``factor > 1`` every count strictly grows."""
        for post in self.posts:
            grown = int(post.views * factor)
            if factor > 1 and grown <= post.views:
                grown = post.views + 1
            post.views = grown

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def channel_from_dict(data: dict[str, Any]) -> SampleChannel:
    """A :class:`SampleChannel` from its JSON form (unknown keys ignored)."""
    post_fields = set(SamplePost.__dataclass_fields__)
    posts = [SamplePost(**{k: v for k, v in p.items() if k in post_fields}) for p in data["posts"]]
    return SampleChannel(
        name=data["name"],
        title=data["title"],
        description=data.get("description", ""),
        subscribers=int(data.get("subscribers", 0)),
        posts=posts,
        photo=data.get("photo"),
    )


def _load_demo_json() -> dict[str, Any]:
    text = resources.files("chanarchive.demo").joinpath("data/channel.json").read_text("utf-8")
    return json.loads(text)


def demo_channel(stage: int) -> SampleChannel:
    """The bundled demo channel: stage 1 as first crawled, stage 2 after it changed.

    Stage 2 applies the JSON's ``stage2`` changes to stage 1: one recent post
    edited, one recent post deleted, new posts published, every view count
    grown. Both stages are the same on every call.
    """
    if stage not in (1, 2):
        raise ValueError(f"demo stage must be 1 or 2, not {stage!r}")
    data = _load_demo_json()
    channel = channel_from_dict(data)
    if stage == 1:
        return channel
    changes = data["stage2"]
    channel.grow_views(float(changes["views_factor"]))
    channel.subscribers = int(changes.get("subscribers", channel.subscribers))
    for edit in changes.get("edit", []):
        channel.edit(int(edit["id"]), edit["text"])
    for post_id in changes.get("delete", []):
        channel.delete(int(post_id))
    for new in changes.get("add", []):
        new = dict(new)
        expected = new.pop("id", None)
        post = channel.add(new.pop("text"), **new)
        if expected is not None and post.id != expected:
            raise ValueError(f"demo stage 2 adds post {post.id}, the data says {expected}")
    return channel


# ---------------------------------------------------------------------- rendering


def format_count(n: int) -> str:
    """Telegram's short counters: 950, 1.2K, 37.2K, 109K, 1.5M (truncated, not rounded)."""
    n = int(n)
    if n < 1000:
        return str(n)
    for divisor, suffix in ((1_000_000_000, "B"), (1_000_000, "M"), (1_000, "K")):
        if n >= divisor:
            tenths = n * 10 // divisor
            whole, frac = divmod(tenths, 10)
            return f"{whole}.{frac}{suffix}" if frac else f"{whole}{suffix}"
    return str(n)  # unreachable


_TOKEN = re.compile(
    r"(?P<url>https?://[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+)"
    r"|(?P<tag>(?<![\w#])#\w+)"
    r"|(?P<mention>(?<![\w@])@[A-Za-z][A-Za-z0-9_]{3,31})"
)
_URL_TRAILING = ".,;:!?)]}'"
_EMOJI = re.compile("[\U0001f300-\U0001faff\u2600-\u27bf]\ufe0f?")


def _plain(text: str) -> str:
    """Escape text; wrap emoji the way the preview does (an image with the character inside)."""
    out = []
    pos = 0
    for match in _EMOJI.finditer(text):
        out.append(html.escape(text[pos : match.start()]))
        emoji = match.group(0)
        code = emoji.rstrip("\ufe0f").encode("utf-8").hex().upper()
        out.append(
            '<i class="emoji" style="background-image:url(\'//telegram.org/img/emoji/40/'
            f"{code}.png')\"><b>{emoji}</b></i>"
        )
        pos = match.end()
    out.append(html.escape(text[pos:]))
    return "".join(out)


_CONFIRM = "return confirm('Open this link?\\n\\n'+this.href);"


def _attr(value: str) -> str:
    return html.escape(value, quote=True)


def _url_anchor(url: str) -> str:
    if urlsplit(url).hostname in ("t.me", "telegram.me"):
        return f'<a href="{_attr(url)}" target="_blank">{html.escape(url)}</a>'
    return (
        f'<a href="{_attr(url)}" target="_blank" rel="noopener" '
        f'onclick="{_attr(_CONFIRM)}">{html.escape(url)}</a>'
    )


def render_text(text: str) -> str:
    """A post's text as Telegram renders it: escaped, links made, line breaks as ``<br/>``."""
    out: list[str] = []
    pos = 0
    for match in _TOKEN.finditer(text):
        out.append(_plain(text[pos : match.start()]))
        token = match.group(0)
        tail = ""
        if match.lastgroup == "url":
            stripped = token.rstrip(_URL_TRAILING)
            tail = token[len(stripped) :]
            out.append(_url_anchor(stripped))
        elif match.lastgroup == "tag":
            href = f"?q={quote(token)}"
            out.append(f'<a href="{_attr(href)}">{html.escape(token)}</a>')
        else:
            out.append(f'<a href="{TME}/{token[1:]}" target="_blank">{html.escape(token)}</a>')
        out.append(html.escape(tail))
        pos = match.end()
    out.append(_plain(text[pos:]))
    return "".join(out).replace("\r\n", "\n").replace("\n", "<br/>")


def _initials(title: str) -> str:
    return title[:1].upper() or "?"


def _bgcolor(name: str) -> int:
    return int(hashlib.sha1(name.encode()).hexdigest(), 16) % 7 + 1


def _data_view(channel: SampleChannel, post: SamplePost) -> str:
    """The opaque ``data-view`` token the real site puts on every message."""
    digest = hashlib.sha1(f"{channel.name}/{post.id}".encode()).hexdigest()[:18]
    stamp = int(datetime.fromisoformat(post.date).timestamp())
    payload = {"c": -(10**9) - len(channel.name), "p": post.id, "t": stamp, "h": digest}
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


_BUBBLE_TAIL = (
    '<i class="tgme_widget_message_bubble_tail">'
    '<svg class="bubble_icon" width="9px" height="20px" viewBox="0 0 9 20"><g fill="none">'
    '<path class="background" fill="#ffffff" d="M8,1 L9,1 L9,20 L8,20 L8,18 C7.8,15.2 7.1,12.2'
    ' 5.9,9.2 C5,6.9 3.5,4.7 1.3,2.7 C0.9,2.4 0.9,1.7 1.3,1.3 C1.5,1.1 1.7,1 2,1 L8,1 Z"></path>'
    "</g></svg></i>"
)


_MONTHS = tuple(
    "January February March April May June July August September October November December".split()
)


def _time(post: SamplePost) -> str:
    when = datetime.fromisoformat(post.date)
    return f'<time datetime="{_attr(post.date)}" class="time">{when:%H:%M}</time>'


def _post_url(channel: SampleChannel, post_id: int) -> str:
    return f"{TME}/{channel.name}/{post_id}"


def _photos(channel: SampleChannel, post: SamplePost) -> str:
    if not post.photos:
        return ""
    if len(post.photos) == 1:
        return (
            f'<a class="tgme_widget_message_photo_wrap" href="{_post_url(channel, post.id)}" '
            f"style=\"width:800px;background-image:url('{_attr(post.photos[0])}')\">"
            '<div class="tgme_widget_message_photo" style="padding-top:62.5%"></div></a>'
        )
    parts = []
    width = 453
    for index, url in enumerate(post.photos):
        top = index * 182
        parts.append(
            '<a class="tgme_widget_message_photo_wrap grouped_media_wrap blured js-message_photo" '
            f'style="left:0px;top:{top}px;width:{width}px;height:180px;margin-bottom:2px;'
            f'background-image:url(\'{_attr(url)}\')" data-ratio="1.5" '
            f'href="{_post_url(channel, post.id)}?single">'
            '<div class="grouped_media_helper" style="left:0;right:0;top:0;bottom:0;">'
            '<div class="tgme_widget_message_photo grouped_media" '
            'style="left:0;right:0;top:0;bottom:0;"></div></div></a>'
        )
    height = len(post.photos) * 182 - 2
    return (
        '<div class="tgme_widget_message_grouped_wrap js-message_grouped_wrap" data-margin-w="2" '
        f'data-margin-h="2" style="width:{width}px;">'
        '<div class="tgme_widget_message_grouped js-message_grouped" '
        f'style="padding-top:{height / width * 100:.3f}%">'
        '<div class="tgme_widget_message_grouped_layer js-message_grouped_layer" '
        f'style="width:{width}px;height:{height}px">' + "".join(parts) + "</div></div></div>"
    )


def _video(channel: SampleChannel, post: SamplePost) -> str:
    if post.video is None:
        return ""
    video, thumb = post.video
    return (
        '<a class="tgme_widget_message_video_player js-message_video_player" '
        f'href="{_post_url(channel, post.id)}">'
        f'<i class="tgme_widget_message_video_thumb" style="background-image:url(\'{_attr(thumb)}\')">'
        '</i><div class="tgme_widget_message_video_wrap js-message_video_wrap">'
        f'<video src="{_attr(video)}" class="tgme_widget_message_video js-message_video" '
        'width="100%" height="100%"></video></div>'
        '<div class="message_video_play js-message_video_play"></div>'
        '<time class="message_video_duration js-message_video_duration">0:42</time></a>'
    )


def _forwarded(post: SamplePost) -> str:
    fwd = post.forwarded_from
    if not fwd:
        return ""
    name = f'<span dir="auto">{html.escape(fwd.get("name") or "")}</span>'
    if fwd.get("url"):
        source = (
            f'<a class="tgme_widget_message_forwarded_from_name" href="{_attr(fwd["url"])}">'
            f"{name}</a>"
        )
    else:
        source = f'<span class="tgme_widget_message_forwarded_from_name">{name}</span>'
    return (
        '<div class="tgme_widget_message_forwarded_from accent_color">'
        f"Forwarded from&nbsp;{source}</div>"
    )


def _reply(channel: SampleChannel, post: SamplePost) -> str:
    if post.reply_to is None:
        return ""
    try:
        target = channel.get(post.reply_to)
    except KeyError:
        target = None
    if target is None or target.deleted:
        snippet = "Deleted message"
    else:
        snippet = target.text.replace("\n", " ")
        snippet = snippet[:60] + ("…" if len(snippet) > 60 else "")
    return (
        f'<a class="tgme_widget_message_reply" href="{_post_url(channel, post.reply_to)}">'
        '<div class="tgme_widget_message_author accent_color">'
        f'<span class="tgme_widget_message_author_name" dir="auto">{html.escape(channel.title)}'
        "</span></div>"
        f'<div class="tgme_widget_message_metatext js-message_reply_text" dir="auto">'
        f"{html.escape(snippet)}</div></a>"
    )


def _link_preview(post: SamplePost) -> str:
    lp = post.link_preview
    if not lp:
        return ""
    parts = [f'<a class="tgme_widget_message_link_preview" href="{_attr(lp.get("url", ""))}">']
    if lp.get("site"):
        parts.append(
            '<div class="link_preview_site_name accent_color" dir="auto">'
            f"{html.escape(lp['site'])}</div>"
        )
    if lp.get("image"):
        parts.append(
            f'<i class="link_preview_image" style="background-image:url(\'{_attr(lp["image"])}\');'
            'padding-top:52.5%"></i>'
        )
    if lp.get("title"):
        parts.append(f'<div class="link_preview_title" dir="auto">{html.escape(lp["title"])}</div>')
    if lp.get("description"):
        desc = html.escape(lp["description"]).replace("\n", "<br/>")
        parts.append(f'<div class="link_preview_description" dir="auto">{desc}</div>')
    parts.append("</a>")
    return "".join(parts)


def _reactions(post: SamplePost) -> str:
    if not post.reactions:
        return ""
    spans = []
    for key, count in post.reactions.items():
        shown = format_count(count)
        if key == "⭐":
            spans.append(
                '<span class="tgme_reaction tgme_reaction_paid">'
                f'<i class="emoji"><b>⭐</b></i>{shown}</span>'
            )
        elif key.startswith("custom:"):
            spans.append(
                f'<span class="tgme_reaction"><tg-emoji emoji-id="{_attr(key[7:])}">'
                f'<i class="emoji"><b>✨</b></i></tg-emoji>{shown}</span>'
            )
        else:
            spans.append(
                f'<span class="tgme_reaction"><i class="emoji"><b>{html.escape(key)}</b></i>'
                f"{shown}</span>"
            )
    return (
        '<div class="tgme_widget_message_reactions js-message_reactions">'
        + "".join(spans)
        + "</div>"
    )


def render_post(channel: SampleChannel, post: SamplePost, *, date_visible: bool = False) -> str:
    """One ``tgme_widget_message_wrap`` block (``date_visible`` adds the day separator)."""
    wrap_class = "tgme_widget_message_wrap js-widget_message_wrap"
    if date_visible:
        wrap_class += " date_visible"
    when = datetime.fromisoformat(post.date)
    day = f"{_MONTHS[when.month - 1]} {when.day}"
    service_date = (
        '<div class="tgme_widget_message_service_date_wrap">'
        f'<div class="tgme_widget_message_service_date">{day}</div></div>'
        if date_visible
        else ""
    )
    data_post = _attr(f"{channel.name}/{post.id}")
    date_link = (
        f'<a class="tgme_widget_message_date" href="{_post_url(channel, post.id)}">'
        f"{_time(post)}</a>"
    )
    if post.service:
        return (
            f'<div class="{wrap_class}">'
            '<div class="tgme_widget_message service_message js-widget_message" '
            f'data-post="{data_post}" data-view="{_data_view(channel, post)}">'
            '<div class="tgme_widget_message_bubble">'
            '<div class="tgme_widget_message_text js-message_text service_message_text" '
            f'dir="auto">{html.escape(post.text or SERVICE_TEXT)}</div>'
            '<div class="tgme_widget_message_footer js-message_footer">'
            '<div class="tgme_widget_message_info js-message_info">'
            f'<span class="tgme_widget_message_meta">{date_link}</span></div></div>'
            f"</div></div>{service_date}</div>"
        )
    owner = _attr(f"{TME}/{channel.name}")
    user_photo = f'<img src="{_attr(channel.photo)}">' if channel.photo else ""
    text_html = ""
    if post.text:
        before_footer = "" if post.link_preview else " before_footer"
        spacer = (
            ""
            if post.link_preview
            else ('<span style="display: inline-block; width: 96px;"></span>')
        )
        text_html = (
            f'<div class="tgme_widget_message_text js-message_text{before_footer}" dir="auto">'
            f"{render_text(post.text)}{spacer}</div>"
        )
    meta = []
    if post.author:
        meta.append(
            f'<span class="tgme_widget_message_from_author" dir="auto">'
            f"{html.escape(post.author)}</span>,&nbsp;"
        )
    if post.edited:
        meta.append("edited &nbsp;")
    meta.append(date_link)
    views_label = "view" if post.views == 1 else "views"
    return (
        f'<div class="{wrap_class}">'
        '<div class="tgme_widget_message text_not_supported_wrap js-widget_message" '
        f'data-post="{data_post}" data-view="{_data_view(channel, post)}">'
        f'<div class="tgme_widget_message_user"><a href="{owner}">'
        f'<i class="tgme_widget_message_user_photo bgcolor{_bgcolor(channel.name)}" '
        f'data-content="{_attr(_initials(channel.title))}">{user_photo}</i></a></div>'
        '<div class="tgme_widget_message_bubble">'
        f"{_BUBBLE_TAIL}"
        '<div class="tgme_widget_message_author accent_color">'
        f'<a class="tgme_widget_message_owner_name" href="{owner}">'
        f'<span dir="auto">{html.escape(channel.title)}</span></a></div>'
        f"{_forwarded(post)}{_reply(channel, post)}{_photos(channel, post)}{_video(channel, post)}"
        f"{text_html}{_link_preview(post)}{_reactions(post)}"
        '<div class="tgme_widget_message_footer compact js-message_footer">'
        '<div class="tgme_widget_message_info short js-message_info">'
        f'<span class="tgme_widget_message_views">{format_count(post.views)}</span>'
        f'<span class="copyonly"> {views_label}</span>'
        f'<span class="tgme_widget_message_meta">{"".join(meta)}</span>'
        "</div></div></div></div>"
        f"{service_date}</div>"
    )


def _channel_info(channel: SampleChannel) -> str:
    visible = channel.visible_posts()
    photos = sum(len(p.photos) for p in visible)
    links = sum(1 for p in visible if p.link_preview or "http" in p.text)
    counters = [(channel.subscribers, "subscribers")]
    if photos:
        counters.append((photos, "photos"))
    if links:
        counters.append((links, "links"))
    counter_html = "".join(
        '<div class="tgme_channel_info_counter">'
        f'<span class="counter_value">{format_count(value)}</span> '
        f'<span class="counter_type">{label}</span></div>'
        for value, label in counters
    )
    image = f'<img src="{_attr(channel.photo)}">' if channel.photo else ""
    owner = _attr(f"{TME}/{channel.name}")
    return (
        '<div class="tgme_channel_info"><div class="tgme_channel_info_header">'
        f'<i class="tgme_page_photo_image bgcolor{_bgcolor(channel.name)}" '
        f'data-content="{_attr(channel.title[:2])}">{image}</i>'
        '<div class="tgme_channel_info_header_title_wrap">'
        f'<div class="tgme_channel_info_header_title"><span dir="auto">{html.escape(channel.title)}'
        '</span></div><div class="tgme_channel_info_header_labels"></div></div>'
        f'<div class="tgme_channel_info_header_username"><a href="{owner}">'
        f"@{html.escape(channel.name)}</a></div></div>"
        f'<div class="tgme_channel_info_counters">{counter_html}</div>'
        f'<div class="tgme_channel_info_description">{render_text(channel.description)}</div>'
        f'<a class="tgme_channel_download_telegram" href="//telegram.org/dl?tme={channel.name}">'
        '<span class="tgme_channel_download_telegram_bottom">Download Telegram</span></a>'
        "</div>"
    )


def render_channel_page(
    channel: SampleChannel,
    *,
    before: int | None = None,
    page_size: int = 20,
    drop_more_link: bool = False,
    no_messages: bool = False,
    older_at_start: bool = False,
) -> str:
    """The ``/s/<name>[?before=N]`` page: the ``page_size`` newest visible posts with id < N.

    Posts appear oldest first. The "older" link (``data-before`` = the lowest
    id on the page) and ``<link rel="prev">`` are present while older posts
    exist (with ``older_at_start``, on every page that shows a post: the page
    holding the first post too), unless ``drop_more_link``. Below the first
    post the page shows the channel header and no message, without
    Telegram's marker. ``no_messages`` renders Telegram's rate-limit answer:
    the channel header and ``tme_no_messages_found``, no posts.
    """
    name = channel.name
    if no_messages:
        page: list[SamplePost] = []
        has_older = False
    else:
        candidates = [p for p in channel.visible_posts() if before is None or p.id < before]
        page = candidates[-page_size:] if page_size > 0 else []
        has_older = bool(page) and (older_at_start or len(candidates) > len(page))
    lowest = page[0].id if page else None
    older_href = f"/s/{name}?before={lowest}"
    show_older = has_older and not drop_more_link

    head_links = []
    if show_older:
        head_links.append(f'<link rel="prev" href="{_attr(older_href)}">')
    canonical = f"/s/{name}" + (f"?before={before}" if before is not None else "")
    head_links.append(f'<link rel="canonical" href="{_attr(canonical)}">')

    messages: list[str] = []
    if show_older:
        messages.append(
            '<div class="tgme_widget_message_centered js-messages_more_wrap">'
            f'<a href="{_attr(older_href)}" class="tme_messages_more js-messages_more" '
            f'data-before="{lowest}"></a></div>'
        )
    if no_messages:
        messages.append('<div class="tme_no_messages_found">No posts found</div>')
    previous_day = None
    for post in page:
        day = datetime.fromisoformat(post.date).date()
        messages.append(render_post(channel, post, date_visible=day != previous_day))
        previous_day = day

    title = html.escape(channel.title)
    description = _attr(channel.description)
    image_meta = (
        f'<meta property="og:image" content="{_attr(channel.photo)}">\n' if channel.photo else ""
    )
    body_messages = "\n".join(messages)
    return f"""<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<title>{title} – Telegram</title>
<meta name="viewport" content="width=device-width, initial-scale=1.0, minimum-scale=1.0">
<meta name="format-detection" content="telephone=no">
<meta property="og:title" content="{title}">
{image_meta}<meta property="og:site_name" content="Telegram">
<meta property="og:description" content="{description}">
<meta property="al:android:url" content="tg://resolve?domain={_attr(name)}">
<meta name="twitter:card" content="summary">
<meta name="twitter:description" content="{description}">
{chr(10).join(head_links)}
<link rel="icon" type="image/svg+xml" href="//telegram.org/img/website_icon.svg?4">
<link href="//telegram.org/css/widget-frame.css?64" rel="stylesheet" media="screen">
<link href="//telegram.org/css/telegram-web.css?37" rel="stylesheet" media="screen">
<script>TBaseUrl = '/';</script>
</head>
<body class="widget_frame_base tgme_webpreview emoji_image thin_box_shadow tme_mode no_transitions">
<div class="tgme_background_wrap"><canvas id="tgme_background" class="tgme_background" width="50"
 height="50" data-colors="dbddbb,6ba587,d5d88d,88b884"></canvas>
<div class="tgme_background_pattern"></div></div>
<header class="tgme_header search_collapsed">
<div class="tgme_container">
<div class="tgme_header_search">
<form class="tgme_header_search_form" action="/s/{_attr(name)}">
<input class="tgme_header_search_form_input js-header_search" placeholder="Search" name="q"
 autocomplete="off" value="">
<a href="/s/{_attr(name)}" class="tgme_header_search_form_clear"></a>
</form>
</div>
<div class="tgme_header_info">
<a class="tgme_header_link" href="{TME}/{_attr(name)}">
<div class="tgme_header_title"><span dir="auto">{title}</span></div>
<div class="tgme_header_counter">{format_count(channel.subscribers)} subscribers</div></a>
</div>
<div class="tgme_header_right_column">
<section class="tgme_right_column">
{_channel_info(channel)}
</section>
</div>
</div>
</header>
<main class="tgme_main" data-url="/{_attr(name)}">
<div class="tgme_container">
<section class="tgme_channel_history js-message_history">
{body_messages}
</section>
</div>
</main>
<div class="tgme_footer"><a href="//telegram.org/dl">Download Telegram</a></div>
<!-- page generated in 3.14ms -->
</body>
</html>
"""


def render_embed(channel: SampleChannel, post_id: int) -> str:
    """The single-post embed ``/NAME/ID?embed=1``: the message, or Telegram's error block."""
    try:
        post = channel.get(post_id)
    except KeyError:
        post = None
    if post is None or post.deleted:
        inner = (
            '<div class="tgme_widget_message_wrap js-widget_message_wrap">'
            '<div class="tgme_widget_message_error">Post not found</div></div>'
        )
    else:
        inner = render_post(channel, post)
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        f"<title>{html.escape(channel.title)} – Telegram</title>"
        '<link href="//telegram.org/css/widget-frame.css?64" rel="stylesheet"></head>\n'
        '<body class="widget_frame_base tgme_widget body_widget_post emoji_image nodark">'
        f"{inner}</body></html>\n"
    )


def render_tme_page(name: str, channel: SampleChannel | None) -> str:
    """``t.me/NAME``: a channel's "View in Telegram" page, or, for no channel, "contact @NAME"."""
    if channel is not None:
        title = html.escape(channel.title)
        body = (
            f'<div class="tgme_page_title"><span dir="auto">{title}</span></div>'
            f'<div class="tgme_page_extra">{format_count(channel.subscribers)} subscribers</div>'
            f'<div class="tgme_page_description">{render_text(channel.description)}</div>'
            '<div class="tgme_page_action"><a class="tgme_action_button_new shine"'
            f' href="tg://resolve?domain={_attr(name)}">View in Telegram</a></div>'
            '<div class="tgme_page_additional">If you have <strong>Telegram</strong>, you can'
            f" view and join <br><strong>{title}</strong> right away.</div>"
        )
        head_title = f"Telegram: View @{html.escape(name)}"
    else:
        body = (
            '<div class="tgme_page_action"><a class="tgme_action_button_new"'
            f' href="tg://resolve?domain={_attr(name)}">Send Message</a></div>'
            '<div class="tgme_page_additional">If you have <strong>Telegram</strong>, you can'
            f' contact <a class="tgme_username_link" href="tg://resolve?domain={_attr(name)}">'
            f"@{html.escape(name)}</a> right away.</div>"
        )
        head_title = f"Telegram: Contact @{html.escape(name)}"
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        f"<title>{head_title}</title>"
        f'<meta property="og:title" content="{head_title}"></head>\n'
        '<body class="no_transition"><div class="tgme_page_wrap"><div class="tgme_body_wrap">'
        f'<div class="tgme_page">{body}</div></div></div></body></html>\n'
    )


# ------------------------------------------------------------------------- server


@dataclass
class Request:
    """What a route handler sees of a request."""

    method: str
    path: str  # percent-decoded path, no query
    query: dict[str, str]  # first value of each query parameter
    target: str  # the raw path with its query, as requested
    headers: Any  # email.message.Message-like
    handler: BaseHTTPRequestHandler


@dataclass
class Response:
    """A route's answer. ``body`` may be an iterable of chunks when ``length`` is given."""

    status: int = 200
    body: bytes | str | Iterable[bytes] = b""
    content_type: str = "text/html; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)
    length: int | None = None


#: A t.me username as the site's top-level paths take it.
_TME_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{2,31}\Z")

#: A handler returns DROP to close the connection without sending anything.
DROP = object()

Handler = Callable[[Request], "Response | object | None"]


def html_page(title: str, body: str, status: int = 200, **kwargs: Any) -> Response:
    """A small UTF-8 HTML page (title and body are inserted as given)."""
    page = (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        f"<title>{title}</title></head>\n<body>{body}</body></html>\n"
    )
    return Response(status=status, body=page, **kwargs)


def not_found(path: str) -> Response:
    return html_page("Not Found", f"<h1>Not Found</h1><p>{html.escape(path)}</p>", 404)


ROBOTS_TXT = "User-agent: *\nDisallow: /private/\n"

#: The CDN the sample channels' pictures name; the site serves them itself, under /media/.
SAMPLE_CDN = "https://cdn4.telegram-cdn.org/file/"


def sample_media_bytes(name: str, size: int | None = None) -> bytes:
    """The bytes of the picture ``/media/NAME``: a real PNG made from NAME, 20-60 KB
    unless ``size`` says (:func:`chanarchive.demo.pictures.picture`).

    The part of NAME from a ``~`` to its extension is left out, so two names
    that differ only there are two URLs of identical bytes.
    """
    return picture(re.sub(r"~[^.]*", "", name), size)


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: without this, Nagle and
    # delayed ACKs add ~40 ms to every keep-alive response.
    disable_nagle_algorithm = True
    server_version = "chanarchive-sample/1.0"
    timeout = 30
    site: SiteServer  # set on a per-server subclass

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._handle(send_body=True)

    def do_HEAD(self) -> None:
        self._handle(send_body=False)

    def _handle(self, send_body: bool) -> None:
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        request = Request(
            method=self.command,
            path=unquote(parts.path),
            query=query,
            target=self.path,
            headers=self.headers,
            handler=self,
        )
        try:
            result = self.site.dispatch(request)
        except Exception as exc:  # a broken route answers 500 rather than hanging up
            result = html_page("Server Error", f"<p>{html.escape(repr(exc))}</p>", 500)
        if result is DROP:
            self.site.log_request(request, 0)
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        response = result if isinstance(result, Response) else not_found(request.path)
        self.site.log_request(request, response.status)
        self._send(response, send_body)

    def _send(self, response: Response, send_body: bool) -> None:
        body = response.body
        if isinstance(body, str):
            body = body.encode("utf-8")
        chunks: Iterable[bytes]
        if isinstance(body, bytes | bytearray):
            length = len(body)
            chunks = [bytes(body)]
        else:
            if response.length is None:
                raise ValueError("a streamed body needs a length")
            length = response.length
            chunks = body
        no_body = response.status in (204, 304) or 100 <= response.status < 200
        self.send_response(response.status)
        if not no_body:
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(length))
        for name, value in response.headers:
            self.send_header(name, value)
        self.end_headers()
        if send_body and not no_body:
            try:
                for chunk in chunks:
                    self.wfile.write(chunk)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True


class SiteServer:
    """Serves sample channels as ``/s/<name>`` on ``127.0.0.1`` (a free port), in a thread.

    ``host`` binds another loopback address (``127.0.0.2`` …): servers on
    different addresses are different hosts to a crawler, as different
    sites are, where different ports of one address share its politeness.

    Routes: ``/s/<name>[?before=N]`` (404 for an unknown channel),
    ``/<name>/<id>?embed=1`` (a post's embed: the message, or "Post not
    found" for a deleted one), ``/<name>`` (the t.me page of a name in
    :attr:`unreadable`, whose ``/s/`` page redirects there) and
    ``/robots.txt`` (everything allowed but ``/private/``). Add routes with
    :meth:`route` (``handler(Request) -> Response | DROP | None``; ``None``
    falls through to 404), longest prefix first. Every request is logged as
    ``(method, path_with_query, status)`` (status 0: connection dropped),
    except paths under ``log_exclude`` prefixes.
    """

    log_exclude: tuple[str, ...] = ("/_",)

    def __init__(
        self,
        channels: dict[str, SampleChannel] | None = None,
        page_size: int = 20,
        host: str = "127.0.0.1",
    ) -> None:
        self.host = host
        self.channels: dict[str, SampleChannel] = dict(channels or {})
        self.page_size = page_size
        self.page_sizes: dict[str, int] = {}
        self.lock = threading.RLock()
        self._log: list[tuple[str, str, int]] = []
        self._throttle: dict[str, int] = {}
        self._drop_more: dict[str, int] = {}
        #: How a channel's start shows (see :data:`START_CASES`), for the channels not shown
        #: the default way ("no_link").
        self.start_cases: dict[str, str] = {}
        #: Names whose /s/ page cannot be read: "preview_disabled", "no_such" or "no_markup".
        self.unreadable: dict[str, str] = {}
        #: Channels whose embeds (/NAME/ID?embed=1) answer this HTTP status instead.
        self.embed_status: dict[str, int] = {}
        self._routes: list[tuple[str, Handler]] = []
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.url = ""
        self.route("/s/", self._channel_route)
        self.route("/robots.txt", self._robots_route)
        self.route("/media/", self._media_route)
        self.route("/", self._tme_route)

    # -- lifecycle
    def start(self) -> SiteServer:
        handler = type("BoundHandler", (_RequestHandler,), {"site": self})
        httpd = ThreadingHTTPServer((self.host, 0), handler)
        httpd.daemon_threads = True
        self._httpd = httpd
        self.url = f"http://{self.host}:{httpd.server_address[1]}"
        self._thread = threading.Thread(target=httpd.serve_forever, name="sample-site", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def serve_forever(self) -> None:
        """Block until stopped (for a server run as a process)."""
        if self._thread is None:
            self.start()
        assert self._thread is not None
        while self._thread.is_alive():
            self._thread.join(timeout=0.5)

    def __enter__(self) -> SiteServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- channels and their faults
    def set_channel(self, channel: SampleChannel, page_size: int | None = None) -> None:
        """Add or replace a channel (e.g. swap demo stage 1 for stage 2)."""
        with self.lock:
            self.channels[channel.name] = channel
            if page_size is not None:
                self.page_sizes[channel.name] = page_size

    def throttle(self, name: str, count: int) -> None:
        """The next ``count`` pages of ``name`` are Telegram's no-messages answer."""
        with self.lock:
            self._throttle[name] = count

    def show_start(self, name: str, case: str) -> None:
        """Show the start of channel ``name`` as ``case`` (one of :data:`START_CASES`)."""
        if case not in START_CASES:
            raise ValueError(f"unknown start case {case!r}: give one of {', '.join(START_CASES)}")
        with self.lock:
            channel = self.channels[name]
            self.start_cases[name] = case
            if case == "created":
                first = channel.visible_posts()[0]
                first.service, first.text, first.photos, first.video = True, SERVICE_TEXT, [], None
                first.link_preview = first.reactions = first.forwarded_from = None

    def drop_more(self, name: str, count: int) -> None:
        """The next ``count`` pages of ``name`` lack the older link and ``rel=prev``."""
        with self.lock:
            self._drop_more[name] = count

    def _take(self, counters: dict[str, int], name: str) -> bool:
        left = counters.get(name, 0)
        if left <= 0:
            return False
        counters[name] = left - 1
        return True

    # -- routing
    def route(self, prefix: str, handler: Handler) -> None:
        """Serve paths equal to or under ``prefix`` with ``handler``."""
        self._routes.append((prefix, handler))
        self._routes.sort(key=lambda item: len(item[0]), reverse=True)

    def dispatch(self, request: Request) -> Response | object:
        for prefix, handler in self._routes:
            if request.path == prefix or request.path.startswith(prefix):
                result = handler(request)
                if result is not None:
                    return result
        return not_found(request.path)

    def _channel_route(self, request: Request) -> Response | None:
        name = request.path[len("/s/") :].strip("/").split("/")[0]
        before_raw = request.query.get("before", "")
        before = int(before_raw) if before_raw.isdigit() else None
        with self.lock:
            case = self.unreadable.get(name)
            if case == "no_markup":
                return html_page("Back soon", "<h1>Back soon</h1><p>We are updating.</p>")
            if case is not None:  # preview disabled, no such channel: away from /s/
                return html_page("Moved", "", 302, headers=[("Location", f"/{name}")])
            channel = self.channels.get(name)
            if channel is None:
                return None
            throttled = self._take(self._throttle, name)
            case = self.start_cases.get(name, "no_link")
            if case == "throttled" and before is not None:
                throttled = throttled or not any(p.id < before for p in channel.visible_posts())
            page = render_channel_page(
                channel,
                before=before,
                page_size=self.page_sizes.get(name, self.page_size),
                no_messages=throttled,
                drop_more_link=not throttled and self._take(self._drop_more, name),
                older_at_start=case in ("empty", "created"),
            )
        return Response(body=page.replace(SAMPLE_CDN, f"{self.url}/media/"))

    def _media_route(self, request: Request) -> Response | None:
        """The sample channels' pictures (their CDN URLs point here when a page is served)."""
        name = request.path[len("/media/") :]
        if not name or "/" in name:
            return None
        return Response(body=sample_media_bytes(name), content_type="image/png")

    def _tme_route(self, request: Request) -> Response | None:
        """``/NAME/ID?embed=1`` (a post's embed) and ``/NAME`` (the t.me page of a channel)."""
        parts = request.path.strip("/").split("/")
        if not parts or not _TME_NAME.match(parts[0]) or parts[0] == "s":
            return None
        name = parts[0]
        with self.lock:
            channel = self.channels.get(name)
            if len(parts) == 2 and parts[1].isdigit() and channel is not None:
                status = self.embed_status.get(name)
                if status:
                    return html_page("Error", f"<h1>{status}</h1>", status)
                return Response(body=render_embed(channel, int(parts[1])))
            if len(parts) == 1 and name in self.unreadable:
                case = self.unreadable[name]
                shown = channel if case == "preview_disabled" else None
                if case == "preview_disabled" and shown is None:
                    shown = SampleChannel(name, f"Channel {name}", "", 1234, [])
                return Response(body=render_tme_page(name, shown))
        return None

    def _robots_route(self, request: Request) -> Response | None:
        if request.path != "/robots.txt":
            return None
        return Response(body=ROBOTS_TXT, content_type="text/plain; charset=utf-8")

    # -- request log
    def log_request(self, request: Request, status: int) -> None:
        if request.path.startswith(self.log_exclude):
            return
        with self.lock:
            self._log.append((request.method, request.target, status))

    @property
    def requests(self) -> list[tuple[str, str, int]]:
        """A copy of the request log: ``(method, path_with_query, status)``."""
        with self.lock:
            return list(self._log)

    def reset_log(self) -> None:
        with self.lock:
            self._log.clear()


if __name__ == "__main__":  # pragma: no cover - a manual look at the demo
    import sys

    stage = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    with SiteServer({DEMO_CHANNEL: demo_channel(stage)}) as s:
        print(f"{s.url}/s/{DEMO_CHANNEL}", flush=True)
        s.serve_forever()
