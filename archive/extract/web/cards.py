"""Listing pages: the post cards on a page, and the excerpt post each one makes.

Cards are found from the page's own markup (a profile's ``card`` or ``post``
selector, several ``data-post`` elements) or from their links to post pages:
each card is the run of elements, under one parent, that links to one post
URL (a ``<li>`` of a list, or the bare ``<div>`` lines of a flat page). A
page is a listing when its cards are alike and hold most of its text.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from typing import Any
from urllib.parse import urldefrag, urlsplit

from ...clean import rule_for
from ...models import Post
from .. import html
from ..dates import find_time
from .context import PageContext, element_time, media_of, url_hash_id, url_post_id


@dataclass
class Card:
    elements: list[Any]
    url: str | None
    post_id: str


def find_cards(body: Any, ctx: PageContext, data_posts: list[Any]) -> list[Card]:
    options = ctx.options
    card_selector = options.selector("card")
    if card_selector is not None:
        return [c for el in card_selector(body) if (c := _element_card(el, ctx))]
    post_selector = options.selector("post")
    if post_selector is not None:
        found = post_selector(body)
        if len(found) >= 2:
            return [c for el in found if (c := _element_card(el, ctx))]
        return []
    if len(data_posts) >= 2:
        return [c for el in data_posts if (c := _element_card(el, ctx))]
    return _link_cards(body, ctx)


def cards_from_markup(ctx: PageContext, data_posts: list[Any]) -> bool:
    """Whether the page (or the profile) itself marks its cards: no need to weigh them."""
    options = ctx.options
    return bool(options.card_selector or options.post_selector or len(data_posts) >= 2)


def _element_card(el: Any, ctx: PageContext) -> Card | None:
    link = None
    for a in el.iter("a"):
        candidate = ctx.absolute(a.get("href"))
        if candidate and url_post_id(candidate, ctx.options):
            link = candidate
            break
    post_id = el.get("data-post") or (url_post_id(link, ctx.options) if link else None)
    if not post_id:
        if link is None:
            return None
        post_id = url_hash_id(link)
    return Card([el], link, post_id)


def _link_cards(scope: Any, ctx: PageContext) -> list[Card]:
    """Cards found by their links to post pages (semantic lists and flat runs of divs alike)."""
    host = urlsplit(ctx.url).netloc.lower()
    here = urldefrag(ctx.url)[0]
    anchors: dict[Any, str] = {}
    for a in scope.iter("a"):
        link = ctx.absolute(a.get("href"))
        if not link or link == here or urlsplit(link).netloc.lower() != host:
            continue
        if url_post_id(link, ctx.options) is not None:
            anchors[a] = link
    if len(set(anchors.values())) < ctx.options.min_cards:
        return []
    urls_in: dict[Any, set[str]] = defaultdict(set)
    for a, link in anchors.items():
        for el in (a, *a.iterancestors()):
            urls_in[el].add(link)
            if el is scope:
                break
    # Each anchor's card piece: its highest ancestor holding links to its URL only.
    parents: dict[str, list[Any]] = defaultdict(list)
    for a, link in anchors.items():
        el = a
        while el.getparent() is not None and el.getparent() is not scope.getparent():
            if len(urls_in[el.getparent()]) != 1:
                break
            el = el.getparent()
        if el.getparent() is not None:
            parents[link].append(el.getparent())
    position = {el: i for i, el in enumerate(scope.iter())}
    runs: dict[str, list[Any]] = {}
    last_runs: list[list[Any]] = []
    for parent in sorted({p for ps in parents.values() for p in ps}, key=position.__getitem__):
        current: str | None = None
        last: list[Any] | None = None
        for child in parent:
            if not isinstance(child.tag, str):
                continue
            inside = urls_in.get(child, set())
            if len(inside) == 1:
                (link,) = inside
                current = link if link not in runs or current == link else None
                if current is not None:
                    last = runs.setdefault(current, [])
                    last.append(child)
            elif inside:
                current = None
            elif current is not None:
                runs[current].append(child)
        if last is not None:
            last_runs.append(last)
    if len(runs) < ctx.options.min_cards:
        return []
    _trim_trailing(list(runs.values()), last_runs)
    order = {link: i for i, link in enumerate(dict.fromkeys(anchors.values()))}
    return [
        Card(elements, link, url_post_id(link, ctx.options) or url_hash_id(link))
        for link, elements in sorted(runs.items(), key=lambda item: order[item[0]])
    ]


def _trim_trailing(runs: list[list[Any]], last_runs: list[list[Any]]) -> None:
    """The last card of a flat run also swallows what follows it (a footer): cut it to size."""
    others = [len(run) for run in runs if not any(run is last for last in last_runs)]
    if not others:
        return
    typical = max(int(statistics.median(others)), 1)
    for run in last_runs:
        if len(run) > typical:
            del run[typical:]


def _card_text(card: Card) -> str:
    return "\n".join(line.text for el in card.elements for line in html.render(el))


def is_listing(
    body: Any, cards: list[Card], has_own_id: bool, ctx: PageContext, marked: bool
) -> bool:
    options = ctx.options
    if len(cards) < options.min_cards:
        return False
    if marked:
        return True
    total = len(html.squash(html.text_of(body)))
    sizes = [len(html.squash(_card_text(card))) for card in cards]
    in_cards = sum(sizes)
    # Cards are alike: when one holds most of the text, it is a post with links around it.
    if not in_cards or max(sizes) > (0.5 if len(cards) >= 3 else 0.7) * in_cards:
        return False
    share = options.card_share_on_post_page if has_own_id else options.card_share
    return total > 0 and in_cards / total >= share


def card_post(card: Card, channel: str, ctx: PageContext) -> Post | None:
    options = ctx.options
    lines = [line for el in card.elements for line in html.render(el)]
    title = None
    title_selector = options.selector("title")
    for el in card.elements:
        found = title_selector(el) if title_selector is not None else []
        if not found:
            found = [h for h in el.iter() if html.tag(h) in html.HEADINGS]
        if found:
            title = html.text_of(found[0])
            break
    if title is None and card.url:
        texts = [
            html.text_of(a)
            for el in card.elements
            for a in el.iter("a")
            if ctx.absolute(a.get("href")) == card.url
        ]
        title = max(texts, key=len, default="") or None
    published = element_time(card.elements, ctx)
    kept = []
    title_key = html.squash(title) if title else None
    for line in lines:
        if title_key and html.squash(line.text) == title_key:
            title_key = None  # the title is a field, not text
            continue
        rule = rule_for(line.text, options.page_line_patterns)
        if rule:
            published = published or find_time(line.text, options.timezone)
            continue
        kept.append(line.text)
    if not kept and not title:
        return None
    return Post(
        channel=channel,
        post_id=card.post_id,
        url=card.url or ctx.url,
        source_url=ctx.url,
        published_at=published,
        title=title or None,
        raw_text="\n".join(kept),
        media=media_of(card.elements, ctx),
        excerpt=True,
    )
