"""Parse Telegram's public channel preview pages (``https://t.me/s/<channel>``).

:func:`parse_telegram_page` turns one fetched ``t.me/s`` page into a
:class:`~archive.models.Page`: the channel header (title, description,
subscribers, avatar), one :class:`~archive.models.Post` per message on the
page, in page order (text with line breaks kept, inner HTML, date, views,
edited mark, signature, forward source, reply target, links, media, link
preview, service flag), and the paging state (``before`` of the request, the
``older`` cursor, the ``throttled`` mark of an empty answer).

:func:`is_telegram_markup` tells cheaply whether a body is such a page, and
:func:`parse_views` reads Telegram's abbreviated counters ("14.9K").

The HTML toolkit is :mod:`archive.extract.html`; the parser never raises on odd input: missing pieces come
back as ``None`` or empty values, and a page that is not Telegram markup gives
a :class:`Page` without posts.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

from ..models import KIND_TELEGRAM, PAGE_CHANNEL, ChannelInfo, Page, Post
from ..source import is_channel_name
from ..times import to_datetime
from . import html as dom

__all__ = ["is_telegram_markup", "parse_telegram_page", "parse_views"]

_TME = "https://t.me/"
_MSG = "tgme_widget_message"
_NO_MESSAGES = "tme_no_messages_found"
_MSG_CLASS_RE = re.compile(rb"""class\s*=\s*["'][^"']*(?<![\w-])tgme_widget_message(?![\w-])""")
_WS_RE = re.compile(r"[ \t\n\r\f\v]+")
_BG_URL_RE = re.compile(r"""background-image\s*:\s*url\(\s*(['"]?)(.*?)\1\s*\)""", re.I | re.S)
_COUNT_RE = re.compile(r"(\d[\d \u00a0\u202f,]*(?:\.\d+)?)\s*([kmbg])?(?![a-z])", re.I)
_GENERIC_OG_RE = re.compile(r"You can (?:view and join|contact) @\w+ right away\.?$")
_SCALE = {"k": 1_000, "m": 1_000_000, "b": 1_000_000_000, "g": 1_000_000_000}
#: A message id: ASCII digits, no leading zero, and small enough for SQLite (< 2**63).
_POST_ID_RE = re.compile(r"^[1-9][0-9]{0,17}\Z", re.ASCII)
#: Counters above this are not a count Telegram shows (views, subscribers, voters).
MAX_COUNT = 2**53
_DATA_POST_RE = re.compile(r"\sdata-post\s*=", re.I)
#: Parts of a message that are not the message's own content.
_FOREIGN = frozenset(
    {
        "tgme_widget_message_reply",
        "tgme_widget_message_link_preview",
        "tgme_widget_message_poll",
        "tgme_widget_message_user",
        "tgme_widget_message_footer",
    }
)
#: Never descend into these while collecting media (a poll is media: handled first).
_NO_MEDIA = (_FOREIGN - {"tgme_widget_message_poll"}) | {
    "tgme_widget_message_text",
    "tgme_widget_message_author",
    "tgme_widget_message_forwarded_from",
    "tgme_widget_message_service_photo",
}


# --------------------------------------------------------------------------- public API


def is_telegram_markup(html: str | bytes) -> bool:
    """True when ``html`` is Telegram preview markup (a message or an empty t.me/s page)."""
    data = html.encode("utf-8", "replace") if isinstance(html, str) else bytes(html or b"")
    if _NO_MESSAGES.encode() in data:
        return True
    return _MSG.encode() in data and _MSG_CLASS_RE.search(data) is not None


def parse_views(text: str) -> int | None:
    """Read a Telegram counter: "14.9K" -> 14900, "1.2M" -> 1200000, "12 345" -> 12345."""
    m = _COUNT_RE.search(text or "")
    if not m:
        return None
    number = re.sub(r"[ \u00a0\u202f]", "", m.group(1)).rstrip(",")
    suffix = (m.group(2) or "").lower()
    if suffix and re.fullmatch(r"\d+,\d{1,2}", number):
        number = number.replace(",", ".")  # a decimal comma: "1,2K"
    number = number.replace(",", "")
    if len(number) > 20:
        return None
    try:
        value = int(Decimal(number) * _SCALE.get(suffix, 1))
    except InvalidOperation:
        return None
    return value if value < MAX_COUNT else None


def parse_telegram_page(
    html: str | bytes,
    url: str,
    *,
    before: int | None = None,
    content_type: str | None = None,
    channel: str | None = None,
) -> Page:
    """Parse a fetched ``t.me/s/<channel>`` page (any host) into a :class:`Page`.

    Bytes are decoded as every page is (:func:`archive.extract.html.decode`,
    ``content_type`` the HTTP header when there is one). ``channel`` is the
    channel the crawl asked for: a page lists only its own channel's
    messages, so a message of another channel (or one whose id or markup
    cannot be read) is left out and said in ``page.errors``. Without it the
    page's header (else its first message, else ``/s/NAME`` in the URL) names
    the channel.
    """
    page = Page(url=url, kind=KIND_TELEGRAM, page_type=PAGE_CHANNEL, before=before)
    if isinstance(html, bytes | bytearray):
        decoded = dom.decode(bytes(html), content_type)
        text, page.encoding = decoded.text, decoded.encoding
    else:
        text = html or ""
    page.throttled = _NO_MESSAGES in text
    document = dom.parse_document(text)
    page.errors += document.problems
    root = document.root
    if root is None:
        return page
    page.title = dom.one_line(dom.first(root, "//title")) or None
    page.older = _older(root)
    messages = root.xpath(f"//*[@data-post][{dom.class_xpath(_MSG)}]")
    name = _channel_name(root, messages, url, telegram=is_telegram_markup(text), page=page)
    if channel is not None:
        if name is not None and name != channel.lower():
            page.errors.append(f"the page is channel @{name}'s, not @{channel.lower()}'s")
        name = channel.lower()
    if name:
        page.channel = _channel_info(root, name)
    seen: set[str] = set()
    for msg in messages:
        try:
            post = _parse_message(msg, url, name)
        except BadMessage as exc:
            page.errors.append(str(exc))
            continue
        except Exception as exc:  # one odd message must not lose the whole page
            page.errors.append(f"message {msg.get('data-post')!r} could not be read: {exc!r}")
            continue
        if post.post_id in seen:
            page.errors.append(f"message {post.channel}/{post.post_id} appears twice: kept once")
            continue
        seen.add(post.post_id)
        page.posts.append(post)
    marked = len(_DATA_POST_RE.findall(text))
    if marked > len(messages) and not document.problems:
        page.errors.append(
            f"{marked - len(messages)} of {marked} messages on the page could not be read"
        )
    return page


class BadMessage(ValueError):
    """A message of the page that is not kept: another channel's, or an unreadable id."""


# --------------------------------------------------------------------------- page level


def _older(root: Any) -> int | None:
    for value in root.xpath(f"//a[{dom.class_xpath('tme_messages_more')}]/@data-before"):
        number = _to_int(value)
        if number is not None:
            return number
    for href in root.xpath("//link[@rel='prev']/@href"):
        values = parse_qs(_query(href)).get("before")
        number = _to_int(values[0]) if values else None
        if number is not None:
            return number
    return None


def _channel_name(
    root: Any, messages: list[Any], url: str, *, telegram: bool, page: Page
) -> str | None:
    """The channel the page names (checked: a Telegram username), else None."""
    candidates = []
    username = dom.one_line(dom.first_with_class(root, "tgme_channel_info_header_username"))
    if username.startswith("@") and len(username) > 1:
        candidates.append(username[1:])
    else:
        for msg in messages:
            prefix = (msg.get("data-post") or "").split("/", 1)[0].strip()
            if prefix:
                candidates.append(prefix)
                break
    if not candidates and telegram:
        m = re.search(r"/s/([A-Za-z0-9_]+)", url or "")
        if m:
            candidates.append(m.group(1))
    for name in candidates:
        if is_channel_name(name):
            return name.lower()
        page.errors.append(
            f"the page names a channel that is not a Telegram username: {name[:80]!r}"
        )
    return None


def _channel_info(root: Any, name: str) -> ChannelInfo:
    info = ChannelInfo(name=name, kind=KIND_TELEGRAM, source_url=f"{_TME}s/{name}")
    base = info.source_url
    header = dom.first_with_class(root, "tgme_channel_info")
    info.title = dom.one_line(
        dom.first_with_class(root, "tgme_channel_info_header_title")
    ) or dom.one_line(dom.first_with_class(root, "tgme_header_title"))
    info.description = (
        dom.inner_text(dom.first_with_class(root, "tgme_channel_info_description")) or None
    )
    if header is None:  # no header block: the page's meta tags are all there is
        info.title = info.title or _meta(root, "og:title")
        og_description = _multiline(_meta(root, "og:description"))
        if og_description and not _GENERIC_OG_RE.match(og_description):
            info.description = og_description
    info.title = info.title or None
    for counter in root.xpath(f"//*[{dom.class_xpath('tgme_channel_info_counter')}]"):
        kind = dom.one_line(dom.first_with_class(counter, "counter_type")).lower()
        if kind in ("subscribers", "subscriber", "members", "member"):
            info.subscribers = parse_views(
                dom.one_line(dom.first_with_class(counter, "counter_value"))
            )
            break
    if info.subscribers is None:
        header_counter = dom.one_line(dom.first_with_class(root, "tgme_header_counter"))
        if re.search(r"subscriber|member", header_counter, re.I):
            info.subscribers = parse_views(header_counter)
    photo = root.xpath(
        f"//*[{dom.class_xpath('tgme_channel_info_header')}]"
        f"//*[{dom.class_xpath('tgme_page_photo_image')}]//img/@src"
    )
    image = photo[0] if photo else _meta(root, "og:image")
    info.image = _abs(image, base)
    return info


def _meta(root: Any, prop: str) -> str | None:
    values = root.xpath(f"//meta[@property='{prop}' or @name='{prop}']/@content")
    return values[0] if values and values[0].strip() else None


def _multiline(value: str | None) -> str | None:
    if not value:
        return None
    lines = [_WS_RE.sub(" ", ln).strip() for ln in value.splitlines()]
    return "\n".join(lines).strip("\n") or None


# --------------------------------------------------------------------------- one message


def _parse_message(msg: Any, page_url: str, page_channel: str | None) -> Post:
    data_post = (msg.get("data-post") or "").strip()
    shown = repr(data_post[:80])
    if "/" not in data_post:
        raise BadMessage(f"message {shown} has no channel/id")
    channel = data_post.split("/", 1)[0].strip().lower()
    post_id = data_post.rsplit("/", 1)[1].strip()
    if not _POST_ID_RE.match(post_id):
        raise BadMessage(f"message {shown} has no readable id (1 to 18 digits)")
    if page_channel is None or channel != page_channel:
        raise BadMessage(
            f"message {shown} belongs to another channel than the page's"
            f" (@{page_channel or '?'}): left out"
        )
    base = f"{_TME}s/{channel}"
    date_link = _own_first(msg, "tgme_widget_message_date")
    href = date_link.get("href") if date_link is not None else None
    post = Post(
        channel=channel,
        post_id=post_id,
        url=_abs(href, base) or f"{_TME}{data_post}",
        source_url=page_url,
    )
    if date_link is not None:
        stamps = date_link.xpath(".//time/@datetime")
        stamp = stamps[0].strip() if stamps else None
        post.published_at = stamp if stamp and to_datetime(stamp) is not None else None

    text_el = _own_text_element(msg)
    if text_el is not None:
        post.raw_text = dom.inner_text(text_el)
        post.html = dom.inner_html(text_el)
        post.links = _links(text_el, base)

    meta = _own_first(msg, "tgme_widget_message_meta")
    if meta is not None:
        own_text = " ".join([meta.text or ""] + [child.tail or "" for child in meta])
        post.edited = re.search(r"\bedited\b", own_text, re.I) is not None
    views = _own_first(msg, "tgme_widget_message_views")
    post.views = parse_views(dom.one_line(views)) if views is not None else None
    post.author = dom.one_line(_own_first(msg, "tgme_widget_message_from_author")) or None

    forwarded = _own_first(msg, "tgme_widget_message_forwarded_from_name")
    if forwarded is not None:
        fwd_url = forwarded.get("href") if forwarded.tag == "a" else None
        post.forwarded_from = {"name": dom.one_line(forwarded) or None, "url": _abs(fwd_url, base)}
    reply = dom.first(msg, f".//a[{dom.class_xpath('tgme_widget_message_reply')}]")
    if reply is not None:
        post.reply_to = _abs(reply.get("href"), base)

    post.media = _media(msg, post.url, base)
    post.link_preview = _link_preview(msg, base)

    service_text = dom.first(
        msg,
        ".//*[contains(@class, 'tgme_widget_message_service')"
        " and not(contains(@class, 'service_date')) and not(contains(@class, 'service_photo'))]",
    )
    post.service = dom.has_class(msg, "service_message") or service_text is not None
    if service_text is not None and dom.inner_text(service_text):
        post.raw_text = dom.inner_text(service_text)
        post.html = post.html or dom.inner_html(service_text)
    return post


def _own_text_element(msg: Any) -> Any | None:
    """The message's own text: outermost, not in a reply/preview/poll; unwrap a nested copy."""
    for el in msg.xpath(f".//*[{dom.class_xpath('tgme_widget_message_text')}]"):
        if dom.inside(el, msg, _FOREIGN | {"tgme_widget_message_text"}):
            continue
        while True:  # t.me wraps album captions: <div text><div text>...</div><spacer/></div>
            inner = [c for c in el if isinstance(c.tag, str) and not dom.is_spacer(c)]
            if (
                len(inner) == 1
                and dom.has_class(inner[0], "tgme_widget_message_text")
                and not (el.text or "").strip()
                and not any((c.tail or "").strip() for c in el)
            ):
                el = inner[0]
            else:
                return el
    return None


def _links(text_el: Any, base: str) -> list[str]:
    links: list[str] = []
    for href in text_el.xpath(".//a/@href"):
        href = href.strip()
        if not href or href.lower().startswith(("javascript:", "#")):
            continue
        link = _abs(href, base)
        if link and link not in links:
            links.append(link)
    return links


def _link_preview(msg: Any, base: str) -> dict[str, Any] | None:
    preview = dom.first(msg, f".//*[{dom.class_xpath('tgme_widget_message_link_preview')}]")
    if preview is None:
        return None
    image = None
    for cls in ("link_preview_image", "link_preview_right_image", "link_preview_video_thumb"):
        el = dom.first_with_class(preview, cls)
        if el is not None:
            image = _bg_url(el, base)
            if image:
                break
    description = dom.first_with_class(preview, "link_preview_description")
    return {
        "url": _abs(preview.get("href"), base),
        "site": dom.one_line(dom.first_with_class(preview, "link_preview_site_name")) or None,
        "title": dom.one_line(dom.first_with_class(preview, "link_preview_title")) or None,
        "description": (dom.inner_text(description) or None) if description is not None else None,
        "image": image,
    }


# --------------------------------------------------------------------------- media


def _media(msg: Any, post_url: str, base: str) -> list[dict[str, Any]]:
    """Media of the message in page order (albums give one entry per item)."""
    items: list[dict[str, Any]] = []

    def walk(el: Any) -> None:
        for child in el:
            if not isinstance(child.tag, str):
                continue
            classes = set((child.get("class") or "").split())
            if "tgme_widget_message_poll" in classes:
                items.append(_poll(msg, child, post_url))
            elif not classes & _NO_MEDIA:
                item = _media_item(child, classes, base)
                if item is not None:
                    items.append(item)
                else:
                    walk(child)

    walk(msg)
    return items


def _media_item(el: Any, classes: set[str], base: str) -> dict[str, Any] | None:
    href = _abs(el.get("href"), base)
    if "tgme_widget_message_photo_wrap" in classes:
        return _drop_none({"type": "photo", "url": _bg_url(el, base) or href, "href": href})
    if "tgme_widget_message_video_player" in classes:
        video = dom.first(el, ".//video[@src]")
        thumb = _bg_url(dom.first_with_class(el, "tgme_widget_message_video_thumb"), base)
        gif = video is not None and video.get("loop") is not None
        not_supported = "not_supported" in classes
        if video is not None:
            url = _abs(video.get("src"), base)
        else:
            url = href if not_supported else thumb or href
        item = {
            "type": "gif" if gif else "video",
            "url": url,
            "href": href,
            "thumb": thumb,
            "duration": _duration(el),
        }
        if not_supported:
            item["not_supported"] = True
        return _drop_none(item)
    if "tgme_widget_message_roundvideo_player" in classes:
        video = dom.first(el, ".//video[@src]")
        thumb = _bg_url(dom.first_with_class(el, "tgme_widget_message_roundvideo_thumb"), base)
        url = _abs(video.get("src"), base) if video is not None else None
        return _drop_none(
            {"type": "round_video", "url": url or thumb, "thumb": thumb, "duration": _duration(el)}
        )
    if "tgme_widget_message_voice_player" in classes:
        audio = dom.first(el, ".//audio[@src]")
        url = _abs(audio.get("src"), base) if audio is not None else None
        return _drop_none({"type": "voice", "url": url or href, "duration": _duration(el)})
    if "tgme_widget_message_document_wrap" in classes:
        icon = dom.first_with_class(el, "tgme_widget_message_document_icon")
        kind = "audio" if icon is not None and dom.has_class(icon, "audio") else "document"
        return _drop_none(
            {
                "type": kind,
                "url": href,
                "title": dom.one_line(
                    dom.first_with_class(el, "tgme_widget_message_document_title")
                )
                or None,
                "size": dom.one_line(dom.first_with_class(el, "tgme_widget_message_document_extra"))
                or None,
            }
        )
    if classes & {"tgme_widget_message_sticker_wrap", "tgme_widget_message_videosticker_wrap"}:
        return {"type": "sticker", "url": _sticker_url(el, base) or href}
    if "tgme_widget_message_location_wrap" in classes:
        return {"type": "location", "url": href}
    if el.tag == "audio" and el.get("src"):
        return {"type": "audio", "url": _abs(el.get("src"), base)}
    return None


def _sticker_url(el: Any, base: str) -> str | None:
    for value in el.xpath(".//video/@src | .//*[@data-webp]/@data-webp | .//img/@src"):
        if value.strip() and not value.startswith("data:"):
            return _abs(value, base)
    bg = _bg_url(dom.first_with_class(el, "tgme_widget_message_sticker"), base)
    if bg:
        return bg
    for srcset in el.xpath(".//source/@srcset"):
        candidate = srcset.strip().split(" ")[0]
        if candidate and not candidate.startswith("data:"):
            return _abs(candidate, base)
    return None


def _poll(msg: Any, poll: Any, post_url: str) -> dict[str, Any]:
    options = []
    for option in poll.xpath(f".//*[{dom.class_xpath('tgme_widget_message_poll_option')}]"):
        percent = dom.one_line(
            dom.first_with_class(option, "tgme_widget_message_poll_option_percent")
        )
        options.append(
            {
                "text": dom.one_line(
                    dom.first_with_class(option, "tgme_widget_message_poll_option_text")
                ),
                "percent": _to_int(percent.rstrip("%")),
            }
        )
    voters = _own_first(msg, "tgme_widget_message_voters")
    return _drop_none(
        {
            "type": "poll",
            "url": post_url,
            "question": dom.one_line(
                dom.first_with_class(poll, "tgme_widget_message_poll_question")
            )
            or None,
            "poll_type": dom.one_line(dom.first_with_class(poll, "tgme_widget_message_poll_type"))
            or None,
            "options": options,
            "voters": parse_views(dom.one_line(voters)) if voters is not None else None,
        }
    )


def _duration(el: Any) -> str | None:
    for t in el.xpath(".//time[contains(@class, 'duration')]"):
        value = dom.one_line(t)
        if value:
            return value
    return None


def _bg_url(el: Any | None, base: str) -> str | None:
    if el is None:
        return None
    m = _BG_URL_RE.search(el.get("style") or "")
    return _abs(m.group(2), base) if m else None


# --------------------------------------------------------------------------- small helpers


def _own_first(msg: Any, cls: str) -> Any | None:
    """First element with ``cls`` in the message, not inside a reply or a link preview."""
    for el in msg.xpath(f".//*[{dom.class_xpath(cls)}]"):
        if not dom.inside(el, msg, _FOREIGN - {"tgme_widget_message_footer"}):
            return el
    return None


def _abs(href: str | None, base: str) -> str | None:
    href = (href or "").strip()
    if not href:
        return None
    if href.startswith("//"):
        return "https:" + href
    try:
        return urljoin(base, href)
    except ValueError:  # e.g. a malformed IPv6 host: keep the href as written
        return href


def _query(url: str) -> str:
    try:
        return urlsplit(url).query
    except ValueError:
        return ""


def _to_int(value: str | None) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def _drop_none(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if v is not None or k in ("type", "url")}
