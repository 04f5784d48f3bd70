"""Requests as the shared queue holds them: each one carries the crawl it belongs to.

A local crawl keeps its crawl in memory; a worker serves many crawls, and
the next page of a walk may be parsed by another worker, so every queued
request carries its crawl in ``meta`` as plain JSON:

- ``meta["crawl"]``: the :class:`CrawlContext` — the crawl id, its source
  and its options (:class:`~crawler.options.CrawlOptions`, as a record);
- ``meta["walk"]``: a Telegram walk's id ranges known to be archived;
- ``meta["channel"]``: the Telegram channel the source's pages must list;
- ``meta["rkey"]``: the request's name within its crawl (the duplicate filter).

The ingester makes a crawl's seed (:func:`seed_child`) and the side requests
the writer plans (:func:`side_child`); a worker makes the children of the
request it handled (:func:`child`). All three go through :func:`child`, so a
queued request always has the same shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import scrapy

from archive.errors import BadRecord
from archive.source import Source, parse_source

from ..options import CrawlOptions
from ..spiders.channels import page_meta
from ..writer import side_callbacks
from . import serialize
from .frontier import Child, request_key


@dataclass(frozen=True)
class CrawlContext:
    """The crawl a queued request belongs to."""

    id: int
    source: Source
    options: CrawlOptions

    def to_meta(self) -> dict[str, Any]:
        return {"id": self.id, "source": self.source.key, "options": self.options.to_record()}

    @classmethod
    def from_meta(cls, meta: dict[str, Any]) -> CrawlContext:
        """The context in a request's ``meta``; :class:`BadRecord` when it is not one."""
        ctx = meta.get("crawl")
        if not isinstance(ctx, dict):
            raise BadRecord("a queued request without its crawl")
        crawl_id, key = ctx.get("id"), ctx.get("source")
        if isinstance(crawl_id, bool) or not isinstance(crawl_id, int) or crawl_id < 1:
            raise BadRecord(f"a queued request of no crawl ({crawl_id!r})"[:200])
        if not isinstance(key, str):
            raise BadRecord("a queued request of no source")
        return cls(crawl_id, parse_source(key), CrawlOptions.from_record(ctx.get("options")))


def child(
    request: scrapy.Request,
    context: CrawlContext,
    *,
    callback: str,
    errback: str,
    spider: scrapy.Spider | None = None,
    **meta: Any,
) -> Child:
    """``request`` of crawl ``context`` ready to enqueue, its callbacks named by ``callback``
    and ``errback`` (methods of the worker's spider)."""
    request.meta["crawl"] = context.to_meta()
    request.meta.update({name: value for name, value in meta.items() if value is not None})
    request.meta["rkey"] = request_key(request.method, request.url)
    data = request.to_dict(spider=spider)
    data["callback"], data["errback"] = callback, errback
    return Child(request.meta["rkey"], -request.priority, serialize.dumps(data))


def seed_child(context: CrawlContext) -> Child:
    """A crawl's first request, as the local spider's ``start`` makes it, ready to enqueue."""
    source = context.source
    request = scrapy.Request(
        source.url,
        meta=page_meta(source.kind, source=source.key, depth=0, before=None),
        dont_filter=True,
    )
    return child(request, context, callback="parse", errback="on_error", channel=source.name)


def side_child(request: scrapy.Request, context: CrawlContext) -> Child:
    """A side request the writer planned (a media file, a deletion check), ready to enqueue."""
    callback, errback = side_callbacks(request)
    return child(request, context, callback=callback, errback=errback)


def context_of(crawl_id: int, source_key: str, options: CrawlOptions) -> CrawlContext:
    """The context of crawl ``crawl_id`` of source ``source_key``."""
    return CrawlContext(crawl_id, parse_source(source_key), options)
