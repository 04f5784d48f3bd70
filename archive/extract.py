"""From a fetched page to posts: the entry point of extraction.

:func:`extract_page` recognises Telegram preview markup wherever it is
served from and hands it to :mod:`archive.telegram`; any other page is a
web page whose main text is extracted with trafilatura.
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import urlsplit

import lxml.html
import trafilatura

from . import telegram
from .models import KIND_WEB, PAGE_POST, ChannelInfo, Page, Post

_META_CHARSET = re.compile(rb"""<meta[^>]+charset=["']?([A-Za-z0-9_\-]+)""", re.IGNORECASE)


def decode_body(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """The page's text and the encoding used (HTTP charset, then <meta>, then UTF-8)."""
    candidates = []
    if content_type and "charset=" in content_type.lower():
        candidates.append(content_type.lower().split("charset=")[-1].split(";")[0].strip(" \"'"))
    match = _META_CHARSET.search(body[:4096])
    if match:
        candidates.append(match.group(1).decode("ascii").lower())
    candidates.append("utf-8")
    for encoding in candidates:
        try:
            return body.decode(encoding), encoding
        except (LookupError, UnicodeDecodeError):
            continue
    return body.decode("utf-8", errors="replace"), "utf-8"


def site_channel_name(url: str) -> str:
    """The channel name of a web source: its host (with a non-default port)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return f"{host}:{parts.port}" if parts.port else host


def extract_page(
    body: bytes, url: str, *, content_type: str | None = None, before: int | None = None
) -> Page:
    """Parse a fetched page into a :class:`Page` of posts."""
    if telegram.is_telegram_markup(body):
        return telegram.parse_telegram_page(body, url, before=before)
    html, encoding = decode_body(body, content_type)
    return _extract_web(html, url, encoding)


def _extract_web(html: str, url: str, encoding: str) -> Page:
    name = site_channel_name(url)
    page = Page(
        url=url,
        kind=KIND_WEB,
        page_type=PAGE_POST,
        channel=ChannelInfo(
            name=name, kind=KIND_WEB, source_url=f"{urlsplit(url).scheme}://{name}/"
        ),
        encoding=encoding,
    )
    text = trafilatura.extract(html, url=url, favor_recall=True, include_comments=False) or ""
    metadata = trafilatura.extract_metadata(html, default_url=url)
    title = metadata.title if metadata else None
    page.title = title
    try:
        doc = lxml.html.fromstring(html)
        page.links = [link for _, _, link, _ in doc.iterlinks() if link.startswith("http")]
    except (lxml.etree.ParserError, ValueError):
        doc = None
    if text:
        page.posts.append(
            Post(
                channel=name,
                post_id=hashlib.sha256(url.encode()).hexdigest()[:16],
                url=url,
                source_url=url,
                title=title,
                published_at=metadata.date if metadata else None,
                raw_text=text,
            )
        )
    return page
