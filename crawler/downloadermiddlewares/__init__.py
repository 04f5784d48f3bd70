"""Downloader middlewares (Scrapy's ``DOWNLOADER_MIDDLEWARES``).

Holds: the check that a request reaches only public addresses or its crawl's
own sources, before it is sent and when it connects (:mod:`.reach`), the host
backoff on 429 / 5xx / ``Retry-After`` / Telegram's empty page, shared with
every crawl through the archive (:mod:`.backoff`), the host breaker and the
failures that are not retried (:mod:`.breaker`), and each source's crawl row
closed when it is done or at its time limit (:mod:`.lifecycle`).

May import: :mod:`archive.store`, :mod:`crawler.state`,
:mod:`crawler.addresses`, :mod:`crawler.resolver`, :mod:`crawler.responses`,
:mod:`crawler.sidefetches`.
"""
