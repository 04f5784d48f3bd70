"""A crawl spread over many machines: Redis holds the frontier, one ingester writes the archive.

Holds: the Redis key names and atomic scripts (:mod:`.frontier`), the
request serializer and the one reader of JSON from Redis (:mod:`.serialize`),
requests as queued with the crawl they belong to (:mod:`.requests`) and
their schema (:mod:`.request_schema`), jobs and waiting for their rows
(:mod:`.jobs`), deliveries and their checked records (:mod:`.deliveries`),
what workers need to crawl incrementally (:mod:`.published`), which archive
the ingester writes (:mod:`.archives`), the worker
(:mod:`.worker`) and the ingester (:mod:`.ingest`).

May import: :mod:`archive.errors`, :mod:`archive.models`, :mod:`archive.source`,
:mod:`archive.store`, :mod:`archive.times`, :mod:`crawler.items`,
:mod:`crawler.options`, :mod:`crawler.plans`, :mod:`crawler.spiders`,
:mod:`crawler.writer`. Nothing here imports the scheduler or the command line.

How a crawl flows: ``crawl --redis`` (or ``scheduler run --redis``) pushes
a *job* per source. The ingester turns a job into a ``crawls`` row and the
seed request. Workers lease requests, fetch and parse them exactly as a
local crawl does, and hand back one *delivery* per request: the items it
produced plus its child requests, pushed in one atomic step that also
acknowledges the lease. The ingester writes each delivery once through the
crawl's one writer (:class:`crawler.writer.ArchiveWriter`), queues the side
requests the writer plans (media files, deletion checks), and finishes the
crawl row when no request of the crawl is left.

Redis is a boundary: whatever comes out of it is read at one door per kind
and checked before it is used — a job by :func:`.jobs.read_job`, a queued
request by :func:`.requests.read_request` (which builds the Scrapy request
itself), a delivery by :func:`.deliveries.read_delivery` and
:func:`.ingest.asked.check_asked`, what the ingester published by
:mod:`.published`. One that does not fit is dropped, answered and counted,
never a crash or a stuck lease.
"""
