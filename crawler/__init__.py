"""The crawler: Scrapy fetching channel pages into the archive, here or across many machines.

Holds: the crawl options (:mod:`.options`, the one type a crawl's options
travel in), the items and their record forms (:mod:`.items`), a crawl's state
(:mod:`.state`), the archive as the spider sees it (:mod:`.view`), the one
writer (:mod:`.writer`), running a crawl in this process (:mod:`.local`;
:mod:`.batch` for the scheduler's crawl processes; a stop that takes
seconds, whatever the delays: :mod:`.stopping`), what a fetch gave in the
archive's terms (:mod:`.responses`), which addresses a crawl may reach
(:mod:`.addresses`) and the resolver every connection goes through
(:mod:`.resolver`), what a side fetch is and how one ends early
(:mod:`.sidefetches`), Scrapy's settings (:mod:`.settings`), and by Scrapy
component: the spider (:mod:`.spiders`), where a crawl goes next and what else
it fetches (:mod:`.plans`), downloader middlewares
(:mod:`.downloadermiddlewares`), the download handler (:mod:`.handlers`), the
pipeline (:mod:`.pipelines`), extensions (:mod:`.extensions`); and the
distributed crawl (:mod:`.distributed`).

May import: :mod:`archive` (the library: models, errors, times, source,
clean, extract, store). Never the scheduler or the command line.

How a local crawl flows: :func:`crawler.local.run_crawl` begins a crawl row
per source and runs the spider on a :class:`~crawler.state.CrawlState`; each
page is parsed into a :class:`~crawler.items.PageItem`, written by the
pipeline through the :class:`~crawler.writer.ArchiveWriter`, which returns
the side requests (media, deletion checks) the page leads to; a source's
row closes when nothing of it is outstanding.
"""
