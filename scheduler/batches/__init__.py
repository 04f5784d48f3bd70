"""Planning due sources into batches and running them: one crawl process a batch, or the workers.

Holds: what the rounds and the runners share — a batch, one source's run
of it, and the one interface of a runner, :class:`~.runner.BatchRunner`
(:mod:`.runner`); planning batches and holding backed-off hosts
(:mod:`.planning`); the rounds that gather due sources, plan them and run
each batch in a thread (:mod:`.rounds`); the local runner, each batch
crawled by a child process (:mod:`.local`, :mod:`.processes`); and the
Redis runner, each batch queued for the workers (:mod:`.remote`). The
scheduler service picks the runner once, when it starts.

May import: :mod:`scheduler.sources`, :mod:`archive.errors`, :mod:`archive.models`,
:mod:`archive.source`, :mod:`archive.store`, :mod:`archive.times`,
:mod:`crawler.options`, :mod:`crawler.distributed.frontier`,
:mod:`crawler.distributed.jobs`.
"""
