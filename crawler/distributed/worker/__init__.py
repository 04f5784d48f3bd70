"""A crawl worker (``chanarchive worker``): the local crawl's spider on a shared frontier.

Holds: the worker process and its settings (:mod:`.process`), its spider,
which rebuilds each request's crawl from its metadata (:mod:`.spider`), the
scrapy-redis scheduler and queue that lease requests to it
(:mod:`.scheduler`), the pipeline that pushes each request's delivery
(:mod:`.pipeline`), its identity and heartbeat (:mod:`.leases`), and its
politeness across workers (:mod:`.hostturns`).

May import: :mod:`archive.errors`, :mod:`archive.models`,
:mod:`archive.source`, :mod:`archive.times`, :mod:`crawler.items`,
:mod:`crawler.options`, :mod:`crawler.plans`, :mod:`crawler.spiders`,
:mod:`crawler.state`, :mod:`crawler.stopping`, :mod:`crawler.view`,
:mod:`crawler.downloadermiddlewares`, :mod:`crawler.distributed.frontier`,
:mod:`crawler.distributed.serialize`, :mod:`crawler.distributed.deliveries`,
:mod:`crawler.distributed.published`, :mod:`crawler.distributed.requests`.
"""
