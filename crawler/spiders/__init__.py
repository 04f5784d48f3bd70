"""The spider (Scrapy's ``SPIDER_MODULES``).

Holds: :class:`~crawler.spiders.channels.ChannelSpider`, which fetches and
parses channel pages and yields items; it never writes the archive.

May import: :mod:`archive.errors`, :mod:`archive.extract`,
:mod:`archive.models`, :mod:`archive.source`, :mod:`crawler.items`,
:mod:`crawler.options`, :mod:`crawler.plans`, :mod:`crawler.responses`,
:mod:`crawler.state`, :mod:`crawler.stopping`.
"""
