"""A worker's settings, and the Scrapy internals it leans on (pinned here, so an upgrade says so)."""

from __future__ import annotations

from scrapy.core.downloader import Slot
from scrapy.core.engine import ExecutionEngine

from crawler.distributed.worker import worker_settings

URL = "redis://127.0.0.1:6379/0"


def test_the_cluster_scope_applies_the_delays_across_workers_instead_of_in_each():
    settings = worker_settings(URL, {"DOWNLOAD_DELAY": "0.5"})
    assert settings.getfloat("CHANARCHIVE_HOST_DELAY") == 0.5
    assert settings.getdict("CHANARCHIVE_HOST_DELAYS")["t.me"] == 1.5
    assert settings.getfloat("DOWNLOAD_DELAY") == 0
    assert settings.getdict("DOWNLOAD_SLOTS")["t.me"] == {"concurrency": 1, "delay": 0}
    assert settings.getbool("SCHEDULER_PERSIST") is True  # a stopping worker flushes nothing
    assert settings.getdict("ITEM_PIPELINES") == {
        "crawler.distributed.pipeline.DeliveryPipeline": 300
    }


def test_the_worker_scope_keeps_each_worker_polite_on_its_own():
    settings = worker_settings(URL, {"POLITENESS_SCOPE": "worker"})
    assert settings.getfloat("DOWNLOAD_DELAY") == 1.0
    assert settings.getdict("DOWNLOAD_SLOTS")["t.me"]["delay"] == 1.5


def test_the_scrapy_internals_a_worker_uses_are_there():
    # An idle worker polls the queue at this interval; a download slot's queue tells
    # that a request of this worker waits, so it leases no more meanwhile.
    assert isinstance(ExecutionEngine._SLOT_HEARTBEAT_INTERVAL, float)
    assert hasattr(Slot(1, 0, 0), "queue")
