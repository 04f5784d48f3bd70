"""The scheduler: periodic crawls of the sources kept in the archive (``chanarchive sources``,
``chanarchive scheduler run``).

Holds: the scheduled sources and their schedules (:mod:`scheduler.sources`);
planning due sources into batches and running them, here or through the
workers of a Redis (:mod:`scheduler.batches`); telling people what a
scheduled crawl changed (:mod:`scheduler.notify`); and the APScheduler
service that runs it all on one archive (:mod:`scheduler.service`).
Each room's ``__init__`` says what it may import; the rooms import in that
order, each only the ones before it (``sources`` none, ``service`` all).
The archive file is written only through :mod:`archive.store`; the
command line is a layer over the scheduler and is never imported by it.

May import: :mod:`archive.errors`, :mod:`archive.export.cells`, :mod:`archive.models`,
:mod:`archive.query.changes`, :mod:`archive.query.search`, :mod:`archive.source`,
:mod:`archive.store`,
:mod:`archive.times`, :mod:`crawler.options`,
:mod:`crawler.distributed.frontier`, :mod:`crawler.distributed.jobs`.
"""
