"""Extraction: a fetched page's bytes in, a :class:`~archive.models.Page` of posts out.

Holds: the HTML and encoding toolkit every parser shares (:mod:`.html`,
:mod:`.encoding`, which weighs legacy readings by how they read
(:mod:`.plausibility`, with the characters each language writes most in
:mod:`.frequent`)), the Telegram preview parser (:mod:`.telegram`), mirror
and aggregator pages (:mod:`.web`), dates as pages show them
(:mod:`.dates`), the checks every value a page gives passes
(:mod:`.values`), a post's embed and unreadable channels (:mod:`.embed`,
:mod:`.unreadable`), and one-off fetching for ``chanarchive extract URL``
(:mod:`.fetch`).

:func:`extract_page` decodes every page the same way (no mojibake, whatever
it declares), recognises Telegram preview markup wherever it is served from
and hands it to :mod:`.telegram`; any other page is a web page, split into
posts by :mod:`.web`. Either way its values are checked (:mod:`.values`:
its own channel's posts only, http(s) URLs, sane dates and counts) and
every post leaves with its raw text as captured and its clean text
(:mod:`archive.clean`); what was removed, and by which rule, rides along
for ``--explain``. A page whose encoding cannot be told is refused
(:class:`NotAPage`), never stored as mojibake.

May import: :mod:`archive.models`, :mod:`archive.errors`,
:mod:`archive.times`, :mod:`archive.source`, :mod:`archive.clean`, and
``archive.USER_AGENT`` (one-off fetching says who it is). Never SQLite,
the store or anything above it.
"""

from __future__ import annotations

from ..clean import Learned, apply_learned, clean_text
from ..clean.learn import learn
from ..clean.options import ExtractOptions
from ..clean.profiles import load_options
from ..errors import NotAPage
from ..models import KIND_WEB, PAGE_GONE, ChannelInfo, Page, Post
from . import html, telegram
from .values import check_page
from .web import parse_web_page, site_channel_name, url_hash_id, url_post_id

#: No page holds more posts than this (t.me/s shows 20; a long mirror listing a few hundred).
MAX_POSTS_PER_PAGE = 1000

__all__ = [
    "MAX_POSTS_PER_PAGE",
    "NotAPage",
    "extract_page",
    "extract_pages",
    "gone_page",
    "site_channel_name",
    "web_post_id",
]


def extract_page(
    body: bytes,
    url: str,
    *,
    content_type: str | None = None,
    before: int | None = None,
    options: ExtractOptions | None = None,
    learned: Learned | None = None,
    channel: str | None = None,
) -> Page:
    """Parse a fetched page into a :class:`Page` of posts, each with raw and clean text.

    ``options`` are the extraction settings (default: the shipped defaults;
    see :func:`archive.clean.profiles.load_options`); ``learned`` is boilerplate
    already learned for the page's channel, stripped from the clean text;
    ``channel`` the Telegram channel the crawl asked for (a page lists only
    its own). Raises :class:`NotAPage` for a body that is no page at all
    (binary data, an image): no post is ever made of one.
    """
    options = options or load_options()
    reason = html.not_html(body, content_type)
    if reason:
        raise NotAPage(reason)
    decoded = html.decode(body, content_type)
    reason = html.not_text(decoded.text) or decoded.problem  # no mojibake is ever stored
    if reason:
        raise NotAPage(reason)
    if telegram.is_telegram_markup(decoded.text):
        page = telegram.parse_telegram_page(decoded.text, url, before=before, channel=channel)
        page.encoding = decoded.encoding
    else:
        page = parse_web_page(decoded.text, url, options, encoding=decoded.encoding)
    if len(page.posts) > MAX_POSTS_PER_PAGE:
        page.errors.append(
            f"the page holds {len(page.posts)} posts: only the first {MAX_POSTS_PER_PAGE} were kept"
        )
        del page.posts[MAX_POSTS_PER_PAGE:]
    check_page(page)
    for post in page.posts:
        clean_post(post, options, learned)
    return page


def extract_pages(
    items: list[tuple[bytes, str, str | None]],
    options: ExtractOptions | None = None,
    failures: list[str] | None = None,
) -> list[Page]:
    """Extract several pages (body, url, content type) together.

    Lines that recur at the end of many posts of one channel across these
    pages are learned and stripped, as the archive does over its crawls. A
    body that is no page is left out, and said in ``failures`` when given
    (else :class:`NotAPage` is raised).
    """
    options = options or load_options()
    pages = []
    for body, url, ct in items:
        try:
            pages.append(extract_page(body, url, content_type=ct, options=options))
        except NotAPage as exc:
            if failures is None:
                raise
            failures.append(f"{url}: {exc}")
    for kind in {page.kind for page in pages}:
        posts = [post for page in pages if page.kind == kind for post in page.posts]
        for channel, learned in learn(posts, kind, options).items():
            for post in posts:
                if post.channel == channel and post.text is not None:
                    result = apply_learned(post.text, learned)
                    post.text = result.text
                    post.removed = post.removed + result.removed
    return pages


def clean_post(post: Post, options: ExtractOptions, learned: Learned | None = None) -> None:
    """Set ``post.text`` (clean) and ``post.removed`` from its raw text."""
    result = clean_text(post.raw_text, options=options, learned=learned)
    post.text = result.text
    post.removed = result.removed


def web_post_id(url: str, options: ExtractOptions | None = None) -> str:
    """The id a web post at ``url`` gets when its page names none but its URL."""
    options = options or load_options()
    return url_post_id(url, options) or url_hash_id(url)


def gone_page(
    url: str, *, post_id: str | None = None, options: ExtractOptions | None = None
) -> Page:
    """The page of a web post that answered 404 / 410: the archive marks the post deleted."""
    options = options or load_options()
    name = options.channel or site_channel_name(url) or "local"
    post_id = post_id or web_post_id(url, options)
    return check_page(
        Page(
            url=url,
            kind=KIND_WEB,
            page_type=PAGE_GONE,
            channel=ChannelInfo(name=name, kind=KIND_WEB),
            posts=[Post(channel=name, post_id=post_id, url=url, source_url=url)],
        )
    )
