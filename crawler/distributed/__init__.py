"""A crawl spread over many machines: Redis holds the frontier, one ingester writes the archive.

Holds: the Redis key names and atomic scripts (:mod:`.frontier`), the
request serializer (:mod:`.serialize`), the scrapy-redis scheduler and queue
that lease requests to a worker (:mod:`.scheduler`), the worker's spider
(:mod:`.spider`), its item pipeline (:mod:`.pipeline`), its heartbeat
(:mod:`.leases`) and its politeness across workers (:mod:`.politeness`),
the worker process (:mod:`.worker`), the ingester (:mod:`.ingest`) and the
submitting side (:mod:`.submit`: enqueue crawls, wait for their rows).

May import: :mod:`archive` (models, source, store), the rest of
:mod:`crawler`, scrapy, scrapy_redis and redis. Nothing here imports the
scheduler or the command line.

How a crawl flows: ``crawl --redis`` (or ``scheduler run --redis``) pushes
a *job* per source. The ingester turns a job into a ``crawls`` row and the
seed request. Workers lease requests, fetch and parse them exactly as a
local crawl does, and hand back one *delivery* per request: the pages and
errors it produced plus its child requests, pushed in one atomic step that
also acknowledges the lease. The ingester writes each delivery once through
:func:`archive.store.ingest_page`, and finishes the crawl row when no
request of the crawl is left.
"""
