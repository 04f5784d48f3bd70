"""Scrapy extensions (Scrapy's ``EXTENSIONS``).

Holds: the progress line on the terminal (:mod:`.progress`).

May import: :mod:`crawler.items`.
"""
