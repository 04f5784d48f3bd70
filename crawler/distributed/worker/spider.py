"""The worker's spider: the local :class:`~crawler.spiders.channels.ChannelSpider`, one request
at a time, each in the crawl its request carries.

Each callback rebuilds the request's crawl as a fresh
:class:`~crawler.state.CrawlState` from its metadata
(:class:`~crawler.distributed.requests.CrawlContext`, the Telegram walk's
ranges, the channel), runs the local spider's own code on it (same parsing,
same walks, same decisions), and returns one :class:`Delivery`: the items of
the request, and the requests it leads to. No state survives from one
request to the next, so nothing of one crawl can leak into another. The
duplicate filter and the page budget are applied in Redis when the delivery
is pushed; what the archive holds comes from what the ingester published
(:class:`~crawler.distributed.published.PublishedView`).
"""

from __future__ import annotations

import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider

from archive.errors import BadInput
from archive.models import CHECK_FAILED, ERROR_PARSE, MediaFetch, MediaRef
from archive.source import Source
from archive.times import utcnow

from ...items import ITEM_TYPES, CheckItem, ErrorItem, MediaItem
from ...options import CrawlOptions
from ...plans.walks import TelegramWalk
from ...spiders.channels import ChannelSpider
from ...state import CrawlState
from ...view import ArchiveView, EmptyView
from ..deliveries import Delivery
from ..published import PublishedView
from ..requests import CrawlContext, child

ITEMS = tuple(ITEM_TYPES.values())


class WorkerSpider(ChannelSpider):
    name = "channels"

    def __init__(self, link=None, **kwargs):
        super().__init__(state=None, **kwargs)
        self.link = link
        self.view: ArchiveView = PublishedView(link.frontier) if link is not None else EmptyView()

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.idle, signal=signals.spider_idle)
        return spider

    def idle(self, spider=None):
        raise DontCloseSpider  # other workers may still queue requests: wait for them

    async def start(self):
        return  # every request comes from the shared queue
        yield  # pragma: no cover

    def crawl_state(self, request: scrapy.Request) -> CrawlState:
        """The crawl of ``request``, rebuilt from its metadata alone."""
        meta = request.meta
        context = CrawlContext.from_meta(meta)
        key = context.source.key
        state = CrawlState(
            [context.source],
            context.options,
            view=self.view,
            crawl_ids={key: context.id},
            budgeted=False,  # the budget is kept in Redis, for the whole crawl
            backfill=False,  # a walk in windows keeps its state in one process only
        )
        channel = meta.get("channel") or context.source.name
        if channel:
            state.channel_names[key] = channel
        walk = meta.get("walk")
        if walk is not None:
            covered = [(int(lo), int(hi)) for lo, hi in walk]
            options = context.options
            state.telegram_walks[key] = TelegramWalk(
                covered, full=options.full, since=options.since
            )
        return state

    def source_of(self, request: scrapy.Request) -> tuple[Source, CrawlOptions] | None:
        """The source of the crawl ``request`` carries, and that crawl's options; None for a
        request that carries none (the robots.txt Scrapy asks for)."""
        try:
            context = CrawlContext.from_meta(request.meta)
        except BadInput:
            return None
        return context.source, context.options

    def crawl_key(self, request: scrapy.Request) -> int | None:
        """The id of the crawl ``request`` carries (None: it carries none, as robots.txt)."""
        try:
            return CrawlContext.from_meta(request.meta).id
        except BadInput:
            return None

    @property
    def trusts_sources(self) -> bool:
        """Whether a source's own origin may be a private address, and a crawl may allow
        private hosts: only when this worker's operator said so (``worker
        --allow-private-hosts``), since anyone who writes to Redis names sources and options."""
        return self.crawler.settings.getbool("CHANARCHIVE_ALLOW_PRIVATE_HOSTS")

    def _handle(self, request: scrapy.Request, produce) -> list[Delivery]:
        """The local spider's callback, made into this request's one delivery, whatever happens.

        A leased request that ended in no delivery would hold its crawl open:
        a failure anywhere here is delivered as the request's failed item.
        """
        state = self.crawl_state(request)
        key = next(iter(state.sources))
        try:
            outputs = list(produce(state, key))
        except Exception as exc:
            self.logger.warning("Could not handle %s: %r", request.url, exc)
            outputs = [_failed(request, key, exc)]
        return [self._delivery(request, state, key, outputs)]

    def _delivery(self, request: scrapy.Request, state: CrawlState, key: str, outputs) -> Delivery:
        meta = request.meta
        context = CrawlContext.from_meta(meta)
        delivery = Delivery(
            crawl=context.id,
            rkey=meta["rkey"],
            lease=meta["lease"],
            source=key,
            max_pages=context.options.max_pages,
        )
        walk = state.telegram_walks.get(key)
        covered = [list(span) for span in walk.covered] if isinstance(walk, TelegramWalk) else None
        for out in outputs:
            if isinstance(out, scrapy.Request):
                delivery.children.append(
                    child(
                        out, context, callback=out.callback.__name__,
                        errback=out.errback.__name__, spider=self,
                        channel=state.channel_names.get(key), walk=covered,
                    )
                )  # fmt: skip
            elif isinstance(out, ITEMS):
                delivery.items.append(out)
        return delivery


def _failed(request: scrapy.Request, key: str, exc: Exception):
    """The item of a request whose handling failed: a side request's undecided answer
    (tried again later), else a parse error of the crawl."""
    meta, reason = request.meta, f"worker: {exc!r}"
    if "media_url" in meta:
        refs = [MediaRef(*ref) for ref in meta.get("media_refs") or []]
        return MediaItem(
            key, request.url, refs, MediaFetch(request.url, utcnow(), False, reason=reason)
        )
    if "check" in meta:
        channel, post_id = meta["check"]
        return CheckItem(key, channel, post_id, request.url, CHECK_FAILED, None, reason, utcnow())
    return ErrorItem(key, request.url, ERROR_PARSE, repr(exc))
