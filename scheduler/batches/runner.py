"""What the rounds and the runners share: a batch, what one source's run of it came to, and
the one interface every runner has (:class:`BatchRunner`).

The rounds plan batches and hand each to the runner the service chose
when it started: the local runner crawls it in a child process
(:mod:`.local`), the Redis runner queues it for the workers
(:mod:`.remote`). Either way each source of the batch ends as its own
``crawls`` row, reported once through ``finished`` the moment it is closed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from archive.models import OK
from archive.times import to_datetime

from ..sources.scheduled import ScheduledSource

#: The ``crawls.trigger`` of a scheduled run.
TRIGGER = "scheduled"
#: The reason a run cut short by the scheduler stopping ends with.
STOPPED = "stopped: the scheduler was stopped"


@dataclass
class Batch:
    """Sources crawled together by one process: the same crawl options, whole hosts."""

    number: int
    sources: list[ScheduledSource]
    time_limits: dict[str, float]

    @property
    def keys(self) -> list[str]:
        return [s.key for s in self.sources]

    @property
    def hosts(self) -> list[str]:
        return sorted({s.host for s in self.sources})

    def describe(self) -> str:
        hosts = self.hosts
        shown = ", ".join(hosts[:3]) + (f" and {len(hosts) - 3} more" if len(hosts) > 3 else "")
        sources = f"{len(self.sources)} source" + ("s" if len(self.sources) != 1 else "")
        return f"batch {self.number}: {sources} of {len(hosts)} host{'s' * (len(hosts) != 1)} ({shown})"


@dataclass
class RunOutcome:
    """What one scheduled run of a source did: its ``crawls`` row and how it ended."""

    key: str
    status: str  # ok / partial / failed
    reason: str | None
    duration: float
    rows: list[dict[str, Any]] = field(default_factory=list)
    returncode: int | None = None

    @classmethod
    def from_row(cls, key: str, row: dict[str, Any], returncode: int | None = None) -> RunOutcome:
        started = to_datetime(row["started_at"])
        finished = to_datetime(row.get("finished_at"))
        duration = (finished - started).total_seconds() if started and finished else 0.0
        return cls(key, row["status"], row.get("reason"), max(duration, 0.0), [row], returncode)

    def totals(self) -> dict[str, int]:
        keys = ("pages", "posts_new", "posts_changed", "posts_unchanged", "posts_deleted", "errors")
        return {k: sum(int(r.get(k) or 0) for r in self.rows) for k in keys}

    def summary(self) -> str:
        """One log line: source, status, pages, new/changed/deleted, duration (and why)."""
        t = self.totals()
        line = (
            f"{self.key}: {self.status}, {t['pages']} pages, {t['posts_new']} new / "
            f"{t['posts_changed']} changed / {t['posts_deleted']} deleted, "
            f"{t['errors']} errors, {self.duration:.1f}s"
        )
        if self.reason and self.status != OK:
            line += f" ({self.reason})"
        return line


#: What a run's end is told: its outcome, or None when it did not run.
Done = Callable[[RunOutcome | None], None]

#: ``finished(source, row, returncode)``: a source of a running batch ended; ``row`` is its
#: closed ``crawls`` row, ``returncode`` its crawl process's exit status when it is known.
Finished = Callable[[ScheduledSource, dict[str, Any], int | None], None]


class BatchRunner(Protocol):
    """Crawls the batches the rounds plan: one runner per scheduler, chosen when it starts."""

    def warm_up(self) -> None:
        """A batch is coming: get ready for it (start a crawl process ahead)."""

    def tidy(self) -> float | None:
        """Between batches: let go of what waited too long; seconds until that is due, if any."""

    def launch(self, batch: Batch, *, more: bool) -> None:
        """``batch`` is about to run (before its thread starts); ``more``: other sources wait."""

    def run(self, batch: Batch, *, finished: Finished, stop: threading.Event) -> None:
        """Crawl ``batch`` (in its own thread): ``finished`` once per source, ``stop`` cuts it short."""

    def close(self) -> None:
        """The scheduler stops: let go of everything held for batches not launched."""
