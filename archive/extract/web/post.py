"""A post page's one post: its container, its title, its time, and the lines of its own text.

The post is its container (a profile's selector, the element with
``data-post``, the one ``<article>``, else the body) without its title,
what precedes the title, and its time; trafilatura finds where the main
text runs (:mod:`.text`), and every line of the container inside that run
is kept, so short lines trafilatura drops (hashtags, a bare link) stay in
the post. Lines that are page furniture (times, counters, copyright) never
reach the raw text.
"""

from __future__ import annotations

from typing import Any

import lxml.html

from ...clean import rule_for
from ...models import Post
from .. import html
from ..dates import find_time
from .context import PageContext, element_time, media_of, shown, url_hash_id
from .text import main_region, main_text

#: Separators between a post's title and the site's name in ``<title>``.
_TITLE_SEPARATORS = (" - ", " | ", " – ", " — ", " _ ", "_", " :: ", " · ")


def _container(root: Any, body: Any, ctx: PageContext, data_posts: list[Any]) -> tuple[Any, bool]:
    """The element holding the post, and whether the page says so (a selector, data-post)."""
    selector = ctx.options.selector("post")
    if selector is not None:
        found = selector(root)
        if found:
            return found[0], True
    total = len(html.squash(html.text_of(body))) or 1
    if len(data_posts) == 1 and len(html.squash(html.text_of(data_posts[0]))) >= 0.1 * total:
        return data_posts[0], True
    for xpath in ("//article", "//*[@itemprop='articleBody']", "//main"):
        found = root.xpath(xpath)
        if len(found) == 1 and len(html.squash(html.text_of(found[0]))) >= 0.2 * total:
            return found[0], False
    return body, False


def _title_candidates(root: Any, ctx: PageContext, meta: dict) -> list[str]:
    title = html.norm(root.xpath("string(//title)"))
    found = [meta["og_title"], title]
    for separator in _TITLE_SEPARATORS:
        if separator in title:
            found.append(title.split(separator)[0].strip())
    found += [html.text_of(h) for h in root.iter("h1")]
    return [t for t in dict.fromkeys(found) if t and len(html.squash(t)) >= 2]


def _find_title(
    root: Any, container: Any, ctx: PageContext, meta: dict
) -> tuple[str | None, Any | None]:
    selector = ctx.options.selector("title")
    if selector is not None:
        found = selector(container) or selector(root)
        if found:
            inside = found[0] is container or container in found[0].iterancestors()
            return html.text_of(found[0]) or None, found[0] if inside else None
    candidates = _title_candidates(root, ctx, meta)
    lines = html.render(container)
    for candidate in candidates:
        key = html.squash(candidate)
        for line in lines:
            if html.squash(line.text) == key:
                own = [ln for ln in lines if ln.block is line.block]
                return line.text, (line.block if len(own) == 1 else None)
    return (candidates[0] if candidates else None), None


def main_post(
    root: Any,
    body: Any,
    channel: str,
    ctx: PageContext,
    meta: dict,
    data_posts: list[Any],
    own_id: str | None,
) -> Post | None:
    """The page's one post (None when no text is left), its furniture cut and recorded in ``ctx``."""
    options = ctx.options
    container, strong = _container(root, body, ctx, data_posts)
    # trafilatura reads the page as its author laid it out (title included), furniture cut.
    found = None if strong else main_text(root, ctx)
    title, title_el = _find_title(root, container, ctx, meta)
    if title_el is not None and title_el is not container:
        before = html.iter_before(container, title_el)
        before_chars = sum(len(html.squash(html.text_of(el))) for el in before)
        total = len(html.squash(html.text_of(container)))
        if before_chars <= 0.5 * total:
            for el in before:
                ctx.drop(el, "before-title")
        ctx.drop(title_el, "title")
    published = element_time([container], ctx)
    for t in container.xpath(".//time"):
        ctx.drop(t, "post-time")
    if published is None and meta["time"]:
        published = find_time(meta["time"], options.timezone)

    lines = html.render(container)
    region = lines
    if not strong:
        region = main_region(lines, found, title) if found else None
        if region is None:
            region = [html.Line(t, None) for t in (found or "").split("\n")] or lines
        kept = {id(line) for line in region}
        for line in lines:
            if id(line) not in kept:
                ctx.removed.append(("outside-main-text", shown(line.text)))
    raw_lines = []
    for i, line in enumerate(region):
        text = line.text.strip()
        if not text or (i == 0 and title and html.squash(text) == html.squash(title)):
            continue
        rule = rule_for(text, options.page_line_patterns)
        if rule:
            ctx.removed.append((rule, shown(text)))
            published = published or find_time(text, options.timezone)
            continue
        raw_lines.append(text)
    if published is None:  # a date line above the text (a flat page's "2023-02-18 15:01")
        for line in lines[:8]:
            if len(line.text) <= 60:
                published = find_time(line.text, options.timezone)
                if published:
                    break
    if not raw_lines:
        return None
    post_id = (container.get("data-post") if strong else None) or own_id or url_hash_id(ctx.url)
    kept_blocks = {line.block for line in region if line.block is not None}
    links = []
    for a in container.iter("a"):
        link = ctx.absolute(a.get("href"))
        if link and link not in links and any(el in kept_blocks for el in a.iterancestors()):
            if html.text_of(a):
                links.append(link)
    return Post(
        channel=channel,
        post_id=post_id,
        url=ctx.url,
        source_url=ctx.url,
        published_at=published,
        title=title,
        raw_text="\n".join(raw_lines),
        html=lxml.html.tostring(container, encoding="unicode") if container is not body else "",
        links=links,
        media=media_of([container], ctx),
    )
