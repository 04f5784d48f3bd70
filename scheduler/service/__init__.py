"""The scheduler service, ``chanarchive scheduler run``: APScheduler 3 on one archive.

Holds: the service — its life cycle, the jobs kept in step with the
``sources`` table, the end of every scheduled run (:mod:`.service`); the
job store beside the archive and the jobs in it (:mod:`.jobs`); the
executor that hands due sources to the rounds (:mod:`.executor`); and the
lock that keeps one scheduler per archive (:mod:`.lock`). The job
function, :func:`run_source`, is importable from here: every stored job
names it by this path, so the job store beside an archive keeps working
whichever module holds it.

May import: :mod:`scheduler.sources`, :mod:`scheduler.batches`,
:mod:`scheduler.notify`, :mod:`archive.errors`, :mod:`archive.models`,
:mod:`archive.store`, :mod:`archive.times`.
"""

from .service import Service, ServiceOptions, ServiceReport, run_source

__all__ = ["Service", "ServiceOptions", "ServiceReport", "run_source"]
