"""A web page as a whole: a listing of post cards or a post page, its furniture cut.

A web page is either a **listing** (many post cards: a channel's page on a
mirror site) or a **post page** (one main post, maybe followed by cards of
related posts). :func:`parse_web_page` tells them apart and returns a
:class:`~archive.models.Page`:

- Page furniture is cut first: navigation and share bars
  (:data:`~archive.clean.rules.DROP_XPATHS`), and every block of related posts,
  from its marker ("相关推荐", "You may also like" …) to the end of the
  block. Related cards stay links to follow; they are never content.
- A listing's cards become excerpt posts (``excerpt=True``: an excerpt never
  replaces a post's full text in the archive).
- A post page's post is its container (a profile's selector, the element
  with ``data-post``, the one ``<article>``, else the body) without its
  title, what precedes the title, and its time; trafilatura finds where the
  main text runs, and every line of the container inside that run whose
  block sits beside trafilatura's own paragraphs is kept, so short lines
  trafilatura drops (hashtags, a bare link) stay in the post.
- Lines that are page furniture (times, counters, copyright) never reach the
  raw text; boilerplate the post itself carries (ads, signatures, cover
  labels) stays in the raw text and is removed from the clean text by
  :mod:`archive.clean`.

A post's identity comes from the page: ``data-post``, the canonical link, or
a stable id in the URL (``/post/123``, ``?id=123``), never the order of cards.
Every removal is recorded (``Page.removed``) for ``--explain``.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urljoin, urlsplit

from ...clean.options import ExtractOptions
from ...models import KIND_WEB, PAGE_LISTING, PAGE_POST, ChannelInfo, Page
from ...source import site_channel_name
from .. import html
from .cards import card_post, cards_from_markup, find_cards, is_listing
from .context import PageContext, url_post_id
from .post import main_post

#: Inline styles that hide an element from readers (and hide link spam from us).
_HIDDEN_STYLE = re.compile(
    r"display\s*:\s*none|visibility\s*:\s*hidden|(?:left|top)\s*:\s*-\d{3,}px", re.IGNORECASE
)
#: A ``data-post`` value naming a post: ``channel/123`` or ``123``.
_DATA_POST = re.compile(r"^(?:[A-Za-z][\w.-]{1,63}/)?\d{1,12}$")


# --------------------------------------------------------------------------- the page


def parse_web_page(
    text: str, url: str, options: ExtractOptions, *, encoding: str | None = None
) -> Page:
    """Split a (decoded) web page into its posts; see the module docstring."""
    page = Page(url=url, kind=KIND_WEB, page_type=PAGE_POST, encoding=encoding)
    document = html.parse_document(text)
    page.errors += document.problems
    root = document.root
    base_href = root.xpath("string(//base/@href)") if root is not None else ""
    ctx = PageContext(url=url, base=urljoin(url, base_href) if base_href else url, options=options)
    meta = _meta(root, ctx) if root is not None else {"canonical": None}
    # A saved file has no host: its canonical link may name the site.
    site = url if urlsplit(url).hostname else (meta["canonical"] or "")
    name = options.channel or site_channel_name(site) or "local"
    parts = urlsplit(site)
    page.channel = ChannelInfo(
        name=name,
        kind=KIND_WEB,
        source_url=f"{parts.scheme}://{parts.netloc}/" if parts.netloc else None,
    )
    if root is None:
        return page
    page.title = html.norm(root.xpath("string(//title)")) or None
    page.links = _links(root, ctx)
    body = root.find("body")
    body = body if body is not None else root

    _drop_hidden(body, ctx)
    _drop_furniture(root, body, ctx)
    _cut_related(body, ctx)

    data_posts = _data_posts(body)
    own_id = (
        (data_posts[0].get("data-post") if len(data_posts) == 1 else None)
        or (url_post_id(meta["canonical"], options) if meta["canonical"] else None)
        or url_post_id(url, options)
    )
    cards = find_cards(body, ctx, data_posts)
    marked = cards_from_markup(ctx, data_posts)
    if cards and is_listing(body, cards, own_id is not None, ctx, marked):
        page.page_type = PAGE_LISTING
        page.posts = [post for card in cards if (post := card_post(card, name, ctx))]
    else:
        post = main_post(root, body, name, ctx, meta, data_posts, own_id)
        if post is not None:
            page.posts.append(post)
    page.removed = ctx.removed
    return page


def _data_posts(body: Any) -> list[Any]:
    """Elements that carry a post with its id (``data-post="channel/123"``) and some text."""
    found = []
    for el in body.xpath(".//*[@data-post]"):
        value = (el.get("data-post") or "").strip()
        if _DATA_POST.match(value) and len(html.squash(el.text_content())) >= 20:
            found.append(el)
    # An element inside another one is part of it (a reply quote), not a post of its own.
    return [el for el in found if not any(a in found for a in el.iterancestors())]


def _links(root: Any, ctx: PageContext) -> list[str]:
    seen: dict[str, None] = {}
    for a in root.iter("a"):
        link = ctx.absolute(a.get("href"))
        if link:
            seen.setdefault(link, None)
    return list(seen)


def _meta(root: Any, ctx: PageContext) -> dict[str, str | None]:
    def first(xpath: str) -> str | None:
        value = html.norm(root.xpath(f"string({xpath})"))
        return value or None

    canonical = first("//link[@rel='canonical']/@href")
    return {
        "canonical": ctx.absolute(canonical) if canonical else None,
        "og_title": first("//meta[@property='og:title' or @name='twitter:title']/@content"),
        "time": first(
            "//meta[@property='article:published_time' or @property='og:published_time'"
            " or @itemprop='datePublished' or @name='publishdate' or @name='pubdate']/@content"
        ),
    }


def _drop_hidden(body: Any, ctx: PageContext) -> None:
    for el in body.xpath(".//*[@style or @hidden]"):
        if el.get("hidden") is not None or _HIDDEN_STYLE.search(el.get("style") or ""):
            if body in el.iterancestors():
                ctx.drop(el, "hidden")


def _drop_furniture(root: Any, body: Any, ctx: PageContext) -> None:
    """Cut navigation and share bars; never one that holds much of the page (a mislabelled wrapper)."""
    total = len(html.squash(body.text_content()))
    for name, xpath in ctx.options.drop_xpaths:
        for el in xpath(root):
            if el.getparent() is None or html.tag(el) in ("html", "body"):
                continue
            if len(html.squash(el.text_content())) > 0.3 * total:
                continue
            ctx.drop(el, name)


def _cut_related(body: Any, ctx: PageContext) -> None:
    """From each related-posts marker to the end of its block: not the post."""
    if not ctx.options.related_markers:
        return
    pattern = ctx.options.marker_pattern
    for el in list(body.iter()):
        if not isinstance(el.tag, str) or html.tag(el) in ("body", *html.SKIP_TAGS):
            continue
        if len(el) > 3 or len(el.text_content()) > 200:
            continue  # a marker is a short element: its text, maybe a "more" link
        if body not in el.iterancestors():
            continue  # already cut with an earlier block
        text = html.text_of(el)
        if not text or len(text) > 40 or not pattern.match(text):
            continue
        # Climb while the parent holds nothing but the marker (a heading's wrapper).
        top = el
        while top.getparent() is not None and html.tag(top.getparent()) != "body":
            parent = top.getparent()
            if html.squash(html.text_of(parent)) != html.squash(text):
                break
            top = parent
        marker_text = text
        following = list(top.itersiblings())
        ctx.drop(top, f"related-block ({marker_text})")
        for sibling in following:
            if isinstance(sibling.tag, str):
                ctx.drop(sibling, f"related-block ({marker_text})")
            elif sibling.getparent() is not None:
                sibling.getparent().remove(sibling)
