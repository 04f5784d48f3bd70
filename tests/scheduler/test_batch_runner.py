"""One door for running batches: the service picks its runner once; the rounds use only that."""

from __future__ import annotations

import threading

from archive.store import open_archive
from archive.times import utcnow
from scheduler.batches.local import LocalRunner
from scheduler.batches.remote import RedisRunner
from scheduler.batches.rounds import Rounds
from scheduler.batches.runner import Batch, Finished, RunOutcome
from scheduler.service import Service, ServiceOptions
from scheduler.sources.edit import add_source
from scheduler.sources.schedules import Schedule


def test_a_scheduler_with_a_redis_url_queues_its_batches_and_one_without_crawls_them(tmp_path):
    db = tmp_path / "archive.db"
    here = Service(db, ServiceOptions(stop_grace=2.0)).rounds.runner
    assert isinstance(here, LocalRunner) and here.stop_grace == 2.0
    queued = Service(db, ServiceOptions(redis="redis://127.0.0.1:1/0")).rounds.runner
    assert isinstance(queued, RedisRunner) and queued.redis_url == "redis://127.0.0.1:1/0"
    # The workers need nothing started ahead (nor is the Redis reached before a batch runs).
    queued.warm_up()
    assert queued.tidy() is None
    queued.close()
    assert not db.exists()  # choosing touched no archive


class Recorder:
    """A runner that closes each source's row at once, and remembers what it was asked."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int | list[str]]] = []

    def warm_up(self) -> None:
        self.calls.append(("warm_up", 0))

    def tidy(self) -> float | None:
        return None

    def launch(self, batch: Batch, *, more: bool) -> None:
        self.calls.append(("launch", batch.keys))

    def run(self, batch: Batch, *, finished: Finished, stop: threading.Event) -> None:
        self.calls.append(("run", batch.keys))
        for source in batch.sources:
            now = utcnow()
            row = {"started_at": now, "finished_at": now, "status": "ok", "pages": 1}
            finished(source, row, None)

    def close(self) -> None:
        self.calls.append(("close", 0))


def test_the_rounds_run_every_batch_through_their_runner(tmp_path):
    path = tmp_path / "archive.db"
    db = open_archive(path)
    for name in ("one", "two"):
        add_source(db, f"@{name}", Schedule(every=3600))
    db.close()
    runner, stop = Recorder(), threading.Event()
    finished: list[tuple[str, str]] = []
    outcomes: dict[str, RunOutcome | None] = {}
    ended = threading.Event()

    def done(key: str):
        def tell(outcome: RunOutcome | None) -> None:
            outcomes[key] = outcome
            if len(outcomes) == 2:
                ended.set()

        return tell

    rounds = Rounds(
        str(path),
        runner,
        stop=stop,
        finished=lambda source, outcome: finished.append((source.key, outcome.status)),
        gather=30.0,  # planned at the flush, both together
    )
    rounds.start()
    rounds.submit("@one", done("@one"))
    rounds.submit("@two", done("@two"))
    rounds.flush()
    assert ended.wait(30)
    stop.set()
    rounds.close()
    assert sorted(finished) == [("@one", "ok"), ("@two", "ok")]
    assert {key: outcome.status for key, outcome in outcomes.items()} == {
        "@one": "ok",
        "@two": "ok",
    }
    # One batch (both sources are of t.me), launched then run, and the runner closed at the end.
    assert runner.calls == [
        ("launch", ["@one", "@two"]),
        ("run", ["@one", "@two"]),
        ("close", 0),
    ]
