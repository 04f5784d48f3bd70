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

import functools
import re
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

from lxml import etree

from ..models import KIND_TELEGRAM, PAGE_CHANNEL, ChannelInfo, Page, Post
from ..source import is_channel_name
from ..times import to_datetime
from . import html as dom
from .values import MAX_COUNT, count

__all__ = ["MAX_COUNT", "is_telegram_markup", "is_throttled", "parse_telegram_page", "parse_views"]

_TME = "https://t.me/"
_MSG = "tgme_widget_message"
_MSG_CLASS_RE = re.compile(rb"""class\s*=\s*["'][^"']*(?<![\w-])tgme_widget_message(?![\w-])""")
#: Telegram's answer when it throttles (or has nothing to show): an element of this class.
#: A post that quotes the word shows it escaped, never as markup.
_NO_MESSAGES_CLASS = r"""class\s*=\s*["'][^"']*(?<![\w-])tme_no_messages_found(?![\w-])"""
_NO_MESSAGES_RE = re.compile(_NO_MESSAGES_CLASS)
_NO_MESSAGES_BYTES_RE = re.compile(_NO_MESSAGES_CLASS.encode())
#: The list of a channel's messages: on every t.me/s page, the empty one below the first
#: post too (the channel header and no message, without Telegram's throttling marker).
_HISTORY_CLASS_RE = re.compile(
    rb"""class\s*=\s*["'][^"']*(?<![\w-])tgme_channel_history(?![\w-])"""
)
_WS_RE = re.compile(r"[ \t\n\r\f\v]+")
_BG_URL_RE = re.compile(r"""background-image\s*:\s*url\(\s*(['"]?)(.*?)\1\s*\)""", re.I | re.S)
#: A counter as Telegram shows it: the number first, maybe a K/M/B, maybe a label after a space.
_COUNT_RE = re.compile(
    r"\s*(\d[\d \u00a0\u202f,]*(?:\.\d+)?)\s*([kmbg])?(?:\s+[^\W\d_][^\d]*)?\s*\Z", re.I
)
_GENERIC_OG_RE = re.compile(r"You can (?:view and join|contact) @\w+ right away\.?$")
_SCALE = {"k": 1_000, "m": 1_000_000, "b": 1_000_000_000, "g": 1_000_000_000}
#: A message id: ASCII digits, no leading zero, and small enough for SQLite (< 2**63).
_POST_ID_RE = re.compile(r"^[1-9][0-9]{0,17}\Z", re.ASCII)
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
#: The message's parts found by class: the one pass over a message (:class:`_Index`) keeps these.
_INDEXED = frozenset(
    {
        "tgme_widget_message_text",
        "tgme_widget_message_date",
        "tgme_widget_message_meta",
        "tgme_widget_message_views",
        "tgme_widget_message_from_author",
        "tgme_widget_message_forwarded_from_name",
        "tgme_widget_message_reply",
        "tgme_widget_message_link_preview",
        "tgme_widget_message_voters",
        "tgme_widget_message_reactions",
    }
)
#: An own part of the message is not inside one of these (its footer is its own).
_NOT_OWN = _FOREIGN - {"tgme_widget_message_footer"}
#: Elements whose class may name a message part (a cheap substring test; tokens are checked).
_MESSAGE_PARTS = etree.XPath(".//*[contains(@class, 'tgme_widget_message_')]")
_PREVIEW_PARTS = etree.XPath(".//*[contains(@class, 'link_preview_')]")
_HEADER_PARTS = etree.XPath(
    ".//*[contains(@class, 'tgme_channel_info') or contains(@class, 'tgme_header_')]"
)
_HEADER_CLASSES = frozenset(
    {
        "tgme_channel_info",
        "tgme_channel_info_header_title",
        "tgme_header_title",
        "tgme_channel_info_description",
        "tgme_channel_info_counter",
        "tgme_header_counter",
        "tgme_channel_info_header",
        "tgme_channel_info_header_username",
    }
)
_PREVIEW_CLASSES = frozenset(
    {
        "link_preview_image",
        "link_preview_right_image",
        "link_preview_video_thumb",
        "link_preview_description",
        "link_preview_site_name",
        "link_preview_title",
    }
)
_HEADER_PHOTO = etree.XPath(f".//*[{dom.class_xpath('tgme_page_photo_image')}]//img/@src")
_TIMES = etree.XPath(".//time/@datetime")
_MESSAGES = etree.XPath(f"//*[@data-post][{dom.class_xpath(_MSG)}]")
_MORE_BEFORE = etree.XPath(f"//a[{dom.class_xpath('tme_messages_more')}]/@data-before")
_PREV_HREF = etree.XPath("//link[@rel='prev']/@href")
_LINK_HREFS = etree.XPath(".//a/@href")
_VIDEO = etree.XPath(".//video[@src]")
_AUDIO = etree.XPath(".//audio[@src]")
_DURATIONS = etree.XPath(".//time[contains(@class, 'duration')]")
#: XPath's whitespace in a class attribute (normalize-space splits on these, and only these).
_CLASS_SPACE = str.maketrans("\t\n\r", "   ")


def _class_names(attr: str) -> list[str]:
    """The class names of a class attribute as XPath's ``normalize-space`` splits them."""
    if "\t" in attr or "\n" in attr or "\r" in attr:
        attr = attr.translate(_CLASS_SPACE)
    return attr.split(" ")


#: The key of a paid reaction (Telegram Stars).
PAID_REACTION = "⭐"
#: A placeholder's own words: a message t.me cannot show on the web.
_PLACEHOLDER_RE = re.compile(r"^please open telegram to view this post\.?$", re.I)
_PLACEHOLDER_CLASSES = frozenset(
    {
        "message_media_not_supported_wrap",
        "message_media_not_supported",
        "tgme_widget_message_media_not_supported",
    }
)
#: Never descend into these while collecting media (a poll is media: handled first).
_NO_MEDIA = (_FOREIGN - {"tgme_widget_message_poll"}) | {
    "tgme_widget_message_text",
    "tgme_widget_message_author",
    "tgme_widget_message_forwarded_from",
    "tgme_widget_message_service_photo",
    "tgme_widget_message_reactions",
}


# --------------------------------------------------------------------------- public API


def is_telegram_markup(html: str | bytes) -> bool:
    """True when ``html`` is Telegram preview markup: a message, Telegram's throttled
    "no messages" answer, or a channel's empty message list (the page below its first post)."""
    data = html.encode("utf-8", "replace") if isinstance(html, str) else bytes(html or b"")
    if b"tme_no_messages_found" in data and _NO_MESSAGES_BYTES_RE.search(data):
        return True
    if b"tgme_channel_history" in data and _HISTORY_CLASS_RE.search(data):
        return True
    return _MSG.encode() in data and _MSG_CLASS_RE.search(data) is not None


def is_throttled(text: str) -> bool:
    """Whether a t.me/s page is Telegram's ``tme_no_messages_found`` answer (what it serves
    when it throttles), as markup: a post quoting the word is not."""
    return "tme_no_messages_found" in text and _NO_MESSAGES_RE.search(text) is not None


def parse_views(text: str) -> int | None:
    """Read a Telegram counter: "14.9K" -> 14900, "1.2M" -> 1200000, "12 345" -> 12345.

    The counter is the whole text (a label may follow: "1.5K subscribers"); anything
    else ("-5", "1e309K", "NaN", a count no channel reaches) is None.
    """
    m = _COUNT_RE.match(text or "")
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
    return count(value)


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
    cannot be read) is left out and said in ``page.errors``. Without it, a
    page asked for at ``/s/NAME`` (any host) is NAME's; any other page's
    header (else its first message) names the channel.
    """
    page = Page(url=url, kind=KIND_TELEGRAM, page_type=PAGE_CHANNEL, before=before)
    if isinstance(html, bytes | bytearray):
        decoded = dom.decode(bytes(html), content_type)
        text, page.encoding = decoded.text, decoded.encoding
    else:
        text = html or ""
    page.throttled = is_throttled(text)
    document = dom.parse_document(text, plain=True)
    page.errors += document.problems
    root = document.root
    if root is None:
        return page
    page.title = dom.one_line(root.find(".//title")) or None
    page.older = _older(root)
    messages = _MESSAGES(root)
    header = _by_class(_HEADER_PARTS(root), _HEADER_CLASSES)
    name = _channel_name(header, messages, url, telegram=is_telegram_markup(text), page=page)
    channel = channel if channel is not None else asked_channel(url)
    if channel is not None:
        if name is not None and name != channel.lower():
            page.errors.append(f"the page is channel @{name}'s, not @{channel.lower()}'s")
        name = channel.lower()
    if name:
        page.channel = _channel_info(root, header, name)
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


_PREVIEW_PATH = re.compile(r"^/s/([A-Za-z][A-Za-z0-9_]*)/?\Z")


def asked_channel(url: str) -> str | None:
    """The channel a preview URL asks for (``/s/NAME`` on any host, NAME a Telegram
    username, lower case), else None."""
    try:
        path = urlsplit(url or "").path
    except ValueError:
        return None
    m = _PREVIEW_PATH.match(path)
    return m.group(1).lower() if m and is_channel_name(m.group(1)) else None


class BadMessage(ValueError):
    """A message of the page that is not kept: another channel's, or an unreadable id."""


# --------------------------------------------------------------------------- page level


def _older(root: Any) -> int | None:
    for value in _MORE_BEFORE(root):
        number = _to_int(value)
        if number is not None:
            return number
    for href in _PREV_HREF(root):
        values = parse_qs(_query(href)).get("before")
        number = _to_int(values[0]) if values else None
        if number is not None:
            return number
    return None


def _channel_name(
    header: dict[str, list[Any]], messages: list[Any], url: str, *, telegram: bool, page: Page
) -> str | None:
    """The channel the page names (checked: a Telegram username), else None."""
    candidates = []
    username = dom.one_line(_first(header, "tgme_channel_info_header_username"))
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


def _by_class(found: list[Any], wanted: frozenset[str]) -> dict[str, list[Any]]:
    """The elements of ``found`` (document order) by each class of ``wanted`` they have."""
    by_class: dict[str, list[Any]] = {}
    for el in found:
        for cls in _class_names(el.get("class") or ""):
            if cls in wanted:
                same = by_class.setdefault(cls, [])
                if not same or same[-1] is not el:
                    same.append(el)
    return by_class


def _first(by_class: dict[str, list[Any]], cls: str) -> Any | None:
    found = by_class.get(cls)
    return found[0] if found else None


def _channel_info(root: Any, parts: dict[str, list[Any]], name: str) -> ChannelInfo:
    """The channel header; ``parts`` are the page's header elements by class (``_by_class``)."""
    info = ChannelInfo(name=name, kind=KIND_TELEGRAM, source_url=f"{_TME}s/{name}")
    base = info.source_url
    header = _first(parts, "tgme_channel_info")
    info.title = dom.one_line(_first(parts, "tgme_channel_info_header_title")) or dom.one_line(
        _first(parts, "tgme_header_title")
    )
    info.description = dom.inner_text(_first(parts, "tgme_channel_info_description")) or None
    if header is None:  # no header block: the page's meta tags are all there is
        info.title = info.title or _meta(root, "og:title")
        og_description = _multiline(_meta(root, "og:description"))
        if og_description and not _GENERIC_OG_RE.match(og_description):
            info.description = og_description
    info.title = info.title or None
    for counter in parts.get("tgme_channel_info_counter", ()):
        kind = dom.one_line(dom.first_with_class(counter, "counter_type")).lower()
        if kind in ("subscribers", "subscriber", "members", "member"):
            info.subscribers = parse_views(
                dom.one_line(dom.first_with_class(counter, "counter_value"))
            )
            break
    if info.subscribers is None:
        header_counter = dom.one_line(_first(parts, "tgme_header_counter"))
        if re.search(r"subscriber|member", header_counter, re.I):
            info.subscribers = parse_views(header_counter)
    photo = []
    for block in parts.get("tgme_channel_info_header", ()):  # document order: the first wins
        photo = _HEADER_PHOTO(block)
        if photo:
            break
    image = photo[0] if photo else _meta(root, "og:image")
    info.image = _abs(image, base)
    return info


def _meta(root: Any, prop: str) -> str | None:
    values = dom.compiled(f"//meta[@property='{prop}' or @name='{prop}']/@content")(root)
    return values[0] if values and values[0].strip() else None


def _multiline(value: str | None) -> str | None:
    if not value:
        return None
    lines = [_WS_RE.sub(" ", ln).strip() for ln in value.splitlines()]
    return "\n".join(lines).strip("\n") or None


# --------------------------------------------------------------------------- one message


class _Index:
    """One pass over a message: its elements of the classes the parser asks for.

    ``by_class`` holds, for each class of :data:`_INDEXED`, the descendants
    with that class in document order (as ``.//*[class]`` finds them);
    ``service`` is the first descendant whose class attribute names a
    service text (not the day separator nor the service photo).
    """

    __slots__ = ("by_class", "foreign", "msg", "service")

    def __init__(self, msg: Any) -> None:
        self.msg = msg
        self.service: Any | None = None
        #: The reply, link preview, poll and user blocks: what is inside them is not the message's.
        self.foreign: set[Any] = set()
        by_class: dict[str, list[Any]] = {}
        for el in _MESSAGE_PARTS(msg):
            attr = el.get("class")
            if (
                self.service is None
                and "tgme_widget_message_service" in attr
                and "service_date" not in attr
                and "service_photo" not in attr
            ):
                self.service = el
            for cls in _class_names(attr):
                if cls in _NOT_OWN:
                    self.foreign.add(el)
                if cls in _INDEXED:
                    found = by_class.get(cls)
                    if found is None:
                        by_class[cls] = [el]
                    elif found[-1] is not el:
                        found.append(el)
        self.by_class = by_class

    def all(self, cls: str) -> list[Any]:
        return self.by_class.get(cls, [])

    def own(self, cls: str) -> Any | None:
        """First element with ``cls`` in the message, not inside a reply or a link preview."""
        found = self.by_class.get(cls, ())
        if not self.foreign:
            return found[0] if found else None
        for el in found:
            for parent in el.iterancestors():
                if parent is self.msg:
                    return el
                if parent in self.foreign:
                    break
            else:
                return el
        return None


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
    index = _Index(msg)
    date_link = index.own("tgme_widget_message_date")
    href = date_link.get("href") if date_link is not None else None
    post = Post(
        channel=channel,
        post_id=post_id,
        url=_abs(href, base) or f"{_TME}{data_post}",
        source_url=page_url,
    )
    if date_link is not None:
        stamps = _TIMES(date_link)
        stamp = stamps[0].strip() if stamps else None
        post.published_at = stamp if stamp and to_datetime(stamp) is not None else None

    placeholder = None
    text_el = _own_text_element(msg, index)
    if text_el is not None:
        post.raw_text = dom.inner_text(text_el)
        if _PLACEHOLDER_RE.match(post.raw_text):
            placeholder, post.raw_text = post.raw_text, ""
        else:
            post.html = dom.inner_html(text_el)
            post.links = _links(text_el, base)

    meta = index.own("tgme_widget_message_meta")
    if meta is not None:
        own_text = " ".join([meta.text or ""] + [child.tail or "" for child in meta])
        post.edited = re.search(r"\bedited\b", own_text, re.I) is not None
    views = index.own("tgme_widget_message_views")
    post.views = parse_views(dom.one_line(views)) if views is not None else None
    post.author = dom.one_line(index.own("tgme_widget_message_from_author")) or None
    reactions = index.own("tgme_widget_message_reactions")
    if reactions is not None:
        post.reactions = _reactions(reactions)

    forwarded = index.own("tgme_widget_message_forwarded_from_name")
    if forwarded is not None:
        fwd_url = forwarded.get("href") if forwarded.tag == "a" else None
        post.forwarded_from = {"name": dom.one_line(forwarded) or None, "url": _abs(fwd_url, base)}
    reply = next((el for el in index.all("tgme_widget_message_reply") if el.tag == "a"), None)
    if reply is not None:
        post.reply_to = _abs(reply.get("href"), base)

    post.media = _media(msg, post.url, base, index)
    if placeholder is not None and not any(m["type"] == "unsupported" for m in post.media):
        post.media.append({"type": "unsupported", "url": post.url, "label": placeholder})
    _item_ids(post)
    previews = index.all("tgme_widget_message_link_preview")
    post.link_preview = _link_preview(previews[0], base) if previews else None

    service_text = index.service
    post.service = dom.has_class(msg, "service_message") or service_text is not None
    if service_text is not None and dom.inner_text(service_text):
        post.raw_text = dom.inner_text(service_text)
        post.html = post.html or dom.inner_html(service_text)
    return post


def _own_text_element(msg: Any, index: _Index) -> Any | None:
    """The message's own text: outermost, not in a reply/preview/poll; unwrap a nested copy."""
    for el in index.all("tgme_widget_message_text"):
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
    for href in _LINK_HREFS(text_el):
        href = href.strip()
        if not href or href.lower().startswith(("javascript:", "#")):
            continue
        link = _abs(href, base)
        if link and link not in links:
            links.append(link)
    return links


def _link_preview(preview: Any, base: str) -> dict[str, Any]:
    parts = _by_class(_PREVIEW_PARTS(preview), _PREVIEW_CLASSES)
    image = None
    for cls in ("link_preview_image", "link_preview_right_image", "link_preview_video_thumb"):
        el = _first(parts, cls)
        if el is not None:
            image = _bg_url(el, base)
            if image:
                break
    description = _first(parts, "link_preview_description")
    return {
        "url": _abs(preview.get("href"), base),
        "site": dom.one_line(_first(parts, "link_preview_site_name")) or None,
        "title": dom.one_line(_first(parts, "link_preview_title")) or None,
        "description": (dom.inner_text(description) or None) if description is not None else None,
        "image": image,
    }


# --------------------------------------------------------------------------- media


def _media(msg: Any, post_url: str, base: str, index: _Index) -> list[dict[str, Any]]:
    """Media of the message in page order (albums give one entry per item)."""
    items: list[dict[str, Any]] = []
    placeholders: list[dict[str, Any]] = []

    def walk(el: Any) -> None:
        for child in el:
            if not isinstance(child.tag, str):
                continue
            attr = child.get("class")
            classes = set(attr.split()) if attr else _NO_CLASSES
            if "tgme_widget_message_poll" in classes:
                items.append(_poll(index, child, post_url))
            elif classes & _PLACEHOLDER_CLASSES:
                placeholders.append(_placeholder(child, post_url, base))
            elif not classes & _NO_MEDIA:
                item = _media_item(child, classes, base)
                if item is not None:
                    items.append(item)
                else:
                    walk(child)

    walk(msg)
    # "not supported in your browser" beside a sticker or video is a fallback, not the content
    return items or placeholders


def _placeholder(el: Any, post_url: str, base: str) -> dict[str, Any]:
    """A message t.me does not show on the web ("Please open Telegram to view this post")."""
    label = dom.first_with_class(el, "message_media_not_supported_label")
    shown = dom.one_line(label if label is not None else el)
    link = dom.first_with_class(el, "message_media_view_in_telegram")
    return _drop_none(
        {
            "type": "unsupported",
            "url": post_url,
            "label": shown or None,
            "href": _abs(link.get("href"), base) if link is not None else None,
        }
    )


def _item_ids(post: Post) -> None:
    """An album's items each get ``post_id``: their own message id (they link to ``/NAME/ID``).

    An album is one message on the page (the id of its first item); the ids
    of the other items never appear as messages. A message with one media
    item keeps the item's id implicit: it is the message's.
    """
    prefix = f"/{post.channel}/"
    ids = []
    for item in post.media:
        own = None
        href = item.get("href")
        if href:
            path = _path(href).lower()
            if path.startswith(prefix):
                number = path[len(prefix) :].rstrip("/")
                own = number if _POST_ID_RE.match(number) else None
        ids.append(own)
    if sum(1 for own in ids if own) < 2:
        return
    for item, own in zip(post.media, ids, strict=True):
        if own:
            item["post_id"] = own


def _reactions(block: Any) -> dict[str, int]:
    """Reactions shown under a message: emoji (or ``custom:ID``, or ⭐ for paid) -> count."""
    found: dict[str, int] = {}
    for span in dom.with_class(block, "tgme_reaction"):
        key = _reaction_key(span)
        counter = dom.first_with_class(span, "tgme_reaction_count")
        if counter is not None:
            shown = dom.one_line(counter)
        else:  # the count is the reaction's own text, beside the emoji
            shown = " ".join([span.text or ""] + [child.tail or "" for child in span])
        count = parse_views(shown)
        if key and count is not None:
            found[key] = found.get(key, 0) + count
    return found


def _reaction_key(span: Any) -> str | None:
    if dom.has_class(span, "tgme_reaction_paid"):
        return PAID_REACTION
    for custom in span.iter("tg-emoji"):
        emoji_id = (custom.get("emoji-id") or "").strip()
        if emoji_id:
            return f"custom:{emoji_id[:40]}"
    for el in span.iter("b", "img"):
        shown = (el.get("alt") if el.tag == "img" else "".join(el.itertext())) or ""
        if shown.strip():
            return shown.strip()
    emoji = dom.first_with_class(span, "emoji")
    return (dom.one_line(emoji) or None) if emoji is not None else None


_NO_CLASSES: frozenset[str] = frozenset()


def _media_item(el: Any, classes: set[str] | frozenset[str], base: str) -> dict[str, Any] | None:
    href = _abs(el.get("href"), base)
    if "tgme_widget_message_photo_wrap" in classes:
        return _drop_none({"type": "photo", "url": _bg_url(el, base) or href, "href": href})
    if "tgme_widget_message_video_player" in classes:
        video = next(iter(_VIDEO(el)), None)
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
        video = next(iter(_VIDEO(el)), None)
        thumb = _bg_url(dom.first_with_class(el, "tgme_widget_message_roundvideo_thumb"), base)
        url = _abs(video.get("src"), base) if video is not None else None
        return _drop_none(
            {"type": "round_video", "url": url or thumb, "thumb": thumb, "duration": _duration(el)}
        )
    if "tgme_widget_message_voice_player" in classes:
        audio = next(iter(_AUDIO(el)), None)
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


def _poll(index: _Index, poll: Any, post_url: str) -> dict[str, Any]:
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
    voters = index.own("tgme_widget_message_voters")
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
    for t in _DURATIONS(el):
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


def _abs(href: str | None, base: str) -> str | None:
    href = (href or "").strip()
    if not href:
        return None
    if href.startswith("//"):
        return "https:" + href
    if _PLAIN_URL_RE.match(href):  # what urljoin would give back unchanged
        return href
    return _join(base, href)


@functools.lru_cache(maxsize=4096)
def _join(base: str, href: str) -> str:
    """``href`` resolved against ``base`` (hashtag links repeat on every page)."""
    try:
        return urljoin(base, href)
    except ValueError:  # e.g. a malformed IPv6 host: keep the href as written
        return href


#: An absolute URL that ``urljoin`` returns as is (no params, no empty query or fragment).
_PLAIN_URL_RE = re.compile(
    r"https?://[^/?#;\\\[\]\s]+(?:/[^?#;\\\s]*)?(?:\?[^#\s]+)?(?:#\S+)?\Z", re.ASCII
)


def _path(url: str) -> str:
    try:
        return urlsplit(url).path
    except ValueError:
        return ""


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
