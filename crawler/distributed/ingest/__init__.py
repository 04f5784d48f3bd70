"""The ingester: the one writer of a distributed crawl (``chanarchive ingest``).

Holds: the ingester's loop (:mod:`.ingester`), its lock and the recovery of
what a previous ingester left (:mod:`.lock`), the crawls of its queue begun
from jobs and finished when done (:mod:`.crawls`), the deliveries written
in batches (:mod:`.batches`), and what a crawl asked for, which a delivery
must answer (:mod:`.asked`).

May import: :mod:`archive.errors`, :mod:`archive.models`, :mod:`archive.store`,
:mod:`crawler.items`, :mod:`crawler.writer`, :mod:`crawler.distributed.frontier`,
:mod:`crawler.distributed.jobs`, :mod:`crawler.distributed.deliveries`,
:mod:`crawler.distributed.requests`, :mod:`crawler.distributed.published`,
:mod:`crawler.distributed.serialize`, :mod:`crawler.distributed.archives`.
"""

from .crawls import IngestStats, queue_name
from .ingester import Ingester, IngestOptions
from .lock import IngesterBusy

__all__ = ["IngestOptions", "IngestStats", "Ingester", "IngesterBusy", "queue_name"]
