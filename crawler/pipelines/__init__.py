"""Item pipelines (Scrapy's ``ITEM_PIPELINES``).

Holds: the local crawl's pipeline (:mod:`.archive`), which writes each item
through the one writer in a thread of its own.

May import: :mod:`archive.store`, :mod:`crawler.items`, :mod:`crawler.state`,
:mod:`crawler.writer`.
"""
