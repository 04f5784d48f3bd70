"""What every part of web extraction shares: the page's context, post ids, times, media.

:class:`PageContext` carries the page URL, its base for relative links, the
options, and the list of removals that ``--explain`` shows.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit

from ...clean.options import ExtractOptions
from .. import html
from ..dates import find_time

#: How much of a removed element ``--explain`` shows.
_SHOWN = 120


def url_post_id(url: str, options: ExtractOptions) -> str | None:
    """The stable post id a URL carries (``/post/123`` → ``123``), or None."""
    parts = urlsplit(url)
    path = parts.path or "/"
    if any(rx.search(path) for rx in options.not_post_url_patterns):
        return None
    targets = [path, f"{path}?{parts.query}"] if parts.query else [path]
    for rx in options.url_id_patterns:
        for target in targets:
            match = rx.search(target)
            if match:
                return match.group(1) if match.groups() else match.group(0)
    return None


def url_hash_id(url: str) -> str:
    """The id of a post whose page names none: a hash of its URL."""
    return hashlib.sha256(urldefrag(url)[0].encode()).hexdigest()[:16]


def shown(text: str) -> str:
    text = html.norm(text)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


@dataclass
class PageContext:
    """One page being split: where it is, how links resolve, the options, what was cut."""

    url: str
    base: str
    options: ExtractOptions
    removed: list[tuple[str, str]] = field(default_factory=list)

    def drop(self, el: Any, rule: str) -> None:
        text = html.text_of(el)
        if text:
            self.removed.append((rule, shown(text)))
        html.drop(el)

    def absolute(self, href: str | None) -> str | None:
        if not href:
            return None
        link = urldefrag(urljoin(self.base, href.strip()))[0]
        return link if urlsplit(link).scheme in ("http", "https") else None


def element_time(elements: list[Any], ctx: PageContext) -> str | None:
    selector = ctx.options.selector("time")
    for el in elements:
        found = selector(el) if selector is not None else []
        found = found or list(el.iter("time"))
        for t in found:
            value = t.get("datetime") or html.text_of(t)
            when = find_time(value, ctx.options.timezone)
            if when:
                return when
    return None


def media_of(elements: list[Any], ctx: PageContext) -> list[dict[str, Any]]:
    media = []
    for el in elements:
        for img in el.iter("img"):
            src = ctx.absolute(img.get("src") or img.get("data-src"))
            if src and {"type": "photo", "url": src} not in media:
                media.append({"type": "photo", "url": src})
    return media
