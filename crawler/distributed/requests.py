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
request it handled (:func:`child`), and puts a retried or redirected one
back (:func:`queued_form`). All of them are written by :func:`queued_form`,
so a queued request always has the same shape.

A queued request is read back only through :func:`read_request`, whoever
wrote it: its JSON is checked against the schema (:mod:`.request_schema`:
known keys only, each of its type and size; a GET of an http(s) URL; a
callback pair the spider answers with) and its crawl context, and the Scrapy
request is built here from the checked values. Nothing from the queue names
a class to load or a method to call. :class:`~.request_schema.BadRequest`
says what does not fit; :func:`refusal_of` finds the crawl and request key
of a refused one, if it names them, so its lease can be answered.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import scrapy

from archive.errors import BadInput, BadRecord
from archive.source import Source, parse_source

from ..options import CrawlOptions
from ..spiders.channels import page_meta
from ..writer import side_callbacks
from . import serialize
from .frontier import RKEY, Child, request_key
from .request_schema import (
    CALLBACKS,
    LOCAL_META,
    MAX_REQUEST,
    MAX_URL,
    META,
    REQUEST_KEYS,
    REQUIRED_META,
    BadRequest,
    cookies_of,
    fail,
    flag,
    headers_of,
    http_url,
    text,
    whole,
)


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
        ctx = meta.get("crawl") if isinstance(meta, dict) else None
        if not isinstance(ctx, dict):
            raise BadRecord("a queued request without its crawl")
        unknown = sorted(str(k) for k in ctx if k not in ("id", "source", "options"))
        if unknown:
            raise BadRecord(f"a queued request's crawl with an unknown key {unknown[0]!r}"[:200])
        crawl_id, key = _crawl_id(ctx), ctx.get("source")
        if crawl_id is None:
            raise BadRecord(f"a queued request of no crawl ({ctx.get('id')!r})"[:200])
        if not isinstance(key, str) or len(key) > MAX_URL:
            raise BadRecord("a queued request of no source")
        return cls(crawl_id, parse_source(key), CrawlOptions.from_queue(ctx.get("options")))


def _crawl_id(ctx: Any) -> int | None:
    crawl_id = ctx.get("id") if isinstance(ctx, dict) else None
    if isinstance(crawl_id, bool) or not isinstance(crawl_id, int) or not 1 <= crawl_id < 2**63:
        return None
    return crawl_id


# ------------------------------------------------------------------ writing


def queued_form(
    request: scrapy.Request, *, callback: str | None = None, errback: str | None = None, spider=None
) -> dict[str, Any]:
    """``request`` as the queue holds it: the keys of :data:`REQUEST_KEYS` and the meta keys
    of :data:`META` only (Scrapy's and this worker's own bookkeeping is left out)."""
    data = request.to_dict(spider=spider)
    data.pop("_class", None)
    if callback is not None:
        data["callback"], data["errback"] = callback, errback
    data["meta"] = {k: v for k, v in data["meta"].items() if k in META}
    return {k: v for k, v in data.items() if k in REQUEST_KEYS}


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
    data = queued_form(request, callback=callback, errback=errback, spider=spider)
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


# ------------------------------------------------------------------ reading


def _meta(value: Any, kind: str) -> dict[str, Any]:
    """A request's checked meta, for a request of ``kind``, with the crawl it belongs to."""
    if not isinstance(value, dict):
        raise fail("meta", "must be an object")
    unknown = sorted(str(k) for k in value if k not in META and k not in LOCAL_META)
    if unknown:
        raise fail("meta", f"unknown key {unknown[0]!r}")
    for name in ("rkey", *REQUIRED_META[kind]):
        if name not in value:
            raise fail("meta", f"no {name!r} for a {kind} request")
    meta = {name: META[name](v, f"meta[{name!r}]") for name, v in value.items() if name in META}
    try:
        context = CrawlContext.from_meta(meta)
    except BadInput as exc:  # its source or options do not fit either
        raise fail("meta['crawl']", str(exc)) from None
    if meta["source"] != context.source.key:
        raise fail("meta['source']", f"{meta['source'][:100]!r} is not its crawl's source")
    return meta


def read_request(raw: Any, spider: scrapy.Spider) -> scrapy.Request:
    """The request a queue member (JSON from Redis) stands for, built from checked values;
    :class:`BadRequest` (a :class:`~archive.errors.BadRecord`) says what does not fit."""
    try:
        data = serialize.read_request_json(raw, limit=MAX_REQUEST)
    except BadRecord as exc:
        raise BadRequest(str(exc)) from None
    if not isinstance(data, dict):
        raise BadRequest("a queued request must be an object")
    if "_class" in data:
        raise fail("_class", "a queued request names no class: it is a plain GET")
    unknown = sorted(str(k) for k in data if k not in REQUEST_KEYS)
    if unknown:
        raise fail("request", f"unknown key {unknown[0]!r}")
    callback, errback = data.get("callback"), data.get("errback")
    pair = (callback, errback) if isinstance(callback, str) and isinstance(errback, str) else None
    kind = CALLBACKS.get(pair) if pair else None
    if kind is None:
        pair = (str(data.get("callback"))[:40], str(data.get("errback"))[:40])
        raise fail("callback", f"{pair} is not a callback pair of the spider")
    if data.get("method", "GET") != "GET":
        raise fail("method", f"only GET, not {str(data.get('method'))[:20]!r}")
    if data.get("body", b"") not in (b"", ""):
        raise fail("body", "a GET carries no body")
    if data.get("cb_kwargs") not in (None, {}):
        raise fail("cb_kwargs", "must be empty")
    if data.get("encoding", "utf-8") != "utf-8":
        raise fail("encoding", "must be utf-8")
    flags = data.get("flags") or []
    if not isinstance(flags, list) or len(flags) > 10:
        raise fail("flags", "must be a list of at most 10")
    meta = _meta(data.get("meta"), kind)
    return scrapy.Request(
        http_url(data.get("url"), "url"),
        callback=getattr(spider, callback),
        errback=getattr(spider, errback),
        method="GET",
        headers=headers_of(data.get("headers") or {}),
        cookies=cookies_of(data.get("cookies") or {}),
        meta=meta,
        encoding="utf-8",
        priority=whole(-(10**6), 10**6)(data.get("priority", 0), "priority"),
        dont_filter=flag(data.get("dont_filter", False), "dont_filter"),
        flags=[text(64)(one, "flags") for one in flags],
    )


@dataclass(frozen=True)
class Refusal:
    """What a refused queued request still names: its crawl and its key there, when readable."""

    crawl: int | None
    rkey: str | None


def refusal_of(raw: Any) -> Refusal:
    """The crawl and request key a refused queue member names (each None when unreadable)."""
    try:
        data = serialize.read_request_json(raw, limit=MAX_REQUEST)
    except BadRecord:
        return Refusal(None, None)
    meta = data.get("meta") if isinstance(data, dict) else None
    if not isinstance(meta, dict):
        return Refusal(None, None)
    rkey = meta.get("rkey")
    return Refusal(
        _crawl_id(meta.get("crawl")),
        rkey if isinstance(rkey, str) and RKEY.fullmatch(rkey) else None,
    )
