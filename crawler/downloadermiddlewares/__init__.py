"""Downloader middlewares (Scrapy's ``DOWNLOADER_MIDDLEWARES``).

Holds: the host backoff on 429 / 5xx / ``Retry-After`` / Telegram's empty
page, shared with every crawl through the archive (:mod:`.backoff`), and
each source's crawl row closed when it is done or at its time limit
(:mod:`.lifecycle`).

May import: :mod:`archive.store`, :mod:`crawler.state`.
"""
