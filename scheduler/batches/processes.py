"""Crawl processes for scheduled batches: started ahead of need, handed a batch, stopped politely.

A Scrapy crawl cannot run twice in one process (its reactor cannot
restart), and a crawl that hangs or crashes must not take the scheduler
with it: every batch is crawled by a child process (``python -m
crawler.batch``). Such a process spends about a second importing Scrapy
before it can crawl, so :class:`CrawlProcesses` keeps one started ahead:
the next batch goes to a process that is already warm.

Children run in their own session (a Ctrl-C at the terminal reaches the
scheduler, which stops them itself) and write their output to a temporary
file, whose last line explains a crash.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any

#: The command of a batch crawl process.
BATCH_COMMAND = [sys.executable, "-m", "crawler.batch"]
#: Seconds a process started ahead may wait for a batch before it is dismissed.
WARM_IDLE = 60.0


class CrawlProcess:
    """One child crawl process: started at once, given its batch later."""

    def __init__(self) -> None:
        self._out = tempfile.TemporaryFile()
        self.error: str | None = None
        self.started = time.monotonic()
        try:
            self.proc: subprocess.Popen | None = subprocess.Popen(
                BATCH_COMMAND,
                stdin=subprocess.PIPE,
                stdout=self._out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # our signals reach it only through us
            )
        except OSError as exc:
            self.proc = None
            self.error = f"could not start the crawl process: {exc}"

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def hand(self, spec: dict[str, Any]) -> bool:
        """Give the process its batch; False (and :attr:`error` set) when it cannot take it."""
        if self.proc is None:
            return False
        try:
            self.proc.stdin.write(json.dumps(spec).encode() + b"\n")
            self.proc.stdin.close()
        except OSError as exc:  # it died while waiting (BrokenPipeError)
            self.error = f"the crawl process had ended before its batch: {exc}"
            return False
        return True

    def returncode(self, timeout: float | None = 0) -> int | None:
        """Its exit status; None while it runs (waiting up to ``timeout`` seconds)."""
        if self.proc is None:
            return None
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, grace: float) -> None:
        """SIGTERM (Scrapy closes the crawl cleanly), then SIGKILL after ``grace`` seconds."""
        if not self.alive():
            return
        try:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        except ProcessLookupError:
            pass

    def dismiss(self) -> None:
        """Not needed after all: it was given no batch, holds nothing, and is killed."""
        if self.proc is not None and self.alive():
            self.proc.kill()
            self.proc.wait()
        self.close()

    def last_line(self, limit: int = 4000) -> str:
        """The last line it wrote (a traceback's last line says why it crashed)."""
        try:
            self._out.seek(0, os.SEEK_END)
            size = self._out.tell()
            self._out.seek(max(0, size - limit))
            text = self._out.read().decode("utf-8", "replace")
        except (OSError, ValueError):
            return ""
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        return lines[-1] if lines else ""

    def close(self) -> None:
        if self.proc is not None and self.proc.stdin and not self.proc.stdin.closed:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
        self._out.close()


class CrawlProcesses:
    """Hands out crawl processes, keeping one warm for the next batch when asked to."""

    def __init__(self) -> None:
        self._warm: CrawlProcess | None = None
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        """Start a process now, for a batch that is coming."""
        with self._lock:
            if self._warm is None or not self._warm.alive():
                if self._warm is not None:
                    self._warm.close()
                self._warm = CrawlProcess()

    def tidy(self, idle: float = WARM_IDLE) -> float | None:
        """Dismiss the warm process if it waited ``idle`` seconds; seconds until it will, if any."""
        with self._lock:
            warm = self._warm
            if warm is None:
                return None
            left = warm.started + idle - time.monotonic()
            if left > 0:
                return left
            self._warm = None
        warm.dismiss()
        return None

    def take(self) -> CrawlProcess:
        """A process for a batch: the warm one if there is one, else a new one."""
        with self._lock:
            process, self._warm = self._warm, None
        if process is not None and process.alive():
            return process
        if process is not None:
            process.close()
        return CrawlProcess()

    def close(self) -> None:
        """Dismiss the warm process, if any."""
        with self._lock:
            process, self._warm = self._warm, None
        if process is not None:
            process.dismiss()
