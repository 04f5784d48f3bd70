"""Download handlers (Scrapy's ``DOWNLOAD_HANDLERS``).

Holds: the http(s) handler every crawl and worker downloads through, Scrapy's
own with a side fetch's time bounded (:mod:`.http`).

May import: :mod:`crawler.sidefetches`, :mod:`crawler.downloadermiddlewares` (the
breaker it asks before a side fetch is sent).
"""
