"""Where a crawl goes next, and what else it fetches: plain decisions, no archive writes.

Holds: the pagination walks (:mod:`.walks`: a Telegram channel's
``?before=`` walk, a web site's links), the ``--full`` walk in windows
(:mod:`.backfill`), the ``--fill-gaps`` walk through a channel's holes
(:mod:`.gaps`), the media files a page's posts show (:mod:`.media`) and
the deletion checks of the posts a page no longer shows (:mod:`.checks`),
with the requests and items of both.

May import: :mod:`archive.extract`, :mod:`archive.models`,
:mod:`archive.store` (its :class:`~archive.store.MediaKnown` type only),
:mod:`archive.source`, :mod:`archive.times`, :mod:`crawler.items`,
:mod:`crawler.responses`, :mod:`crawler.sidefetches` (which failures are not tries).
"""
